"""the outage register (停电信息): outages, the units they cover, fault tickets linked to one

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 04:00:00
"""

import importlib.util
from pathlib import Path

from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def statistics_views() -> dict[str, str]:
    """0014's views of the indicators: SQLite's batch alter of tickets must drop them first."""
    spec = importlib.util.spec_from_file_location(
        "statistics_views", Path(__file__).with_name("0014_ops_statistics.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.views(op.get_bind().dialect.name)


def alter_tickets(change) -> None:
    views = statistics_views() if op.get_bind().dialect.name == "sqlite" else {}
    for name in views:
        op.execute(f"DROP VIEW IF EXISTS {name}")
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        change(batch_op)
    for name, sql in views.items():
        op.execute(f"CREATE VIEW {name} AS {sql}")


def add_outage_link(batch_op) -> None:
    batch_op.add_column(sa.Column('outage_id', sa.Integer(), nullable=True))
    batch_op.create_index(batch_op.f('ix_tickets_outage_id'), ['outage_id'], unique=False)
    batch_op.create_foreign_key(batch_op.f('fk_tickets_outage_id_outages'), 'outages',
                                ['outage_id'], ['id'])


def drop_outage_link(batch_op) -> None:
    batch_op.drop_constraint(batch_op.f('fk_tickets_outage_id_outages'), type_='foreignkey')
    batch_op.drop_index(batch_op.f('ix_tickets_outage_id'))
    batch_op.drop_column('outage_id')


def upgrade() -> None:
    op.create_table(
        'outages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=40), nullable=False),
        sa.Column('kind', sa.Enum('planned', 'temporary', 'fault', name='outagekind',
                                  native_enum=False, length=32), nullable=False),
        sa.Column('status', sa.Enum('planned', 'active', 'restored', 'cancelled',
                                    name='outagestatus', native_enum=False, length=32),
                  nullable=False),
        sa.Column('lines', sa.JSON(), nullable=False),
        sa.Column('start_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('restore_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('restored_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('source_ticket_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(['source_ticket_id'], ['tickets.id'],
                                name=op.f('fk_outages_source_ticket_id_tickets')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outages')),
        sa.UniqueConstraint('number', name=op.f('uq_outages_number')),
    )
    op.create_index('ix_outages_status_start', 'outages', ['status', 'start_at'], unique=False)
    op.create_table(
        'outage_areas',
        sa.Column('outage_id', sa.Integer(), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['outage_id'], ['outages.id'], ondelete='CASCADE',
                                name=op.f('fk_outage_areas_outage_id_outages')),
        sa.ForeignKeyConstraint(['region_id'], ['regions.id'],
                                name=op.f('fk_outage_areas_region_id_regions')),
        sa.PrimaryKeyConstraint('outage_id', 'region_id', name=op.f('pk_outage_areas')),
    )
    op.create_index(op.f('ix_outage_areas_region_id'), 'outage_areas', ['region_id'],
                    unique=False)
    alter_tickets(add_outage_link)


def downgrade() -> None:
    alter_tickets(drop_outage_link)
    op.drop_index(op.f('ix_outage_areas_region_id'), table_name='outage_areas')
    op.drop_table('outage_areas')
    op.drop_index('ix_outages_status_start', table_name='outages')
    op.drop_table('outages')
