"""the outage register (停电信息): outages, the units they cover, fault tickets linked to one;
ticket association (工单关联): ticket_links, into which tickets.linked_to_id is folded

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 04:00:00
"""

import importlib.util
from pathlib import Path

from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
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
    batch_op.drop_constraint('fk_tickets_linked_to_id_tickets', type_='foreignkey')
    batch_op.drop_index('ix_tickets_linked_to_id')
    batch_op.drop_column('linked_to_id')


def drop_outage_link(batch_op) -> None:
    batch_op.drop_constraint(batch_op.f('fk_tickets_outage_id_outages'), type_='foreignkey')
    batch_op.drop_index(batch_op.f('ix_tickets_outage_id'))
    batch_op.drop_column('outage_id')
    batch_op.add_column(sa.Column('linked_to_id', sa.Integer(), nullable=True))
    batch_op.create_index('ix_tickets_linked_to_id', ['linked_to_id'], unique=False)
    batch_op.create_foreign_key('fk_tickets_linked_to_id_tickets', 'tickets',
                                ['linked_to_id'], ['id'])


LINKS = sa.table('ticket_links', sa.column('master_id'), sa.column('member_id'),
                 sa.column('kind'), sa.column('created_at'), sa.column('created_by'))
TICKETS = sa.table('tickets', sa.column('id'), sa.column('linked_to_id'),
                   sa.column('received_at'))


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
    op.create_table(
        'ticket_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('master_id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.Enum('same_problem', 'duplicate', 'member', name='linkkind',
                                  native_enum=False, length=32), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(['master_id'], ['tickets.id'], ondelete='CASCADE',
                                name=op.f('fk_ticket_links_master_id_tickets')),
        sa.ForeignKeyConstraint(['member_id'], ['tickets.id'], ondelete='CASCADE',
                                name=op.f('fk_ticket_links_member_id_tickets')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_links')),
        sa.UniqueConstraint('member_id', name='uq_ticket_links_member_id'),
    )
    op.create_index(op.f('ix_ticket_links_master_id'), 'ticket_links', ['master_id'],
                    unique=False)
    # The known-fault check's links, written by the system when the call came in.
    op.execute(LINKS.insert().from_select(
        ['master_id', 'member_id', 'kind', 'created_at', 'created_by'],
        sa.select(TICKETS.c.linked_to_id, TICKETS.c.id, sa.literal('same_problem'),
                  TICKETS.c.received_at, sa.literal('系统'))
        .where(TICKETS.c.linked_to_id.is_not(None))))
    alter_tickets(add_outage_link)


def downgrade() -> None:
    alter_tickets(drop_outage_link)
    bind = op.get_bind()
    for master_id, member_id in bind.execute(sa.select(LINKS.c.master_id, LINKS.c.member_id)
                                             .where(LINKS.c.kind == 'same_problem')).all():
        bind.execute(TICKETS.update().where(TICKETS.c.id == member_id)
                     .values(linked_to_id=master_id))
    op.drop_index(op.f('ix_ticket_links_master_id'), table_name='ticket_links')
    op.drop_table('ticket_links')
    op.drop_index(op.f('ix_outage_areas_region_id'), table_name='outage_areas')
    op.drop_table('outage_areas')
    op.drop_index('ix_outages_status_start', table_name='outages')
    op.drop_table('outages')
