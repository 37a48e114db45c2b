"""Figures of an indicator for one unit and period, under one scope rule: a person sees the
figures of their department's region and the regions under it, and the centre's calls only from
the province centre. Every screen, export and mailed report asks through `figures`."""

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import cached_property

from sqlalchemy import Date, Select, String, cast, func, literal, select, union_all
from sqlalchemy.orm import Session

from models.core.days import local_date, local_day_start
from models.core.enums import AreaKind, Channel, TicketType
from models.core.errors import InputError
from models.org.organisation import Department, Region, Staff
from models.statistics.indicators import Indicator, Kind, Subject, figure
from models.tickets.ticket import Ticket
from tasks.core.settings import get_settings
from tasks.org.scope import CENTRE_ROLES
from tasks.statistics.aggregations import ANSWER_WITHIN_S, Period, exempted, facts
from tasks.statistics.rollup import day_parts, rollable, rolled_rows, split

DIMENSION_LABELS = {"type": "工单类型", "channel": "渠道", "clock": "期限类别", "step": "环节",
                    "area": "供电区域", "group": "业务组"}
ENUM_LABELS = {"type": TicketType, "channel": Channel, "area": AreaKind}
TICKET_LIST_LIMIT = 500
TREND_DAYS = 92  # a quarter, day by day


class Tree:
    """Regions and departments (a few thousand rows at most), read once per request."""

    def __init__(self, session: Session):
        self.regions = {r.id: r for r in session.scalars(select(Region))}
        self.departments = {d.id: d for d in session.scalars(select(Department))}
        self.children: dict[int | None, list[int]] = {}
        for region in sorted(self.regions.values(), key=lambda r: r.code):
            self.children.setdefault(region.parent_id, []).append(region.id)

    def subtree(self, region_id: int) -> frozenset[int]:
        """As tasks.org.scope.region_subtree, from the regions read already."""
        found, todo = set(), [region_id]
        while todo:
            current = todo.pop()
            found.add(current)
            todo.extend(self.children.get(current, []))
        return frozenset(found)

    def ancestors(self, region_id: int) -> list[int]:
        chain = [region_id]
        while self.regions[chain[-1]].parent_id is not None:
            chain.append(self.regions[chain[-1]].parent_id)
        return chain[::-1]


@dataclass(frozen=True)
class Viewer:
    """What the scope rule lets one staff member see."""

    root_id: int
    region_ids: frozenset[int]
    sees_calls: bool


def viewer_of(staff: Staff, tree: Tree) -> Viewer:
    root = staff.department.region_id
    province_centre = tree.regions[root].parent_id is None and staff.role in CENTRE_ROLES
    return Viewer(root, tree.subtree(root), province_centre)


@dataclass(frozen=True)
class Unit:
    """A region, or a department as seen from the region whose figures it carries."""

    region_id: int
    department_id: int | None = None

    @property
    def code(self) -> str:
        return f"r{self.region_id}" + (f"-d{self.department_id}" if self.department_id is not None else "")

    @classmethod
    def parse(cls, text: str) -> "Unit":
        try:
            region, _, department = text.partition("-")
            return cls(int(region.removeprefix("r")),
                       int(department.removeprefix("d")) if department else None)
        except ValueError:
            raise InputError("unit", "单位参数无效", f"bad unit {text!r}") from None


@dataclass
class Row:
    label: str
    num: float = 0.0
    den: float = 0.0
    unit: Unit | None = None  # where a click drills to
    value: float | None = None


@dataclass
class Figures:
    indicator: Indicator
    unit: Unit
    breadcrumb: list[tuple[str, Unit]]
    rows: list[Row]
    total: Row
    dimension: str | None = None
    by_dimension: list[Row] = field(default_factory=list)


def local_period(first: date, last: date, timezone: str, now: datetime,
                 answer_within_s: float = ANSWER_WITHIN_S) -> Period:
    """Whole local days from `first` to `last`, inclusive."""
    if last < first:
        raise InputError("period", "结束日期不能早于开始日期", "the period ends before it starts")
    return Period(local_day_start(first, timezone),
                  local_day_start(last + timedelta(days=1), timezone), now, answer_within_s)


