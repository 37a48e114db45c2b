"""A demo ticket's past, recorded as its lifecycle would have recorded it: each step the people
and the system took, with its department, person, form, timeline entry and met clocks, up to the
step it now waits at (or its close). The same store functions as a live run write the rows, so a
run started later recognises every one of them and waits where the ticket stands."""

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import pendulum
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.core.enums import AreaKind, DepartmentKind, StaffRole, StepStatus, TicketType
from models.org.organisation import Department, Staff
from models.tickets.calendar import WorkCalendar
from models.tickets.forms import validate_form
from models.tickets.lifecycle import DONE, HUMAN_KINDS, LifecycleSpec, StepKind, StepSpec, Walk
from models.tickets.rules import DeadlineRule, applicable_rules, due_times, restarted_after
from models.tickets.ticket import Ticket
from tasks.tickets.lifecycle_store import complete, enter_step, outcome_of

Timing = Literal["fresh", "soon", "late", "closed"]
Choice = str | dict  # an outcome, or a re-dispatch's data (the department chosen)
MARGIN = timedelta(minutes=15)  # a fresh clock stays quiet at least this long after the seed
LATE = (timedelta(minutes=30), timedelta(hours=20))  # overdue, but not yet escalated


@dataclass(frozen=True)
class Stage:
    """Where a demo ticket stands: the outcomes chosen at its steps, in order (the next human step
    waits, unless they lead to the close), and how its waiting deadline stands at `now`."""

    choices: tuple[Choice, ...] = ()
    timing: Timing = "fresh"


def quiet(spec: LifecycleSpec) -> LifecycleSpec:
    """The declaration without its notices: the demo's past was told back then, not now."""
    return spec.model_copy(update={"steps": [s.model_copy(update={"notify": {}})
                                             for s in spec.steps]})


@dataclass(frozen=True)
class Move:
    step: StepSpec
    outcome: str
    data: dict
    meets: tuple[str, ...]


def plan(spec: LifecycleSpec, choices: tuple[Choice, ...]) -> tuple[list[Move], StepSpec | None]:
    """The steps the choices take the ticket through, and the step it then waits at (None once
    closed). A check takes the next choice as its outcome (the real check decides when recorded)."""
    walk, moves, left = Walk(spec), [], list(choices)
    while walk.key is not None:
        step, _ = walk.enter()
        if step.kind == StepKind.branch:
            outcome, data = (left.pop(0) if left else step.outcomes()[-1]), {}  # -1: none found
        elif step.kind in HUMAN_KINDS:
            if not left:
                return moves, step
            choice = left.pop(0)
            outcome, data = (DONE, choice) if isinstance(choice, dict) else (choice, {})
        else:
            outcome, data = DONE, {}
        transition = spec.transition(step, outcome)
        moves.append(Move(step, outcome, data, tuple(transition.meets) if transition else ()))
        walk.leave(step, outcome, data)
    return moves, None


Dues = dict[str, tuple[datetime, timedelta]]  # clock: (due time, about-to-expire window)


def clock_dues(rules: list[DeadlineRule], calendar: WorkCalendar, ticket_type: TicketType,
               subtype: str | None, area: AreaKind, received: datetime,
               met: dict[str, datetime] | None = None) -> Dues:
    """The clocks intake will give the ticket, by the same rules; with the times clocks were
    `met`, the clocks that start after them count from then, as the store re-counts them."""
    local = pendulum.instance(received).in_timezone(calendar.timezone)
    chosen = applicable_rules(rules, ticket_type, subtype, area, local.date())
    dues = {c.clock: (c.due_at, timedelta(minutes=c.warn_minutes))
            for c in due_times(chosen, received, calendar)}
    met = met or {}
    for clock, at in sorted(met.items(), key=lambda item: item[1]):
        for name, due in restarted_after(chosen, clock, at, calendar).items():
            if name in dues and name not in met:
                dues[name] = (due, dues[name][1])
    return dues


DuesAt = Callable[..., Dues]  # (received, met=None) -> Dues: `clock_dues` for one ticket


