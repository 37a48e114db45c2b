"""lifecycle versions: each page (with its forms) as first seen, and the version each ticket runs on

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 00:30:00
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lifecycle_versions',
    sa.Column('version', sa.String(length=16), nullable=False),
    sa.Column('type', sa.Enum('consultation', 'fault_repair', 'complaint', 'report', 'opinion',
                              'suggestion', 'business', name='tickettype', native_enum=False,
                              length=32), nullable=False),
    sa.Column('page', sa.Text(), nullable=False),
    sa.Column('forms', sa.Text(), nullable=False),
    sa.Column('first_seen_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_lifecycle_versions'))
    )
    with op.batch_alter_table('lifecycle_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lifecycle_versions_type'), ['type'], unique=False)
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lifecycle_version', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('lifecycle_version')
    with op.batch_alter_table('lifecycle_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lifecycle_versions_type'))
    op.drop_table('lifecycle_versions')
