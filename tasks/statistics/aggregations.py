"""The named SQL aggregations the indicator file refers to. Each is one *fact* query: a row per
ticket, clock, step or call that counts, with the ticket it belongs to, the unit it counts at
(region, department), its dimension value and its numerator and denominator. Figures group these
rows; the ticket list of a drill-down reads the same rows, so a list always matches its figure."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import (
    ColumnElement,
    Select,
    Subquery,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    null,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import Float, Integer

from models.core.base import UTCDateTime
from models.core.enums import DepartmentKind, TicketType
from models.org.organisation import Department
from models.quality.tables import IndicatorAppeal, appeal_tickets
from models.statistics.indicators import Indicator, IndicatorSet, Subject, load_indicators
from models.surveys.answers import SATISFIED, SurveyStatus
from models.surveys.tables import Survey
from models.tickets.ticket import Step, Ticket, TicketClock
from models.workforce.tables import CallRecord

REPEAT_WINDOW = timedelta(days=30)
ANSWER_WITHIN_S = 20.0  # the service level: answered within 20 seconds


class minutes_between(FunctionElement):  # noqa: N801 - reads as the SQL function it renders
    """Minutes from the first instant to the second, on either database."""

    type = Float()
    inherit_cache = True


@compiles(minutes_between, "sqlite")
def _minutes_sqlite(element, compiler, **kw):
    first, second = (compiler.process(c, **kw) for c in element.clauses)
    # Whole seconds: julianday's float days would give 89.99999 for 90 minutes.
    return (f"((CAST(strftime('%s', {second}) AS INTEGER)"
            f" - CAST(strftime('%s', {first}) AS INTEGER)) / 60.0)")


@compiles(minutes_between, "postgresql")
def _minutes_postgresql(element, compiler, **kw):
    first, second = (compiler.process(c, **kw) for c in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({second} - {first})) / 60.0)"


class days_before(FunctionElement):  # noqa: N801 - reads as the SQL function it renders
    """An instant so many days earlier, comparable with the stored instants on either database."""

    inherit_cache = True


@compiles(days_before, "sqlite")
def _days_before_sqlite(element, compiler, **kw):
    instant, days = (compiler.process(c, **kw) for c in element.clauses)
    # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff' text: the same text, to the millisecond.
    return f"strftime('%Y-%m-%d %H:%M:%f', {instant}, '-' || {days} || ' days')"


@compiles(days_before, "postgresql")
def _days_before_postgresql(element, compiler, **kw):
    instant, days = (compiler.process(c, **kw) for c in element.clauses)
    return f"({instant} - make_interval(days => {days}))"


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC; `now` is when open clocks are judged (overdue, about to expire)."""

    start: datetime
    end: datetime
    now: datetime
    answer_within_s: float = ANSWER_WITHIN_S
    # The unit whose own departments are shown: a ticket's department is looked up only for
    # tickets of that region (those of regions below it count at their region), None: for all.
    department_region: int | None = None


Fact = Callable[[Period, str | None], Select]
AGGREGATIONS: dict[str, Fact] = {}
# Aggregations of the state now (overdue, about to expire), whenever the tickets came: no period
# of days holds them, so the daily rollup does not either.
CURRENT: set[str] = set()


def aggregation(name: str, *, current: bool = False):
    def register(fn: Fact) -> Fact:
        AGGREGATIONS[name] = fn
        if current:
            CURRENT.add(name)
        return fn
    return register