def met_times(moves: list[Move], times: list[datetime]) -> dict[str, datetime]:
    """When each clock the moves meet was met."""
    return {clock: at for move, at in zip(moves, times, strict=False) for clock in move.meets}


def draw_gaps(rng: random.Random, moves: list[Move]) -> list[tuple[timedelta, float]]:
    """How long each step took, before any deadline bounds it: a department hours, the centre
    minutes, the system nothing; and the share of its deadline it used if bound."""
    gaps = []
    for move in moves:
        if move.step.kind == StepKind.handoff:
            base = timedelta(minutes=rng.randint(90, 20 * 60))
        elif move.step.kind in HUMAN_KINDS:
            base = timedelta(minutes=rng.randint(15, 150))
        else:
            base = timedelta(0)
        gaps.append((base, rng.uniform(0.3, 0.8)))
    return gaps


def step_times(received: datetime, moves: list[Move], gaps, dues_at: DuesAt,
               latest: datetime) -> list[datetime]:
    """When each step was done: in time for the clocks it meets (as re-counted by the steps
    before it), squeezed to end by `latest`."""
    times, at = [], received
    for move, (base, share) in zip(moves, gaps, strict=True):
        dues = dues_at(received, met_times(moves, times))
        bounds = [dues[c][0] for c in move.meets if c in dues]
        took = base
        if bounds and min(bounds) > at:
            took = min(base, (min(bounds) - at) * share)
        at += took
        times.append(at)
    if times and times[-1] > latest:
        scale = max(0.0, (latest - received) / (times[-1] - received))
        times = [received + (t - received) * scale for t in times]
    return times


def stands(dues: Dues, met: set[str], now: datetime) -> dict[str, str]:
    """Each running clock: fresh, soon (about to expire), late (overdue, not escalated) or worse."""
    found = {}
    for clock, (due, warn) in dues.items():
        if clock in met:
            continue
        if due - warn > now + MARGIN:
            found[clock] = "fresh"
        elif now < due and now >= due - warn:
            found[clock] = "soon"
        elif LATE[0] <= now - due <= LATE[1]:
            found[clock] = "late"
        else:
            found[clock] = "other"
    return found


def fits(timing: Timing, standing: dict[str, str]) -> bool:
    """The ticket's clocks stand as its timing asks: all quiet but (for soon and late) one."""
    flagged = [s for s in standing.values() if s != "fresh"]
    if timing in ("fresh", "closed"):
        return timing == "closed" or not flagged
    return flagged == [timing]


# A fresh ticket waiting at a step with a clock of its own opened it this recently.
STEP_CLOCK_FRESH = timedelta(hours=8)


def choose_received(rng: random.Random, now: datetime, stage: Stage, moves: list[Move],
                    waiting: StepSpec | None, dues_at: DuesAt) -> tuple[datetime | None, list]:
    """A receipt time at which the ticket's history fits before now and its clocks stand as the
    stage asks (None if there is none: the caller lets it wait with time to spare, or closes it),
    and the gaps drawn."""
    gaps = draw_gaps(rng, moves)
    met = {c for m in moves for c in m.meets}
    latest = now - timedelta(minutes=2)

    def ok(received: datetime) -> bool:
        times = step_times(received, moves, gaps, dues_at, latest)
        dues = dues_at(received, met_times(moves, times))
        if times and times[-1] > latest:
            return False
        if stage.timing == "fresh" and waiting is not None and waiting.clock \
                and waiting.clock not in dues and latest - (times[-1] if times else received) > \
                STEP_CLOCK_FRESH:
            return False  # a step's own clock (review, callback) runs from its opening
        return stage.timing == "closed" or fits(stage.timing, stands(dues, met, now))

    if stage.timing in ("fresh", "closed"):
        oldest = timedelta(days=rng.uniform(1.5, 9.5))
        candidates = [now - oldest * 0.8 ** k for k in range(45)]
    else:
        clock = waiting.clock if waiting is not None and waiting.clock else None
        if clock is None or clock not in dues_at(now):
            return None, gaps
        warn = dues_at(now)[clock][1]
        targets = [now + warn * f for f in (0.5, 0.3, 0.7)] if stage.timing == "soon" else \
            [now - timedelta(hours=h) for h in (3, 5, 2, 8, 12)]
        candidates = [_received_for(dues_at, clock, target, now) for target in targets]
    return next((c for c in candidates if ok(c)), None), gaps


