"""portal sessions kept server-side (ended on logout, password change, disable); staff.active

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 21:00:00
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('portal_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('started_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'],
                            name=op.f('fk_portal_sessions_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_sessions'))
    )
    with op.batch_alter_table('portal_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_sessions_staff_id'), ['staff_id'],
                              unique=False)
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active', sa.Boolean(), server_default=sa.true(),
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('active')
    with op.batch_alter_table('portal_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portal_sessions_staff_id'))
    op.drop_table('portal_sessions')
