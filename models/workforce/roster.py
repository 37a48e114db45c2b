"""A week's roster from shift templates with OR-Tools CP-SAT: cover the agents required in every
interval with the fewest agent-hours, under the rest rules. Pure: no I/O, no clock.

The week is treated as a cycle, so a night shift that starts on Sunday covers the small hours of
Monday, and the rest rule holds across the week's end as it will in the next week's roster.
"""

import math
from dataclasses import dataclass
from datetime import time

import numpy as np
from ortools.linear_solver import pywraplp
from ortools.sat.python import cp_model

DAYS = 7


@dataclass(frozen=True)
class Shift:
    code: str
    start: time
    hours: float


@dataclass(frozen=True)
class Rules:
    min_rest_hours: float = 12
    max_shifts_per_week: int = 5


@dataclass(frozen=True)
class Roster:
    assignments: list[tuple[int, int, str]]  # (staff index, day of the week, shift code)
    required: np.ndarray                     # per interval of the week
    planned: np.ndarray
    agent_hours: float
    lp_bound_hours: float                    # LP relaxation: no roster can use fewer hours
    optimal: bool                            # the solver proved no roster uses fewer hours

    @property
    def shortfall(self) -> np.ndarray:
        return np.clip(self.required - self.planned, 0, None)

    @property
    def gap(self) -> float:
        return self.agent_hours / self.lp_bound_hours - 1 if self.lp_bound_hours else 0.0


def joined(parts: list[tuple[Roster, int]]) -> Roster:
    """Rosters of separate teams as one: each part with the index of its first agent in the
    joined staff list; requirement, cover and hours add up."""
    assignments = [(first + s, d, code) for roster, first in parts
                   for s, d, code in roster.assignments]
    return Roster(assignments, sum(r.required for r, _ in parts), sum(r.planned for r, _ in parts),
                  sum(r.agent_hours for r, _ in parts), sum(r.lp_bound_hours for r, _ in parts),
                  all(r.optimal for r, _ in parts))


class NoRoster(RuntimeError):
    """The solver found no roster within its time limit."""


def _coverage(shifts: list[Shift], slots: int) -> list[list[list[int]]]:
    """cover[d][k]: the intervals of the week that shift k started on day d covers."""
    minutes = 24 * 60 // slots
    week = DAYS * slots
    cover = []
    for d in range(DAYS):
        row = []
        for shift in shifts:
            first = d * slots + (shift.start.hour * 60 + shift.start.minute) // minutes
            row.append([(first + i) % week for i in range(round(shift.hours * 60 / minutes))])
        cover.append(row)
    return cover


def _too_close(shifts: list[Shift], rules: Rules) -> list[tuple[int, int, int]]:
    """(k, k2, day offset 1): shift k2 on the next day starts too soon after shift k ends."""
    pairs = []
    for k, a in enumerate(shifts):
        end = a.start.hour + a.start.minute / 60 + a.hours
        for k2, b in enumerate(shifts):
            next_start = 24 + b.start.hour + b.start.minute / 60
            if next_start - end < rules.min_rest_hours:
                pairs.append((k, k2, 1))
    return pairs


def lp_bound(required: np.ndarray, shifts: list[Shift], slots: int) -> float:
    """Agent-hours of the best fractional cover: a lower bound for any roster."""
    solver = pywraplp.Solver.CreateSolver("GLOP")
    cover = _coverage(shifts, slots)
    y = {(d, k): solver.NumVar(0, solver.infinity(), "") for d in range(DAYS)
         for k in range(len(shifts))}
    covering = [[] for _ in range(DAYS * slots)]
    for (d, k), var in y.items():
        for t in cover[d][k]:
            covering[t].append(var)
    for t, need in enumerate(required):
        if need > 0:
            solver.Add(sum(covering[t]) >= float(need))
    solver.Minimize(sum(shifts[k].hours * var for (d, k), var in y.items()))
    solver.Solve()
    return solver.Objective().Value()


def _covering(model, count, required, cover, length, bound, staff):
    """Coverage of every interval by the head counts, with a costly shortfall where the staff
    cannot cover it; returns the objective: agent-slots worked plus the shortfall's cost."""
    covering = [[] for _ in range(len(required))]
    for (d, k), var in count.items():
        for t in cover[d][k]:
            covering[t].append(var)
    short = []
    for t, need in enumerate(required):
        if need > 0:
            gap = model.new_int_var(0, int(need), "")
            model.add(sum(covering[t]) + gap >= int(need))
            short.append(gap)
    # Slots of work are the unit, so the objective stays integral for half-hour shifts.
    work = sum(length[k] * var for (d, k), var in count.items())
    # No full cover beats the LP relaxation, and one more shift mends each missing agent-interval:
    # telling the solver so lets it prove optimality as soon as it reaches the bound.
    model.add(work + max(length) * sum(short) >= bound)
    return work + (DAYS * len(required) * staff + 1) * sum(short)