def _received_for(dues_at: DuesAt, clock: str, target: datetime,
                  now: datetime) -> datetime:
    """The latest receipt time whose `clock` falls due by `target` (due times grow with it)."""
    low, high = now - timedelta(days=30), now
    while high - low > timedelta(minutes=1):
        middle = low + (high - low) / 2
        if dues_at(middle)[clock][0] <= target:
            low = middle
        else:
            high = middle
    return low


class People:
    """Who of a department takes a step: its handlers (the centre's agents), in a fixed order."""

    def __init__(self, session: Session, rng: random.Random):
        self.session, self.rng = session, rng
        self.cache: dict[int, list[Staff]] = {}

    def pick(self, department: Department) -> Staff | None:
        if department.id not in self.cache:
            role = StaffRole.agent if department.kind == DepartmentKind.service_centre \
                else StaffRole.handler
            self.cache[department.id] = list(self.session.scalars(select(Staff).where(
                Staff.department_id == department.id, Staff.role == role).order_by(Staff.id)))
        staff = self.cache[department.id]
        return self.rng.choice(staff) if staff else None


def record_history(session: Session, ticket: Ticket, spec: LifecycleSpec, moves: list[Move],
                   times: list[datetime], people: People) -> None:
    """Walk the ticket as its run would, writing each row at its time; the steps it has choices
    for are completed by their assignee with a filled form, the next one is left open."""
    walk, index, at = Walk(spec), 0, ticket.received_at
    while walk.key is not None:
        step, attempt = walk.enter()
        row = enter_step(session, ticket, walk, step, attempt, at, pick=people.pick)
        planned = moves[index] if index < len(moves) else None
        index += 1
        if row.status == StepStatus.open:
            if planned is None or planned.step.key != step.key:
                return  # it waits here
            at = times[index - 1]
            data = validate_form(step.form, form_data(step.form, planned)).model_dump(mode="json")
            complete(session, ticket, spec, row, data, by=row.assignee, now=at)
            outcome = outcome_of(row)
        else:
            outcome, data = outcome_of(row), row.form_data or {}
            if planned is not None and planned.step.key == step.key:
                at = times[index - 1]
        walk.leave(step, outcome, data)
    for clock in ticket.clocks:  # closed: whatever no step met is met by the close
        if clock.met_at is None:
            clock.met_at = ticket.closed_at


ANY = "*"  # a reply for whatever the outcome
REPLIES: dict[str, dict[str, dict]] = {
    "contact_customer": {ANY: {"note": "已电话联系客户，核实诉求并做好解释"}},
    "department_reply": {"已处理": {"reply_text": "已现场核实处理完毕，并向客户说明情况"},
                         "退单": {"reply_text": "经核实不属于本单位职责范围，请中心转派"}},
    "redispatch": {ANY: {"note": "原部门退单，按职责转派"}},
    "centre_review": {ANY: {"opinion": "处理情况属实，答复口径规范"}},
    "reply_customer": {ANY: {"reply_text": "已将处理结果电话答复客户，客户无异议"}},
    "callback": {"满意": {"note": "客户对处理结果表示满意"}, "不满意": {"note": "客户认为问题未解决"}},
    "arrival": {ANY: {"note": "抢修人员已到达现场，正在排查"}},
    "restoration": {ANY: {"cause": "低压线路接头老化烧断", "note": "更换接头后已恢复供电"}},
    "supervisor_decision": {ANY: {"decision": "已协调责任部门再次上门处理"}},
    "answer_consultation": {"已答复": {"reply_text": "已按统一答复口径答复客户"}},
}


def form_data(form: str, move: Move) -> dict:
    """A believable filled form for the outcome the demo chose."""
    replies = REPLIES[form]
    fields = replies.get(move.outcome, replies.get(ANY, {}))
    result = {} if move.outcome == DONE else {"result": move.outcome}
    return {**fields, **result, **move.data}