def _one(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def _counts_now() -> ColumnElement:
    """No `counts_from`: the row counts from the start (typed, for PostgreSQL's INSERT)."""
    return cast(null(), UTCDateTime())


def _latest_department() -> ColumnElement[int]:
    """A ticket's department: the business department (not the centre) of its latest step."""
    latest, owner = aliased(Step), aliased(Department)
    return (select(latest.department_id).join(owner, owner.id == latest.department_id)
            .where(latest.ticket_id == Ticket.id,
                   owner.kind != DepartmentKind.service_centre)
            .order_by(latest.id.desc()).limit(1).scalar_subquery())


TICKET_DIMENSIONS = {"type": Ticket.type, "channel": Ticket.channel, "area": Ticket.area_kind}


def _ticket_fact(period: Period, dimension: str | None, num, den, *, dim_column=None,
                 counts_from=None) -> Select:
    """`counts_from`: an instant before which the row does not count yet (a clock open now that
    is decided once due); the live figures judge that at `period.now`, the daily rollup keeps it."""
    dim = dim_column if dim_column is not None else TICKET_DIMENSIONS.get(dimension, null())
    department = _latest_department()
    if period.department_region is not None:
        department = case((Ticket.region_id == period.department_region, department))
    return select(Ticket.id.label("ticket_id"), Ticket.region_id.label("region_id"),
                  department.label("department_id"), dim.label("dim"),
                  num.label("num"), den.label("den"),
                  (_counts_now() if counts_from is None else counts_from).label("counts_from"))


def _received_in(period: Period) -> ColumnElement[bool]:
    return and_(Ticket.received_at >= period.start, Ticket.received_at < period.end)


@aggregation("tickets_received")
def tickets_received(period: Period, dimension: str | None) -> Select:
    return _ticket_fact(period, dimension, literal(1), literal(1)).where(_received_in(period))


def _decided_clocks(period: Period, dimension: str | None, clock: str | None = None) -> Select:
    """Clocks of the period's tickets that are met, or were due by now: on time or not."""
    dim = TicketClock.label if dimension == "clock" else None
    decided = (TicketClock.met_at.is_not(None)) | (TicketClock.due_at <= period.now)
    on_time = TicketClock.met_at.is_not(None) & (TicketClock.met_at <= TicketClock.due_at)
    open_until_due = case((TicketClock.met_at.is_(None), TicketClock.due_at))
    query = (_ticket_fact(period, dimension, _one(on_time), literal(1), dim_column=dim,
                          counts_from=open_until_due)
             .join(TicketClock, TicketClock.ticket_id == Ticket.id)
             .where(_received_in(period), decided))
    return query.where(TicketClock.clock == clock) if clock else query


@aggregation("clocks_met_on_time")
def clocks_met_on_time(period: Period, dimension: str | None) -> Select:
    return _decided_clocks(period, dimension)


def _open_clock_tickets(period: Period, dimension: str | None, condition) -> Select:
    """Tickets (once each) with a running clock in the given state now, whenever received."""
    clock = aliased(TicketClock)
    return _ticket_fact(period, dimension, literal(1), literal(1)).where(exists().where(
        clock.ticket_id == Ticket.id, clock.met_at.is_(None), condition(clock)))


@aggregation("clocks_overdue", current=True)
def clocks_overdue(period: Period, dimension: str | None) -> Select:
    return _open_clock_tickets(period, dimension, lambda c: c.due_at <= period.now)


@aggregation("clocks_expiring", current=True)
def clocks_expiring(period: Period, dimension: str | None) -> Select:
    return _open_clock_tickets(period, dimension, lambda c: and_(
        c.due_at > period.now, minutes_between(literal(period.now, Ticket.received_at.type),
                                               c.due_at) <= c.warn_minutes))


def _step_fact(period: Period, dimension: str | None, num, den) -> Select:
    dim = Step.step_key if dimension == "step" else null()
    return (select(Step.ticket_id.label("ticket_id"), Department.region_id.label("region_id"),
                   Step.department_id.label("department_id"), dim.label("dim"),
                   num.label("num"), den.label("den"), _counts_now().label("counts_from"))
            .join(Department, Department.id == Step.department_id)
            .where(Step.completed_at >= period.start, Step.completed_at < period.end,
                   Step.ticket_id.is_not(None)))  # tickets' steps, not cases'


@aggregation("step_minutes")
def step_minutes(period: Period, dimension: str | None) -> Select:
    return _step_fact(period, dimension, minutes_between(Step.opened_at, Step.completed_at),
                      literal(1))


@aggregation("steps_returned")
def steps_returned(period: Period, dimension: str | None) -> Select:
    """A department's step whose very next step on the ticket is a re-dispatch: sent back."""
    following, later = aliased(Step), aliased(Step)
    next_id = (select(func.min(later.id)).where(later.ticket_id == Step.ticket_id,
                                                later.id > Step.id).scalar_subquery())
    return _step_fact(period, dimension, literal(1), literal(1)).where(
        Step.form.is_distinct_from("redispatch"),
        exists().where(following.id == next_id, following.form == "redispatch"))


@aggregation("steps_redispatched")
def steps_redispatched(period: Period, dimension: str | None) -> Select:
    return _step_fact(period, dimension, literal(1), literal(1)).where(Step.form == "redispatch")


@aggregation("tickets_reopened")
def tickets_reopened(period: Period, dimension: str | None) -> Select:
    """Of the period's tickets called back, those the customer reopened: unsatisfied at a callback,
    so the ticket was handled again. A second callback after 联系不上 is a retry, not a reopen."""
    callback, unsatisfied = aliased(Step), aliased(Step)
    reopened = exists().where(unsatisfied.ticket_id == Ticket.id,
                              unsatisfied.step_key == "callback",
                              unsatisfied.form_data["result"].as_string() == "不满意")
    return _ticket_fact(period, dimension, _one(reopened), literal(1)).where(
        _received_in(period), exists().where(callback.ticket_id == Ticket.id,
                                             callback.step_key == "callback",
                                             callback.completed_at.is_not(None)))


@aggregation("callbacks_satisfied")
def callbacks_satisfied(period: Period, dimension: str | None) -> Select:
    """Callbacks done in the period that reached the customer: how many were satisfied."""
    result = Step.form_data["result"].as_string()
    return _step_fact(period, dimension, _one(result == "满意"), literal(1)).where(
        Step.step_key == "callback", result.in_(["满意", "不满意"]))


@aggregation("surveys_satisfied")
def surveys_satisfied(period: Period, dimension: str | None) -> Select:
    """Satisfaction surveys drawn in the period and answered: (满意 + 基本满意) over answered, the
    one definition the survey page uses (models.surveys.answers); 无应答 is not in it."""
    return (_ticket_fact(period, dimension, _one(Survey.answer.in_(sorted(SATISFIED))), literal(1))
            .join(Survey, Survey.ticket_id == Ticket.id)
            .where(Survey.created_at >= period.start, Survey.created_at < period.end,
                   Survey.status == SurveyStatus.answered))


def _repair_clock(period: Period, dimension: str | None, clock: str) -> Select:
    return _decided_clocks(period, dimension, clock).where(Ticket.type == TicketType.fault_repair)


@aggregation("repair_arrived_on_time")
def repair_arrived_on_time(period: Period, dimension: str | None) -> Select:
    return _repair_clock(period, dimension, "arrive")


@aggregation("repair_restored_on_time")
def repair_restored_on_time(period: Period, dimension: str | None) -> Select:
    return _repair_clock(period, dimension, "restore")


@aggregation("repair_arrival_minutes")
def repair_arrival_minutes(period: Period, dimension: str | None) -> Select:
    return (_ticket_fact(period, dimension, minutes_between(Ticket.received_at, TicketClock.met_at),
                         literal(1))
            .join(TicketClock, TicketClock.ticket_id == Ticket.id)
            .where(_received_in(period), Ticket.type == TicketType.fault_repair,
                   TicketClock.clock == "arrive", TicketClock.met_at.is_not(None)))


@aggregation("repair_restore_minutes")
def repair_restore_minutes(period: Period, dimension: str | None) -> Select:
    """Minutes from the crew's arrival to restoration, as the 3/4-hour norms count them."""
    arrived, restored = aliased(TicketClock), aliased(TicketClock)
    return (_ticket_fact(period, dimension, minutes_between(arrived.met_at, restored.met_at),
                         literal(1))
            .join(arrived, and_(arrived.ticket_id == Ticket.id, arrived.clock == "arrive"))
            .join(restored, and_(restored.ticket_id == Ticket.id, restored.clock == "restore"))
            .where(_received_in(period), Ticket.type == TicketType.fault_repair,
                   arrived.met_at.is_not(None), restored.met_at.is_not(None)))


def _fault_before(column, window_start) -> ColumnElement[bool]:
    """Another fault ticket at the same place (address or line) in the 30 days before: a range
    scan of ix_tickets_address / ix_tickets_line, not a walk over the year's faults."""
    earlier = aliased(Ticket)
    same = getattr(earlier, column.key)
    return exists().where(same == column, earlier.type == TicketType.fault_repair,
                          earlier.id != Ticket.id, earlier.received_at >= window_start,
                          earlier.received_at <= Ticket.received_at)


@aggregation("repeat_faults")
def repeat_faults(period: Period, dimension: str | None) -> Select:
    """Fault tickets of the period at an address, or on a line (线路), with another fault reported
    there in the 30 days before."""
    window = days_before(Ticket.received_at, literal(REPEAT_WINDOW.days))
    return _ticket_fact(period, dimension, literal(1), literal(1)).where(
        _received_in(period), Ticket.type == TicketType.fault_repair,
        or_(and_(Ticket.address != "", _fault_before(Ticket.address, window)),
            and_(Ticket.line.is_not(None), _fault_before(Ticket.line, window))))


def _call_fact(period: Period, dimension: str | None, num, den) -> Select:
    dim = CallRecord.group if dimension == "group" else null()
    no_unit = cast(null(), Integer())  # typed, for PostgreSQL's INSERT of the rollup
    return (select(null().label("ticket_id"), no_unit.label("region_id"),
                   no_unit.label("department_id"), dim.label("dim"), num.label("num"),
                   den.label("den"), _counts_now().label("counts_from"))
            .where(CallRecord.offered_at >= period.start, CallRecord.offered_at < period.end))


@aggregation("calls_offered")
def calls_offered(period: Period, dimension: str | None) -> Select:
    return _call_fact(period, dimension, literal(1), literal(1))


@aggregation("calls_answered")
def calls_answered(period: Period, dimension: str | None) -> Select:
    return _call_fact(period, dimension, _one(CallRecord.answered.is_(True)), literal(1))


@aggregation("calls_answer_rate")
def calls_answer_rate(period: Period, dimension: str | None) -> Select:
    return calls_answered(period, dimension)


@aggregation("calls_service_level")
def calls_service_level(period: Period, dimension: str | None) -> Select:
    quick = CallRecord.answered.is_(True) & (CallRecord.wait_s <= period.answer_within_s)
    return _call_fact(period, dimension, _one(quick), literal(1))


@aggregation("calls_abandoned")
def calls_abandoned(period: Period, dimension: str | None) -> Select:
    return _call_fact(period, dimension, _one(CallRecord.answered.is_(False)), literal(1))


def exempted(session: Session) -> dict[str, set[int]]:
    """Tickets taken out of an indicator by an upheld indicator appeal (指标申诉成立)."""
    found: dict[str, set[int]] = {}
    for key, ticket_id in session.execute(
            select(IndicatorAppeal.indicator, appeal_tickets.c.ticket_id)
            .join(appeal_tickets, appeal_tickets.c.appeal_id == IndicatorAppeal.id)
            .where(IndicatorAppeal.upheld.is_(True))):
        found.setdefault(key, set()).add(ticket_id)
    return found


def facts(indicator: Indicator, period: Period, dimension: str | None,
          exempt: dict[str, set[int]]) -> tuple[Subquery, list[ColumnElement[bool]]]:
    """An indicator's fact rows for a period, less the tickets its upheld appeals took out."""
    fact = AGGREGATIONS[indicator.aggregation](period, dimension).subquery()
    skip = exempt.get(indicator.key) if indicator.subject != Subject.call else None
    return fact, [fact.c.ticket_id.not_in(sorted(skip))] if skip else []


@cache
def indicators() -> IndicatorSet:
    """The indicator file, checked against the aggregations registered here (read once)."""
    return load_indicators(known=set(AGGREGATIONS))
