"""(On SQLite a later batch alter of tickets, steps, ticket_clocks or call_records must drop these views first
and create them again after.)
report submissions and their log (上报 / 退回), period indexes for the statistics, and read-only SQL views of the indicators for BI
tools (local days in China Standard Time, UTC+8, which keeps no daylight saving)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 00:45:00
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

LOCAL_DAY = {"sqlite": "date({col}, '+8 hours')",
             "postgresql": "(({col}) AT TIME ZONE 'Asia/Shanghai')::date"}
MINUTES = {"sqlite": "((CAST(strftime('%s', {b}) AS INTEGER) - CAST(strftime('%s', {a}) AS INTEGER)) / 60.0)",
           "postgresql": "(EXTRACT(EPOCH FROM ({b}) - ({a})) / 60.0)"}
NOW = {"sqlite": "strftime('%Y-%m-%d %H:%M:%f', 'now')", "postgresql": "now()"}


def views(dialect: str) -> dict[str, str]:
    day = lambda col: LOCAL_DAY[dialect].format(col=col)  # noqa: E731
    minutes = MINUTES[dialect].format(a="s.opened_at", b="s.completed_at")
    now = NOW[dialect]
    return {
        "stat_tickets_daily": f"""
            SELECT {day('t.received_at')} AS day, t.region_id, t.type AS ticket_type,
                   t.channel, COUNT(*) AS tickets
            FROM tickets t GROUP BY 1, 2, 3, 4""",
        "stat_clocks_daily": f"""
            SELECT {day('t.received_at')} AS day, t.region_id, t.type AS ticket_type, c.clock,
                   SUM(CASE WHEN c.met_at IS NOT NULL OR c.due_at <= {now} THEN 1 ELSE 0 END) AS decided,
                   SUM(CASE WHEN c.met_at IS NOT NULL AND c.met_at <= c.due_at THEN 1 ELSE 0 END) AS on_time,
                   SUM(CASE WHEN c.met_at IS NULL AND c.due_at <= {now} THEN 1 ELSE 0 END) AS overdue_now
            FROM ticket_clocks c JOIN tickets t ON t.id = c.ticket_id GROUP BY 1, 2, 3, 4""",
        "stat_steps_daily": f"""
            SELECT {day('s.completed_at')} AS day, d.region_id, s.department_id, s.step_key,
                   COUNT(*) AS steps, SUM({minutes}) AS minutes_total,
                   SUM(CASE WHEN s.form = 'redispatch' THEN 1 ELSE 0 END) AS redispatches
            FROM steps s JOIN departments d ON d.id = s.department_id
            WHERE s.completed_at IS NOT NULL GROUP BY 1, 2, 3, 4""",
        "stat_calls_daily": f"""
            SELECT {day('offered_at')} AS day, "group" AS business_group, COUNT(*) AS offered,
                   SUM(CASE WHEN answered THEN 1 ELSE 0 END) AS answered,
                   SUM(CASE WHEN answered AND wait_s <= 20 THEN 1 ELSE 0 END) AS answered_within_20s,
                   SUM(CASE WHEN answered THEN 0 ELSE 1 END) AS abandoned
            FROM call_records GROUP BY 1, 2""",
    }


def upgrade() -> None:
    op.create_table('report_submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report', sa.String(length=50), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'submitted', 'approved', 'returned', name='approvalstatus', native_enum=False, length=32), nullable=False),
    sa.Column('computed', sa.JSON(), nullable=False),
    sa.Column('entered', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_report_submissions_region_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_submissions')),
    sa.UniqueConstraint('report', 'period_start', 'region_id', name='uq_report_submissions_unit_period')
    )
    op.create_index(op.f('ix_report_submissions_region_id'), 'report_submissions', ['region_id'], unique=False)
    op.create_table('report_submission_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['staff.id'], name=op.f('fk_report_submission_log_actor_id_staff')),
    sa.ForeignKeyConstraint(['submission_id'], ['report_submissions.id'], name=op.f('fk_report_submission_log_submission_id_report_submissions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_submission_log'))
    )
    op.create_index(op.f('ix_report_submission_log_submission_id'), 'report_submission_log', ['submission_id'], unique=False)
    op.create_index('ix_tickets_received_at', 'tickets', ['received_at'], unique=False)
    op.create_index('ix_steps_completed_at', 'steps', ['completed_at'], unique=False)
    op.create_index('ix_call_records_offered_at', 'call_records', ['offered_at'], unique=False)
    for name, sql in views(op.get_bind().dialect.name).items():
        op.execute(f"CREATE VIEW {name} AS {sql}")


def downgrade() -> None:
    for name in views(op.get_bind().dialect.name):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    op.drop_index('ix_call_records_offered_at', table_name='call_records')
    op.drop_index('ix_steps_completed_at', table_name='steps')
    op.drop_index('ix_tickets_received_at', table_name='tickets')
    op.drop_index(op.f('ix_report_submission_log_submission_id'), table_name='report_submission_log')
    op.drop_table('report_submission_log')
    op.drop_index(op.f('ix_report_submissions_region_id'), table_name='report_submissions')
    op.drop_table('report_submissions')
