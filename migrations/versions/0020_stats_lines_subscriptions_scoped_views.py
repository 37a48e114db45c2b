"""a ticket's optional line (线路) for repeat faults by line, report subscriptions (who is mailed
which report beyond its roles), and the BI views again with each row's region path, so a BI
tool's row filter for a unit is one predicate: region_path LIKE '%/<region id>/%'

(On SQLite a later batch alter of tickets, steps, departments or regions must drop these views
first and create them again after.)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 04:00:00
"""

import importlib.util
from pathlib import Path

from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

# Each region's ancestry as '/<province id>/<city id>/.../<its id>/' (ids are digits only, so the
# LIKE pattern has no wildcard of its own).
PATHS = """WITH RECURSIVE tree(region_id, region_path) AS (
    SELECT id, '/' || CAST(id AS VARCHAR(20)) || '/' FROM regions WHERE parent_id IS NULL
    UNION ALL
    SELECT r.id, tree.region_path || CAST(r.id AS VARCHAR(20)) || '/'
    FROM regions r JOIN tree ON r.parent_id = tree.region_id)
"""


def previous_views(dialect: str) -> dict[str, str]:
    """The views of revision 0014, which these extend (loaded from its file: it is not a package)."""
    path = Path(__file__).with_name("0014_ops_statistics.py")
    spec = importlib.util.spec_from_file_location("revision_0014", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.views(dialect)


def views(dialect: str) -> dict[str, str]:
    scoped = {name: f"{PATHS}SELECT v.*, tree.region_path FROM ({sql}) v "
                    "JOIN tree ON tree.region_id = v.region_id"
              for name, sql in previous_views(dialect).items() if name != "stat_calls_daily"}
    scoped["stat_regions"] = (f"{PATHS}SELECT r.id AS region_id, r.code, r.name, r.level, "
                              "r.parent_id, tree.region_path FROM regions r "
                              "JOIN tree ON tree.region_id = r.id")
    return scoped


def upgrade() -> None:
    op.add_column('tickets', sa.Column('line', sa.String(length=50), nullable=True))
    op.create_index('ix_tickets_address_received_at', 'tickets', ['address', 'received_at'], unique=False)
    op.create_index('ix_tickets_line_received_at', 'tickets', ['line', 'received_at'], unique=False)
    op.create_table('report_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report', sa.String(length=50), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('subscribed', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_report_subscriptions_staff_id_staff'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_subscriptions')),
    sa.UniqueConstraint('report', 'staff_id', name='uq_report_subscriptions_staff')
    )
    op.create_index(op.f('ix_report_subscriptions_staff_id'), 'report_subscriptions', ['staff_id'], unique=False)
    dialect = op.get_bind().dialect.name
    for name in previous_views(dialect):
        if name != "stat_calls_daily":
            op.execute(f"DROP VIEW {name}")
    for name, sql in views(dialect).items():
        op.execute(f"CREATE VIEW {name} AS {sql}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name in views(dialect):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    op.drop_index(op.f('ix_report_subscriptions_staff_id'), table_name='report_subscriptions')
    op.drop_table('report_subscriptions')
    op.drop_index('ix_tickets_line_received_at', table_name='tickets')
    op.drop_index('ix_tickets_address_received_at', table_name='tickets')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('line')
    for name, sql in previous_views(dialect).items():
        if name != "stat_calls_daily":
            op.execute(f"CREATE VIEW {name} AS {sql}")
