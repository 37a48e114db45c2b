"""one-time password set-up links (org import, admin reset) and the important-customer flag

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 00:30:00
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('password_setups',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('issued_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'],
                            name=op.f('fk_password_setups_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_setups'))
    )
    with op.batch_alter_table('password_setups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_password_setups_staff_id'), ['staff_id'], unique=False)
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('important', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('important')
    with op.batch_alter_table('password_setups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_password_setups_staff_id'))
    op.drop_table('password_setups')
