"""the daily rollup of the statistics: each closed day's figures per indicator, breakdown, unit and
dimension value, read for whole days that are not stale (docs/statistics.md, Daily rollup)

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 21:30:00
"""

from alembic import op
import sqlalchemy as sa

from models.core.base import UTCDateTime

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'stat_rollup_days',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('stale', sa.Boolean(), nullable=False),
        sa.Column('rolled_at', UTCDateTime(), nullable=True),
        sa.Column('version', sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint('day', name=op.f('pk_stat_rollup_days')),
    )
    op.create_table(
        'stat_rollup',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('indicator', sa.String(length=50), nullable=False),
        sa.Column('dimension', sa.String(length=20), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=True),
        sa.Column('department_id', sa.Integer(), nullable=True),
        sa.Column('dim', sa.String(length=100), nullable=True),
        sa.Column('counts_from', UTCDateTime(), nullable=True),
        sa.Column('num', sa.Double(), nullable=False),
        sa.Column('den', sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(['day'], ['stat_rollup_days.day'], ondelete='CASCADE',
                                name=op.f('fk_stat_rollup_day_stat_rollup_days')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stat_rollup')),
    )
    op.create_index('ix_stat_rollup_read', 'stat_rollup', ['indicator', 'dimension', 'day'])


def downgrade() -> None:
    op.drop_index('ix_stat_rollup_read', table_name='stat_rollup')
    op.drop_table('stat_rollup')
    op.drop_table('stat_rollup_days')
