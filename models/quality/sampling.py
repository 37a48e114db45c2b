"""Sampling plans (抽检计划): which closed tickets, how many per agent per period, in which strata,
and the pure draw: the same candidates and seed give the same sample, a ticket already sampled in
the plan is never drawn again, and the sample is dealt round-robin to the inspectors."""

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.core.enums import Channel, TicketType
from models.core.errors import InputError
from models.core.yaml_files import read_model_file


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str = Field(min_length=1)
    scorecard: str
    unit: str  # a region code: the tickets of it and below, inspected by its inspectors
    period: Literal["month", "day"] = "month"
    ticket_types: list[TicketType] = []  # empty: every type
    channels: list[Channel] = []         # empty: every channel
    per_agent: int | None = Field(None, ge=1)         # n per agent (per stratum) per period
    rate: float | None = Field(None, gt=0, le=1)      # or this share, rounded up
    strata: list[Literal["type", "channel"]] = []
    appeal_days: int = Field(3, ge=1, le=30)          # working days to appeal a fail

    @model_validator(mode="after")
    def _one_quota(self) -> "Plan":
        if (self.per_agent is None) == (self.rate is None):
            raise InputError("per_agent", "须且只须给出 per_agent 或 rate 之一",
                             "give exactly one of per_agent and rate")
        return self


class PlanFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plans: list[Plan]


def read_plans(path: Path) -> dict[str, Plan]:
    return {p.key: p for p in read_model_file(path, PlanFile, "抽检计划文件", "plans").plans}


def period_of(plan: Plan, day: date) -> tuple[date, date]:
    """[first, next first) of the plan's period holding `day` (local dates)."""
    if plan.period == "day":
        return day, day + timedelta(days=1)
    first = day.replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1)


def previous_period(plan: Plan, today: date) -> tuple[date, date]:
    """The last period wholly before `today`: what a scheduled draw samples."""
    first, _ = period_of(plan, today)
    return period_of(plan, first - timedelta(days=1))


@dataclass(frozen=True)
class Candidate:
    ticket_id: int
    agent_id: int
    type: str
    channel: str


def draw(plan: Plan, candidates: Sequence[Candidate], seed: int,
         taken: frozenset[int] = frozenset()) -> list[int]:
    """The ticket ids sampled: per agent and stratum, `per_agent` (or `rate` of the cell, rounded
    up) drawn with a generator seeded by `seed`, the cell and nothing else, so the same inputs
    always give the same sample, whatever order the candidates came in."""
    cells: dict[tuple, list[int]] = {}
    for c in candidates:
        if c.ticket_id in taken:
            continue
        stratum = tuple(getattr(c, field) for field in plan.strata)
        cells.setdefault((c.agent_id, *stratum), []).append(c.ticket_id)
    chosen: list[int] = []
    for cell in sorted(cells):
        ids = sorted(set(cells[cell]))
        n = plan.per_agent if plan.per_agent is not None else math.ceil(plan.rate * len(ids))
        rng = random.Random(f"{seed}:{':'.join(map(str, cell))}")
        chosen.extend(sorted(rng.sample(ids, min(n, len(ids)))))
    return chosen


def deal(tickets: Sequence[int], inspectors: Sequence[int]) -> list[tuple[int, int]]:
    """(ticket, inspector) pairs, round-robin in the order given."""
    if not inspectors:
        raise InputError("inspectors", "本单位没有质检员，无法分派抽检", "no inspectors to deal to")
    return [(t, inspectors[i % len(inspectors)]) for i, t in enumerate(tickets)]
