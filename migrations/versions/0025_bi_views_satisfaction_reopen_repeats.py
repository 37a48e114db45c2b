"""BI views of the remaining indicator families (callbacks' and SMS surveys' satisfaction, reopens,
repeat faults), and every ticket-based BI view leaves out the tickets an upheld indicator appeal
(指标申诉成立) took out of that indicator, as the dashboard does (tasks/statistics/figures.py,
Statistics.exempt). Each count column belongs to one indicator and is cleared of that indicator's
exempt tickets only; stat_clocks_daily gains repair_decided / repair_on_time, the figures of
抢修到达及时率 and 恢复供电及时率, whose appeals differ from those of 按时办结率.

On PostgreSQL the existing views are replaced in place (CREATE OR REPLACE VIEW), so the grants
and the per-unit views that BI roles hold on them (docs/statistics.md) stay; the downgrade drops
and recreates them (stat_clocks_daily loses columns, which only a new view can do).

(On SQLite a later batch alter of tickets, steps, departments, regions, surveys or the indicator
appeal tables must drop these views first and create them again after.)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05 10:00:00
"""

import importlib.util
from pathlib import Path

from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def _revision(prefix: str):
    """An earlier revision's module (loaded from its file: the folder is not a package)."""
    [path] = Path(__file__).parent.glob(f"{prefix}_*.py")
    spec = importlib.util.spec_from_file_location(f"revision_{prefix}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


JSON_RESULT = {"sqlite": "json_extract({step}.form_data, '$.result')",
               "postgresql": "({step}.form_data ->> 'result')"}
# The stored instant 30 days earlier, as tasks.statistics.aggregations.days_before renders it.
DAYS_BEFORE = {"sqlite": "strftime('%Y-%m-%d %H:%M:%f', {col}, '-30 days')",
               "postgresql": "({col} - make_interval(days => 30))"}
# models.surveys.answers.SATISFIED: 满意 and 基本满意, by their stored values.
SATISFIED_ANSWERS = "('satisfied', 'fairly')"


def kept(indicator: str, ticket: str) -> str:
    """The ticket is not taken out of the indicator by an upheld appeal."""
    return ("NOT EXISTS (SELECT 1 FROM quality_indicator_appeal_tickets x "
            "JOIN quality_indicator_appeals a ON a.id = x.appeal_id "
            f"WHERE x.ticket_id = {ticket} AND a.indicator = '{indicator}' AND a.upheld)")


def _sum_if(condition: str, value: str = "1") -> str:
    return f"SUM(CASE WHEN {condition} THEN {value} ELSE 0 END)"


def views(dialect: str) -> dict[str, str]:
    """Each view: its grouped rows with their region path, the columns in their public order
    (the existing views' columns first and unchanged, new ones after region_path)."""
    old = _revision("0014")
    paths = _revision("0020").PATHS
    day = lambda col: old.LOCAL_DAY[dialect].format(col=col)  # noqa: E731
    minutes = old.MINUTES[dialect].format(a="s.opened_at", b="s.completed_at")
    now = old.NOW[dialect]
    result = lambda step: JSON_RESULT[dialect].format(step=step)  # noqa: E731
    decided = f"(c.met_at IS NOT NULL OR c.due_at <= {now})"
    on_time = "(c.met_at IS NOT NULL AND c.met_at <= c.due_at)"
    repair = (f"t.type = 'fault_repair' AND ((c.clock = 'arrive' AND {kept('repair_arrival', 't.id')})"
              f" OR (c.clock = 'restore' AND {kept('repair_restore', 't.id')}))")

    def fault_before(col: str) -> str:
        return (f"EXISTS (SELECT 1 FROM tickets e WHERE e.{col} = t.{col} "
                "AND e.type = 'fault_repair' AND e.id <> t.id "
                f"AND e.received_at >= {DAYS_BEFORE[dialect].format(col='t.received_at')} "
                "AND e.received_at <= t.received_at)")

    grouped = {
        "stat_tickets_daily": (["day", "region_id", "ticket_type", "channel", "tickets"], [], f"""
            SELECT {day('t.received_at')} AS day, t.region_id, t.type AS ticket_type,
                   t.channel, COUNT(*) AS tickets
            FROM tickets t WHERE {kept('ticket_volume', 't.id')} GROUP BY 1, 2, 3, 4"""),
        "stat_clocks_daily": (
            ["day", "region_id", "ticket_type", "clock", "decided", "on_time", "overdue_now"],
            ["repair_decided", "repair_on_time"], f"""
            SELECT {day('t.received_at')} AS day, t.region_id, t.type AS ticket_type, c.clock,
                   {_sum_if(f"{decided} AND {kept('on_time_rate', 't.id')}")} AS decided,
                   {_sum_if(f"{on_time} AND {kept('on_time_rate', 't.id')}")} AS on_time,
                   {_sum_if(f"c.met_at IS NULL AND c.due_at <= {now} AND {kept('overdue_now', 't.id')}")}
                       AS overdue_now,
                   {_sum_if(f"{decided} AND {repair}")} AS repair_decided,
                   {_sum_if(f"{on_time} AND {repair}")} AS repair_on_time
            FROM ticket_clocks c JOIN tickets t ON t.id = c.ticket_id GROUP BY 1, 2, 3, 4"""),
        "stat_steps_daily": (
            ["day", "region_id", "department_id", "step_key", "steps", "minutes_total",
             "redispatches"], [], f"""
            SELECT {day('s.completed_at')} AS day, d.region_id, s.department_id, s.step_key,
                   {_sum_if(kept('step_handling', 's.ticket_id'))} AS steps,
                   {_sum_if(kept('step_handling', 's.ticket_id'), minutes)} AS minutes_total,
                   {_sum_if(f"s.form = 'redispatch' AND {kept('redispatches', 's.ticket_id')}")}
                       AS redispatches
            FROM steps s JOIN departments d ON d.id = s.department_id
            WHERE s.completed_at IS NOT NULL AND s.ticket_id IS NOT NULL GROUP BY 1, 2, 3, 4"""),
        # 回访满意率 (callbacks_satisfied): callbacks that reached the customer, by the department
        # that made them, on the day they were completed.
        "stat_callbacks_daily": (
            ["day", "region_id", "department_id", "callbacks", "satisfied"], [], f"""
            SELECT {day('s.completed_at')} AS day, d.region_id, s.department_id,
                   COUNT(*) AS callbacks, {_sum_if(f"{result('s')} = '满意'")} AS satisfied
            FROM steps s JOIN departments d ON d.id = s.department_id
            WHERE s.step_key = 'callback' AND s.ticket_id IS NOT NULL
              AND s.completed_at IS NOT NULL AND {result('s')} IN ('满意', '不满意')
              AND {kept('satisfaction', 's.ticket_id')}
            GROUP BY 1, 2, 3"""),
        # 满意度调查满意率 (surveys_satisfied): surveys answered, by the day they were drawn, at the
        # ticket's region.
        "stat_surveys_daily": (
            ["day", "region_id", "ticket_type", "answered", "satisfied"], [], f"""
            SELECT {day('sv.created_at')} AS day, t.region_id, t.type AS ticket_type,
                   COUNT(*) AS answered,
                   {_sum_if(f"sv.answer IN {SATISFIED_ANSWERS}")} AS satisfied
            FROM surveys sv JOIN tickets t ON t.id = sv.ticket_id
            WHERE sv.status = 'answered' AND {kept('survey_satisfaction', 't.id')}
            GROUP BY 1, 2, 3"""),
        # 回访不满意重办率 (tickets_reopened): tickets called back, by the day of receipt, and those
        # the customer was unsatisfied with at a callback.
        "stat_reopens_daily": (
            ["day", "region_id", "ticket_type", "called_back", "reopened"], [], f"""
            SELECT {day('t.received_at')} AS day, t.region_id, t.type AS ticket_type,
                   COUNT(*) AS called_back,
                   {_sum_if("EXISTS (SELECT 1 FROM steps u WHERE u.ticket_id = t.id "
                            f"AND u.step_key = 'callback' AND {result('u')} = '不满意')")}
                       AS reopened
            FROM tickets t
            WHERE EXISTS (SELECT 1 FROM steps c WHERE c.ticket_id = t.id
                          AND c.step_key = 'callback' AND c.completed_at IS NOT NULL)
              AND {kept('reopen_rate', 't.id')}
            GROUP BY 1, 2, 3"""),
        # 30天内同址或同线路重复报修 (repeat_faults): fault tickets by the day of receipt, and those
        # with another fault at the address, or on the line, in the 30 days before.
        "stat_repeat_faults_daily": (
            ["day", "region_id", "fault_tickets", "repeat_faults"], [], f"""
            SELECT {day('t.received_at')} AS day, t.region_id, COUNT(*) AS fault_tickets,
                   {_sum_if(f"(t.address <> '' AND {fault_before('address')}) "
                            f"OR (t.line IS NOT NULL AND {fault_before('line')})")}
                       AS repeat_faults
            FROM tickets t
            WHERE t.type = 'fault_repair' AND {kept('repeat_faults', 't.id')}
            GROUP BY 1, 2"""),
    }
    return {name: (f"{paths}SELECT {', '.join(f'v.{c}' for c in head)}, tree.region_path"
                   + "".join(f", v.{c}" for c in tail)
                   + f" FROM ({sql}) v JOIN tree ON tree.region_id = v.region_id")
            for name, (head, tail, sql) in grouped.items()}


REPLACED = ("stat_tickets_daily", "stat_clocks_daily", "stat_steps_daily")


def previous_views(dialect: str) -> dict[str, str]:
    """The replaced views as revision 0024 left them."""
    before = _revision("0020").views(dialect)
    steps = _revision("0024").COMPLETED
    before["stat_steps_daily"] = before["stat_steps_daily"].replace(
        steps, f"{steps} AND s.ticket_id IS NOT NULL")
    return {name: before[name] for name in REPLACED}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name, sql in views(dialect).items():
        if name in REPLACED and dialect != "postgresql":
            op.execute(f"DROP VIEW {name}")
        replace = "OR REPLACE " if name in REPLACED and dialect == "postgresql" else ""
        op.execute(f"CREATE {replace}VIEW {name} AS {sql}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name in views(dialect):
        op.execute(f"DROP VIEW {name}")
    for name, sql in previous_views(dialect).items():
        op.execute(f"CREATE VIEW {name} AS {sql}")
