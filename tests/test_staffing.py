"""Erlang C / Erlang A staffing: the domain.md worked example, large centres, quiet intervals."""

import math

import pytest
from scipy.stats import poisson

from models.workforce.staffing import Target, erlang_a, erlang_c, required_agents, service_level

HALF_HOUR = 1800


def test_worked_example_13_agents_miss_14_meet_20_rostered():
    # domain.md: 100 calls per 30 min, AHT 180 s, 80% in 20 s, 30% shrinkage.
    target = Target(service_level=0.8, answer_within_s=20, shrinkage=0.3)
    assert round(service_level(13, 10.0, 180, 20), 4) == 0.7956
    plan = required_agents(100, 180, HALF_HOUR, target)
    assert plan.traffic == 10.0
    assert plan.agents == 14 and plan.rostered == 20
    assert round(plan.service_level, 4) == 0.8884
    assert round(plan.asa_s, 3) == 7.836
    assert round(plan.occupancy, 3) == 0.714


def _erlang_c_textbook(agents: int, load: float) -> float:
    """An independent formula: Erlang B as the truncated Poisson ratio, then Erlang C."""
    b = poisson.pmf(agents, load) / poisson.cdf(agents, load)
    return agents * b / (agents - load * (1 - b))


@pytest.mark.parametrize("load", [350.0, 800.0, 2500.0])
def test_several_hundred_erlangs_stay_exact_and_minimal(load):
    target = Target(service_level=0.9, answer_within_s=15, max_occupancy=1.0)
    calls = load * HALF_HOUR / 240
    plan = required_agents(calls, 240, HALF_HOUR, target)
    assert plan.traffic == pytest.approx(load)
    n = plan.agents
    assert erlang_c(n, load) == pytest.approx(_erlang_c_textbook(n, load), rel=1e-9)
    # The fewest agents: one fewer misses the target.
    assert plan.service_level >= 0.9 > service_level(n - 1, load, 240, 15)
    assert math.isfinite(plan.asa_s) and 0 < plan.occupancy < 1


def test_occupancy_cap_and_per_group_target_raise_the_count():
    loose = required_agents(3000, 180, HALF_HOUR, Target(max_occupancy=1.0))
    capped = required_agents(3000, 180, HALF_HOUR, Target(max_occupancy=0.85))
    strict = required_agents(3000, 180, HALF_HOUR,
                             Target(service_level=0.9, answer_within_s=15, max_occupancy=1.0))
    assert capped.occupancy <= 0.85 < loose.occupancy
    assert capped.agents > loose.agents and strict.agents > loose.agents


def test_an_interval_without_calls_needs_only_the_minimum_on_duty():
    assert required_agents(0, 180, HALF_HOUR, Target()).agents == 0
    quiet = required_agents(0, 0, HALF_HOUR, Target(min_agents=2, shrinkage=0.3))
    assert (quiet.agents, quiet.rostered, quiet.service_level) == (2, 3, 1.0)


def test_erlang_a_tends_to_erlang_c_and_hang_ups_lower_the_need():
    very_patient = erlang_a(14, 100, 180, HALF_HOUR, patience_s=1e7, within_s=20)
    assert very_patient.service_level == pytest.approx(service_level(14, 10.0, 180, 20), abs=1e-4)
    assert very_patient.abandon_rate < 1e-5
    impatient = Target(patience_s=60)
    plan = required_agents(100, 180, HALF_HOUR, impatient)
    assert plan.agents < 14 and 0 < plan.abandon_rate < 0.2
    assert plan.service_level >= 0.8
    # Even under-staffed (fewer agents than Erlangs) Erlang A stays finite.
    short = erlang_a(8, 100, 180, HALF_HOUR, patience_s=60, within_s=20)
    assert 0 < short.service_level < 0.8 and short.abandon_rate > 0.1