class Statistics:
    """One viewer's figures over one tree: the only way pages, exports and reports read them."""

    def __init__(self, session: Session, staff: Staff):
        self.session, self.tree = session, Tree(session)
        self.viewer = viewer_of(staff, self.tree)

    @cached_property
    def home(self) -> Unit:
        return Unit(self.viewer.root_id)

    def check(self, unit: Unit) -> None:
        """A unit outside the viewer's scope does not exist for them."""
        known = unit.region_id in self.tree.regions and (
            unit.department_id in (None, 0) or unit.department_id in self.tree.departments)
        if not known or unit.region_id not in self.viewer.region_ids:
            raise LookupError(unit.code)

    def sees(self, indicator: Indicator) -> bool:
        return indicator.subject != Subject.call or self.viewer.sees_calls

    @cached_property
    def exempt(self) -> dict[str, set[int]]:
        return exempted(self.session)

    def _where(self, columns, indicator: Indicator, unit: Unit) -> list:
        """The rows of the unit (within the viewer's scope); calls are the centre's."""
        if indicator.subject == Subject.call:
            return []
        if unit.department_id is not None:
            department = (columns.department_id.is_(None) if unit.department_id == 0
                          else columns.department_id == unit.department_id)
            return [columns.region_id == unit.region_id, department]
        return [columns.region_id.in_(self.tree.subtree(unit.region_id) & self.viewer.region_ids)]

    def _facts(self, indicator: Indicator, period: Period, unit: Unit, dimension: str | None):
        """The live fact rows of the unit, for its ticket lists."""
        fact, where = facts(indicator, replace(period, department_region=unit.region_id),
                            dimension, self.exempt)
        return fact, [*where, *self._where(fact.c, indicator, unit)]

    def _rows(self, indicator: Indicator, period: Period, unit: Unit, dimension: str | None,
              *, by_day: bool = False):
        """The figure's fact rows: the daily rollup's for the period's fresh whole days, the rest
        live (`by_day`: each row with its local day)."""
        timezone = get_settings().timezone
        days, live = split(self.session, period, timezone=timezone) \
            if rollable(indicator) else ([], [period])
        if by_day:
            live = [one for piece in live for one in day_parts(piece, timezone=timezone)]
        parts = []
        for part in live:
            fact, where = facts(indicator, replace(part, department_region=unit.region_id),
                                dimension, self.exempt)
            day = [literal(local_date(part.start, timezone), Date()).label("day")] * by_day
            parts.append(select(*day, fact.c.region_id, fact.c.department_id,
                                cast(fact.c.dim, String(100)).label("dim"), fact.c.num,
                                fact.c.den).where(*where))
        if days:
            parts.append(rolled_rows(indicator, dimension, days, period.now, by_day=by_day))
        return (parts[0] if len(parts) == 1 else union_all(*parts)).subquery()

    def grouped(self, indicator: Indicator, period: Period, unit: Unit,
                dimension: str | None) -> Select:
        """The aggregation SQL a figure comes from (bench/ times it against the bare facts)."""
        rows = self._rows(indicator, period, unit, dimension)
        return (select(rows.c.region_id, rows.c.department_id, rows.c.dim,
                       func.sum(rows.c.num), func.sum(rows.c.den))
                .where(*self._where(rows.c, indicator, unit))
                .group_by(rows.c.region_id, rows.c.department_id, rows.c.dim))

    def figures(self, indicator: Indicator, period: Period, unit: Unit | None = None,
                dimension: str | None = None) -> Figures:
        unit = unit or self.home
        self.check(unit)
        if not self.sees(indicator):
            raise LookupError(indicator.key)
        if dimension not in indicator.dimensions:
            dimension = None
        rows = {key: row for key, row in self._child_rows(indicator, unit)}
        total, by_dim = Row("合计"), {}
        for region_id, department_id, dim, num, den in self.session.execute(
                self.grouped(indicator, period, unit, dimension)):
            num, den = float(num or 0), float(den or 0)
            for row in (total, rows.get(self._child_of(unit, region_id, department_id)),
                        by_dim.setdefault(dim, Row(self._dim_label(dimension, dim)))):
                if row is not None:
                    row.num += num
                    row.den += den
        ordered = [r for r in rows.values() if r.den or r.unit.department_id is None]
        shown = sorted(by_dim.values(), key=lambda r: -r.num) if dimension else []
        for row in [total, *ordered, *shown]:
            row.value = figure(indicator.kind, row.num, row.den)
        return Figures(indicator, unit, self.breadcrumb(unit), ordered, total, dimension, shown)

    def trend(self, indicator: Indicator, period: Period, unit: Unit | None = None
              ) -> list[tuple[date, float | None]]:
        """The figure of the unit day by day over the period (the dashboard's trend line); none
        for the state now (overdue) or a period of more than TREND_DAYS."""
        unit = unit or self.home
        self.check(unit)
        timezone = get_settings().timezone
        if not (self.sees(indicator) and rollable(indicator)) \
                or period.end - period.start > timedelta(days=TREND_DAYS):
            return []
        rows = self._rows(indicator, period, unit, None, by_day=True)
        sums = {day: (num, den) for day, num, den in self.session.execute(
            select(rows.c.day, func.sum(rows.c.num), func.sum(rows.c.den))
            .where(*self._where(rows.c, indicator, unit)).group_by(rows.c.day))}
        return [(part_day, figure(indicator.kind, *(float(v or 0) for v in sums.get(part_day, (0, 0)))))
                for part_day in (local_date(p.start, timezone)
                                 for p in day_parts(period, timezone=timezone))]

    def _child_rows(self, indicator: Indicator, unit: Unit):
        if indicator.subject == Subject.call or unit.department_id is not None:
            return
        for region_id in self.tree.children.get(unit.region_id, []):
            if region_id in self.viewer.region_ids:
                yield ("r", region_id), Row(self.tree.regions[region_id].name,
                                            unit=Unit(region_id))
        for department in sorted(self.tree.departments.values(), key=lambda d: d.code):
            yield ("d", department.id), Row(department.name,
                                            unit=Unit(unit.region_id, department.id))
        yield ("d", None), Row("未派单", unit=Unit(unit.region_id, 0))

    def _child_of(self, unit: Unit, region_id: int | None, department_id: int | None):
        """The row of the unit's table a fact at (region, department) adds to."""
        if region_id is None or unit.department_id is not None:
            return None
        if region_id == unit.region_id:
            return ("d", department_id)
        chain = self.tree.ancestors(region_id)
        below = chain.index(unit.region_id) + 1 if unit.region_id in chain else None
        return ("r", chain[below]) if below is not None and below < len(chain) else None

    @staticmethod
    def _dim_label(dimension: str | None, value) -> str:
        if value is None:
            return "全部"
        labels = ENUM_LABELS.get(dimension)
        return labels(value).label if labels and value in labels.__members__ else str(value)

    def breadcrumb(self, unit: Unit) -> list[tuple[str, Unit]]:
        chain = self.tree.ancestors(unit.region_id)
        crumbs = [(self.tree.regions[r].name, Unit(r)) for r in chain[chain.index(self.home.region_id):]]
        if unit.department_id is not None:
            department = self.tree.departments.get(unit.department_id)
            crumbs.append((department.name if department else "未派单", unit))
        return crumbs

    def counted(self, indicator: Indicator, period: Period, unit: Unit,
                numbers: list[str]) -> dict[str, int]:
        """Of the tickets numbered, those the unit's figure counts: {number: ticket id}."""
        self.check(unit)
        if indicator.subject == Subject.call:
            return {}
        fact, where = self._facts(indicator, period, unit, None)
        return {number: ticket_id for number, ticket_id in self.session.execute(
            select(Ticket.number, Ticket.id).join(fact, fact.c.ticket_id == Ticket.id)
            .where(*where, Ticket.number.in_(numbers)).distinct())}

    def tickets(self, indicator: Indicator, period: Period, unit: Unit) -> list[tuple]:
        """The tickets behind a department's figure: (number, type, received, counted)."""
        self.check(unit)
        if not self.sees(indicator) or indicator.subject == Subject.call:
            return []
        fact, where = self._facts(indicator, period, unit, None)
        counted = func.sum(fact.c.num)
        return list(self.session.execute(
            select(Ticket.number, Ticket.type, Ticket.received_at, counted)
            .join(fact, fact.c.ticket_id == Ticket.id).where(*where)
            .group_by(Ticket.id, Ticket.number, Ticket.type, Ticket.received_at)
            .order_by(Ticket.received_at, Ticket.id).limit(TICKET_LIST_LIMIT)))


def shown(kind: Kind, value: float | None) -> str:
    """A figure as the screen, the workbook and the mail print it."""
    if value is None:
        return "—"
    if kind == Kind.ratio:
        return f"{value:.1%}"
    if kind == Kind.minutes:
        return f"{value:.1f}"
    return f"{value:g}"
