"""customer lookups at intake (who looked up which number, when) and one-time intake form tokens

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 21:30:00
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('customer_lookups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('looked_up_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('found', sa.Boolean(), nullable=False),
    sa.Column('refused', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'],
                            name=op.f('fk_customer_lookups_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_lookups'))
    )
    with op.batch_alter_table('customer_lookups', schema=None) as batch_op:
        batch_op.create_index('ix_customer_lookups_staff_at', ['staff_id', 'looked_up_at'],
                              unique=False)

    op.create_table('intake_tokens',
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('issued_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'],
                            name=op.f('fk_intake_tokens_staff_id_staff')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'],
                            name=op.f('fk_intake_tokens_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token', name=op.f('pk_intake_tokens'))
    )
    with op.batch_alter_table('intake_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intake_tokens_staff_id'), ['staff_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('intake_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intake_tokens_staff_id'))
    op.drop_table('intake_tokens')
    with op.batch_alter_table('customer_lookups', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_lookups_staff_at')
    op.drop_table('customer_lookups')
