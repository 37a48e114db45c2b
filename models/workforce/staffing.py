"""Staffing maths for one interval: Erlang C, and Erlang A where callers hang up. Pure.

Erlang B comes from its recurrence B(n) = A·B(n-1) / (n + A·B(n-1)), which never forms a factorial
or a power, so it stays exact for thousands of agents; Erlang C follows as C = n·B / (n - A·(1 - B)).
Erlang A (M/M/n+M) works on the birth-death chain in log space.
"""

import math
from dataclasses import dataclass

import numpy as np
from pydantic import ConfigDict, Field
from pydantic.dataclasses import dataclass as validated_dataclass
from scipy.special import betainc, gammaln, logsumexp


@validated_dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class Target:
    """What one business group must achieve; the values come from the workforce settings file and
    are checked when it loads."""

    service_level: float = Field(0.8, gt=0, lt=1)  # share answered within `answer_within_s`
    answer_within_s: float = Field(20.0, ge=0)
    max_occupancy: float = Field(0.85, gt=0, le=1)  # agents are not planned busier than this
    shrinkage: float = Field(0.3, ge=0, lt=1)  # breaks, training, leave: paid time off the phones
    min_agents: int = Field(0, ge=0)  # kept on duty even when no call is expected
    patience_s: float | None = Field(None, gt=0)  # mean time before a caller hangs up: Erlang A


@dataclass(frozen=True)
class Staffing:
    agents: int          # on the phones
    rostered: int        # agents / (1 - shrinkage), rounded up: the people to schedule
    traffic: float       # offered load in Erlangs
    service_level: float
    asa_s: float         # average speed of answer (Erlang A: mean wait of every caller)
    occupancy: float
    abandon_rate: float  # share of callers who hang up; 0 under Erlang C


def traffic(calls: float, aht_s: float, interval_s: float) -> float:
    return calls * aht_s / interval_s


def erlang_b(agents: int, load: float) -> float:
    b = 1.0
    for n in range(1, agents + 1):
        b = load * b / (n + load * b)
    return b


def _erlang_c_from_b(agents: int, load: float, b: float) -> float:
    return agents * b / (agents - load * (1.0 - b))


def erlang_c(agents: int, load: float) -> float:
    """Probability that a caller waits; 1 when the agents cannot keep up."""
    if agents <= load:
        return 1.0
    return _erlang_c_from_b(agents, load, erlang_b(agents, load))


def _c_metrics(agents: int, load: float, aht_s: float, within_s: float, c: float):
    service_level = 1.0 - c * math.exp(-(agents - load) * within_s / aht_s)
    asa = c * aht_s / (agents - load)
    return service_level, asa


def service_level(agents: int, load: float, aht_s: float, within_s: float) -> float:
    if agents <= load:
        return 0.0
    return _c_metrics(agents, load, aht_s, within_s, erlang_c(agents, load))[0]


def _rostered(agents: int, target: Target) -> int:
    # Round before ceil so that 14 / 0.7 is 20, not 21 through floating-point noise.
    return math.ceil(round(agents / (1.0 - target.shrinkage), 9))


def _idle(target: Target) -> Staffing:
    agents = target.min_agents
    return Staffing(agents, _rostered(agents, target), 0.0, 1.0, 0.0, 0.0, 0.0)


def required_agents(calls: float, aht_s: float, interval_s: float, target: Target) -> Staffing:
    """The fewest agents meeting the service level within the occupancy cap (Erlang C, or
    Erlang A when the target names a patience)."""
    if calls <= 0 or aht_s <= 0:
        return _idle(target)
    if target.patience_s:
        return _required_erlang_a(calls, aht_s, interval_s, target)
    load = traffic(calls, aht_s, interval_s)
    b, n = 1.0, 0
    while True:  # walk the Erlang B recurrence upward: one pass, O(agents)
        n += 1
        b = load * b / (n + load * b)
        if n <= load or load / n > target.max_occupancy or n < target.min_agents:
            continue
        c = _erlang_c_from_b(n, load, b)
        sl, wait = _c_metrics(n, load, aht_s, target.answer_within_s, c)
        if sl >= target.service_level:
            return Staffing(n, _rostered(n, target), load, sl, wait, load / n, 0.0)


@dataclass(frozen=True)
class ErlangA:
    service_level: float  # answered within the target time, over all callers offered
    asa_s: float
    abandon_rate: float
    occupancy: float


def erlang_a(agents: int, calls: float, aht_s: float, interval_s: float, patience_s: float,
             within_s: float) -> ErlangA:
    """M/M/n+M. A caller who finds j waiting reaches an agent after j+1 stages with rates
    n·mu + gamma·(k+1); that sum is -ln(Beta)/gamma, so its CDF is an incomplete beta function."""
    lam, mu, gamma = calls / interval_s, 1.0 / aht_s, 1.0 / patience_s
    load = lam / mu
    k = np.arange(agents + 1)
    log_p = k * math.log(load) - gammaln(k + 1)  # up to n busy agents: Poisson terms
    # Waiting callers: each extra one multiplies by lambda / (n mu + j gamma); stop when negligible.
    queue_logs, j, current = [], 0, log_p[-1]
    while True:
        j += 1
        current += math.log(lam / (agents * mu + j * gamma))
        if current < log_p.max() - 40 and lam < agents * mu + j * gamma:
            break
        queue_logs.append(current)
    log_all = np.concatenate([log_p, queue_logs])
    p = np.exp(log_all - logsumexp(log_all))
    waiting = np.arange(len(p)) - agents        # callers in queue for each state (negative: none)
    queued = p[agents:]                         # arrival finds all agents busy, j = 0, 1, ...
    ahead = np.arange(len(queued))
    served = agents * mu / (agents * mu + gamma * (ahead + 1))
    in_time = 1.0 - betainc(agents * mu / gamma + 1.0, ahead + 1.0, math.exp(-gamma * within_s))
    mean_queue = float(np.sum(np.clip(waiting, 0, None) * p))
    abandon = gamma * mean_queue / lam
    return ErlangA(service_level=float(p[:agents].sum() + np.sum(queued * served * in_time)),
                   asa_s=mean_queue / lam, abandon_rate=abandon,
                   occupancy=load * (1.0 - abandon) / agents if agents else 1.0)


def _required_erlang_a(calls: float, aht_s: float, interval_s: float, target: Target) -> Staffing:
    load = traffic(calls, aht_s, interval_s)

    def result(n: int) -> ErlangA:
        return erlang_a(n, calls, aht_s, interval_s, target.patience_s, target.answer_within_s)

    def meets(n: int) -> bool:
        r = result(n)
        return r.service_level >= target.service_level and r.occupancy <= target.max_occupancy

    # Service level grows with agents: double up to a sufficient count, then halve the bracket.
    lo, hi = max(target.min_agents, 1) - 1, max(target.min_agents, 1)
    while not meets(hi):
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if meets(mid) else (mid, hi)
    r = result(hi)
    return Staffing(hi, _rostered(hi, target), load, r.service_level, r.asa_s, r.occupancy,
                    r.abandon_rate)
