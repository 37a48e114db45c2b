"""business groups: the call queue an agent answers, and the group a rostered shift serves

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 15:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('business_group', sa.String(length=50), nullable=True))
    with op.batch_alter_table('roster_shifts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('business_group', sa.String(length=50), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('roster_shifts', schema=None) as batch_op:
        batch_op.drop_column('business_group')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('business_group')
