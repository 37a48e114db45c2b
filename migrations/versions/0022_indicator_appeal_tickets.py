"""indicator appeals: the tickets contested, and the deciding department's opinion

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 11:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('quality_indicator_appeals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opinion', sa.Text(), nullable=True))
    op.create_table('quality_indicator_appeal_tickets',
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['appeal_id'], ['quality_indicator_appeals.id'], name=op.f('fk_quality_indicator_appeal_tickets_appeal_id_quality_indicator_appeals')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_quality_indicator_appeal_tickets_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('appeal_id', 'ticket_id', name=op.f('pk_quality_indicator_appeal_tickets'))
    )
    with op.batch_alter_table('quality_indicator_appeal_tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quality_indicator_appeal_tickets_ticket_id'), ['ticket_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('quality_indicator_appeal_tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quality_indicator_appeal_tickets_ticket_id'))
    op.drop_table('quality_indicator_appeal_tickets')
    with op.batch_alter_table('quality_indicator_appeals', schema=None) as batch_op:
        batch_op.drop_column('opinion')
