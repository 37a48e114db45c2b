"""The daily rollup (models/statistics/rollup.py): rolling closed days, marking them stale on
write, and telling a period's figures which of its days to read from it.

A day's rows are what its facts said when it was rolled. A transaction that writes a ticket, a
step, a clock, a survey or an appeal marks the local days those tickets' facts fall on stale (the
ticket's day of receipt, its steps' days of completion, its surveys' days) just before it
commits; a stale day is read live until the flow (every ten minutes) rolls it again. Rolling a day first sets
it not stale, which waits for any writer that marked it, so a write is either seen by the roll
or marks the day stale again after it."""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from itertools import chain

from sqlalchemy import (
    Connection,
    Date,
    String,
    cast,
    delete,
    func,
    insert,
    inspect,
    literal,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from models.core.days import local_date, local_day_start
from models.core.enums import TicketType
from models.org.organisation import Department
from models.quality.tables import IndicatorAppeal, appeal_tickets
from models.statistics.indicators import Indicator
from models.statistics.rollup import RollupDay, RollupRow
from models.surveys.tables import Survey
from models.tickets.ticket import Step, Ticket, TicketClock
from models.workforce.tables import CallRecord
from tasks.core.settings import get_settings
from tasks.statistics.aggregations import (
    ANSWER_WITHIN_S,
    CURRENT,
    REPEAT_WINDOW,
    Period,
    exempted,
    facts,
    indicators,
)

# A day is rolled this long after it ends (its last writes are committed by then).
GRACE = timedelta(minutes=15)
# Raise when a fact query (aggregations.py) changes what it counts: every day is rolled again.
FACTS_REVISION = 1
CHUNK = 5000  # ids per IN list, far below either database's limit on bound parameters
FOREVER = datetime(9999, 1, 1, tzinfo=UTC)  # "now" for a roll: every clock is judged, by due


def rollable(indicator: Indicator) -> bool:
    return indicator.aggregation not in CURRENT


def rollup_version(timezone: str, answer_within_s: float = ANSWER_WITHIN_S) -> str:
    """What rolled rows were counted by: a change of the indicator file, of a fact query's
    revision, of the timezone or of the service level's threshold makes every day unrolled."""
    shape = [FACTS_REVISION, timezone, answer_within_s, REPEAT_WINDOW.days,
             [(i.key, i.aggregation, list(i.dimensions)) for i in indicators().indicators]]
    return hashlib.sha256(json.dumps(shape, ensure_ascii=False).encode()).hexdigest()[:16]


# -- writes mark days stale ----------------------------------------------------------------

@dataclass
class Touched:
    """What a transaction's flushes wrote that the rollup's days depend on."""

    tickets: set[int] = field(default_factory=set)
    new_faults: set[int] = field(default_factory=set)
    appeals: set[int] = field(default_factory=set)
    instants: set[datetime] = field(default_factory=set)  # of rows of no ticket: calls
    moved: bool = False  # a department changed region or kind: every day's rows may say the old

    def __bool__(self) -> bool:
        return bool(self.tickets or self.appeals or self.instants or self.moved)


def _touched(session: Session) -> Touched:
    return session.info.setdefault("rollup_touched", Touched())


def note_flush(session: Session, _context) -> None:
    """After each flush, remember what it wrote (an after_flush hook on every Session,
    tasks/core/db.py); the days are marked once, just before the commit."""
    touched = _touched(session)
    for row in session.dirty:  # the days they were on before, too
        touched.instants.update(_old_instants(row, deleted=False))
    for row in session.deleted:
        touched.instants.update(_old_instants(row, deleted=True))
    for row in chain(session.new, session.dirty, session.deleted):
        if isinstance(row, Ticket):
            touched.tickets.add(row.id)
            if row in session.new and row.type == TicketType.fault_repair:
                touched.new_faults.add(row.id)
        elif isinstance(row, (Step, TicketClock, Survey)) and row.ticket_id is not None:
            touched.tickets.add(row.ticket_id)
        elif isinstance(row, IndicatorAppeal):
            touched.appeals.add(row.id)
        elif isinstance(row, CallRecord):
            touched.instants.add(row.offered_at)
        elif isinstance(row, Department) and row not in session.new:
            state = inspect(row).attrs
            touched.moved = touched.moved or state.region_id.history.has_changes() \
                or state.kind.history.has_changes()  # a centre's steps are no department's


# The instants a row's facts are counted by (receipt, completion, a survey's, a call's).
INSTANTS = {Ticket: "received_at", Step: "completed_at", Survey: "created_at",
            CallRecord: "offered_at"}


def _old_instants(row, deleted: bool) -> list[datetime]:
    """A deleted row's instant, a changed row's before the change: that day is stale too."""
    name = INSTANTS.get(type(row))
    if name is None:
        return []
    values = [getattr(row, name)] if deleted else inspect(row).attrs[name].history.deleted
    return [at for at in values if at is not None]


def mark_stale(session: Session, *, tickets: Iterable[int] = (),
               instants: Iterable[datetime] = ()) -> None:
    """For writes no flush shows (UPDATE statements, bulk inserts): marked with the rest at the
    commit."""
    touched = _touched(session)
    touched.tickets.update(tickets)
    touched.instants.update(instants)


def mark_before_commit(session: Session) -> None:
    """Mark the days of what the transaction wrote stale, in day order and once: a marked day's
    row stays locked until the commit, so a roll of that day waits for it and then sees the
    write, and two writers take the rows in the same order (no deadlock). A savepoint's commit
    is not the transaction's: nothing yet."""
    if session.in_nested_transaction():
        return
    if session.new or session.dirty or session.deleted:
        session.flush()  # what the commit would flush next, seen by note_flush first
    touched = session.info.pop("rollup_touched", None)
    if touched:
        mark_now(session, touched)


def forget_on_rollback(session: Session, previous) -> None:
    """The whole transaction rolled back: nothing it wrote stays (a savepoint's rollback keeps
    the rest; what it undid is marked anyway, which costs a roll, never a wrong figure)."""
    if previous.parent is None:
        session.info.pop("rollup_touched", None)


def mark_now(session: Session, touched: Touched) -> None:
    """Mark the days of what was touched: at the commit, or at once for a reader in the same
    transaction (an upheld appeal's corrected figure)."""
    connection, timezone = session.connection(), get_settings().timezone
    if touched.moved:
        mark_days(connection, connection.scalars(select(RollupDay.day)), timezone=timezone)
        return
    days, tickets = {local_date(at, timezone) for at in touched.instants}, set(touched.tickets)
    for ids in _chunks(touched.appeals):
        tickets.update(connection.scalars(select(appeal_tickets.c.ticket_id).where(
            appeal_tickets.c.appeal_id.in_(ids))))
    for ids in _chunks(tickets):
        days.update(local_date(at, timezone) for (at,) in connection.execute(union_all(
            select(Ticket.received_at.label("at")).where(Ticket.id.in_(ids)),
            select(Step.completed_at).where(Step.ticket_id.in_(ids),
                                            Step.completed_at.is_not(None)),
            select(Survey.created_at).where(Survey.ticket_id.in_(ids)))))
    for ids in _chunks(touched.new_faults):  # reported late: the next 30 days' faults may repeat
        for (received,) in connection.execute(select(Ticket.received_at).where(
                Ticket.id.in_(ids))):
            first = local_date(received, timezone)
            days.update(first + timedelta(days=n) for n in range(REPEAT_WINDOW.days + 1))
    mark_days(connection, days, timezone=timezone)


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    ordered = sorted(ids)
    return (ordered[i:i + CHUNK] for i in range(0, len(ordered), CHUNK))


def _upsert(connection: Connection):
    return postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert


def mark_days(connection: Connection, days: Iterable[date], *, timezone: str) -> None:
    """Mark closed days stale (today is never rolled yet), in day order."""
    today = local_date(datetime.now(UTC), timezone)
    past = sorted({d for d in days if d < today})
    if not past:
        return
    statement = _upsert(connection)(RollupDay).values([{"day": d, "stale": True} for d in past])
    connection.execute(statement.on_conflict_do_update(index_elements=[RollupDay.day],
                                                       set_={"stale": True}))


# -- rolling -------------------------------------------------------------------------------

def days_to_roll(session: Session, *, now: datetime, timezone: str) -> list[date]:
    """Closed days from the first ticket or call on, not rolled or stale, oldest first."""
    seen = [at for at in (session.scalar(select(func.min(Ticket.received_at))),
                          session.scalar(select(func.min(CallRecord.offered_at)))) if at]
    if not seen:
        return []
    first_seen = min(seen)
    first, last = local_date(first_seen, timezone), local_date(now - GRACE, timezone) - timedelta(1)
    fresh = set(session.scalars(select(RollupDay.day).where(
        RollupDay.stale.is_(False), RollupDay.version == rollup_version(timezone))))
    return [first + timedelta(n) for n in range((last - first).days + 1)
            if first + timedelta(n) not in fresh]


def roll_day(session: Session, day: date, *, now: datetime, timezone: str) -> int:
    """Roll one day in the session's transaction; the rows written."""
    values = {"stale": False, "rolled_at": now, "version": rollup_version(timezone)}
    # First, so a writer that marked the day holds us here until it commits (and is seen).
    session.execute(_upsert(session.connection())(RollupDay).values(day=day, **values)
                    .on_conflict_do_update(index_elements=[RollupDay.day], set_=values))
    session.execute(delete(RollupRow).where(RollupRow.day == day))
    period = Period(local_day_start(day, timezone), local_day_start(day + timedelta(1), timezone),
                    FOREVER, ANSWER_WITHIN_S)
    exempt = exempted(session)
    for indicator in indicators().indicators:
        if not rollable(indicator):
            continue
        for dimension in [None, *indicator.dimensions]:
            fact, where = facts(indicator, period, dimension, exempt)
            dim = cast(fact.c.dim, String(100))
            rows = (select(literal(day, Date()).label("day"), literal(indicator.key).label("indicator"),
                           literal(dimension or "").label("dimension"), fact.c.region_id,
                           fact.c.department_id, dim, fact.c.counts_from,
                           func.sum(fact.c.num), func.sum(fact.c.den))
                    .where(*where)
                    .group_by(fact.c.region_id, fact.c.department_id, dim, fact.c.counts_from))
            session.execute(insert(RollupRow).from_select(
                ["day", "indicator", "dimension", "region_id", "department_id", "dim",
                 "counts_from", "num", "den"], rows))
    return session.scalar(select(func.count()).where(RollupRow.day == day))


# -- reading -------------------------------------------------------------------------------

def day_parts(period: Period, *, timezone: str) -> list[Period]:
    """The period cut at each local midnight."""
    parts, start = [], period.start
    while start < period.end:
        end = min(period.end, local_day_start(local_date(start, timezone) + timedelta(1), timezone))
        parts.append(replace(period, start=start, end=end))
        start = end
    return parts


def split(session: Session, period: Period, *, timezone: str) -> tuple[list[date], list[Period]]:
    """The period's whole days that the rollup holds fresh, and the rest as periods to read
    live (today, stale or unrolled days, parts of a day), neighbours joined."""
    parts = [(local_date(part.start, timezone), part) for part in day_parts(period, timezone=timezone)]
    whole = [day for day, part in parts
             if (part.start, part.end) == (local_day_start(day, timezone),
                                           local_day_start(day + timedelta(1), timezone))]
    fresh = set(session.scalars(select(RollupDay.day).where(
        RollupDay.day.in_(whole), RollupDay.stale.is_(False),
        RollupDay.version == rollup_version(timezone, period.answer_within_s)))) if whole else set()
    live: list[Period] = []
    for day, part in parts:
        if day in fresh:  # a whole day (fresh is of those only)
            continue
        if live and live[-1].end == part.start:
            live[-1] = replace(live[-1], end=part.end)
        else:
            live.append(part)
    return sorted(fresh), live


def rolled_rows(indicator: Indicator, dimension: str | None, days: list[date], now: datetime,
                *, by_day: bool = False):
    """The rollup's rows of an indicator over fresh days, as the live fact rows' columns (the
    day first, `by_day`)."""
    return (select(*[RollupRow.day] * by_day, RollupRow.region_id, RollupRow.department_id,
                   RollupRow.dim, RollupRow.num, RollupRow.den)
            .where(RollupRow.indicator == indicator.key, RollupRow.dimension == (dimension or ""),
                   RollupRow.day.in_(days),
                   RollupRow.counts_from.is_(None) | (RollupRow.counts_from <= now)))