def _agents(model, staff, shifts, rules):
    """x[s, d, k]: agent s works shift k on day d, under the rest rules."""
    x = {(s, d, k): model.new_bool_var("") for s in range(staff) for d in range(DAYS)
         for k in range(len(shifts))}
    worked = []
    for s in range(staff):
        for d in range(DAYS):
            model.add_at_most_one(x[s, d, k] for k in range(len(shifts)))
        for k, k2, offset in _too_close(shifts, rules):
            for d in range(DAYS):
                model.add_bool_or([x[s, d, k].Not(), x[s, (d + offset) % DAYS, k2].Not()])
        shifts_worked = sum(x[s, d, k] for d in range(DAYS) for k in range(len(shifts)))
        model.add(shifts_worked <= rules.max_shifts_per_week)
        worked.append(shifts_worked)
    for s in range(staff - 1):  # agents are interchangeable: order them by shifts worked
        model.add(worked[s] >= worked[s + 1])
    return x


def _solve(model, seconds, workers):
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(seconds, 1.0)
    solver.parameters.num_workers = workers
    status = solver.solve(model)
    return solver, status


def solve_roster(required: np.ndarray, shifts: list[Shift], staff: int, rules: Rules, *,
                 slots: int = 48, time_limit_s: float = 30, workers: int = 2) -> Roster:
    """Assign each of `staff` agents at most one shift a day. Unmet need is allowed only at a
    cost far above any agent-hour, so the roster covers everything the staff can cover.

    First the head count of each shift on each day (a small problem, solved to optimality), then
    who works which of those shifts under the rest rules. When the rest rules leave no way to
    staff those counts, one joint model decides both in the time left."""
    required = np.asarray(required, dtype=int)
    cover = _coverage(shifts, slots)
    length = [round(s.hours * 60 / (24 * 60 // slots)) for s in shifts]
    bound = lp_bound(required, shifts, slots)
    bound_slots = math.ceil(bound * slots / 24 - 1e-6)
    if staff == 0:  # a group with a need and nobody to meet it: all of it is short
        return Roster([], required, np.zeros_like(required), 0.0, bound, True)

    counts = cp_model.CpModel()
    count = {(d, k): counts.new_int_var(0, staff, "") for d in range(DAYS)
             for k in range(len(shifts))}
    for d in range(DAYS):
        counts.add(sum(count[d, k] for k in range(len(shifts))) <= staff)
    counts.add(sum(count.values()) <= staff * rules.max_shifts_per_week)
    counts.minimize(_covering(counts, count, required, cover, length, bound_slots, staff))
    solver, status = _solve(counts, time_limit_s / 3, workers)
    left = time_limit_s - solver.wall_time
    heads = {key: solver.value(var) for key, var in count.items()}
    optimal = status == cp_model.OPTIMAL

    assign = cp_model.CpModel()
    x = _agents(assign, staff, shifts, rules)
    for (d, k), n in heads.items():
        assign.add(sum(x[s, d, k] for s in range(staff)) == n)
    solver, status = _solve(assign, left / 2, workers)
    left -= solver.wall_time
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        joint = cp_model.CpModel()
        x = _agents(joint, staff, shifts, rules)
        count = {(d, k): sum(x[s, d, k] for s in range(staff)) for d in range(DAYS)
                 for k in range(len(shifts))}
        joint.minimize(_covering(joint, count, required, cover, length, bound_slots, staff))
        solver, status = _solve(joint, left, workers)
        optimal = status == cp_model.OPTIMAL
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            raise NoRoster(f"no roster found in {time_limit_s:g} s: {solver.status_name(status)}")

    chosen = [(s, d, k) for (s, d, k), var in x.items() if solver.value(var)]
    planned = np.zeros(DAYS * slots, dtype=int)
    hours = 0.0
    for _agent, d, k in chosen:
        hours += shifts[k].hours
        for t in cover[d][k]:
            planned[t] += 1
    assignments = [(s, d, shifts[k].code) for s, d, k in chosen]
    return Roster(assignments, required, planned, hours, bound, optimal)
