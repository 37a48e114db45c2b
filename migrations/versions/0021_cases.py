"""cases: lifecycles over subjects other than tickets; steps and events belong to a ticket or a case

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 04:00:00
"""

import importlib.util
from pathlib import Path

from alembic import op
import sqlalchemy as sa
import models.base


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

ONE_SUBJECT = "(ticket_id IS NULL) <> (case_id IS NULL)"


def _revision(pattern: str):
    """An earlier revision's module (loaded from its file: the folder is not a package)."""
    path = next(Path(__file__).parent.glob(pattern))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _views() -> dict[str, str]:
    """The BI views as 0020 left them (the calls view still 0014's): SQLite's batch alter
    rebuilds the steps and events tables under them."""
    dialect = op.get_bind().dialect.name
    calls = _revision("0014_*.py").views(dialect)["stat_calls_daily"]
    return {"stat_calls_daily": calls, **_revision("0020_*.py").views(dialect)}


def upgrade() -> None:
    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=50), nullable=False),
    sa.Column('ref_id', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('lifecycle_version', sa.String(length=16), nullable=True),
    sa.Column('flow_run_id', sa.String(length=64), nullable=True),
    sa.Column('opened_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('opened_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['opened_by_id'], ['staff.id'], name=op.f('fk_cases_opened_by_id_staff')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_cases_region_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('number', name=op.f('uq_cases_number'))
    )
    op.create_index(op.f('ix_cases_kind'), 'cases', ['kind'], unique=False)
    op.create_index(op.f('ix_cases_ref_id'), 'cases', ['ref_id'], unique=False)
    op.create_index(op.f('ix_cases_region_id'), 'cases', ['region_id'], unique=False)
    op.create_table('case_versions',
    sa.Column('version', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=50), nullable=False),
    sa.Column('page', sa.Text(), nullable=False),
    sa.Column('forms', sa.Text(), nullable=False),
    sa.Column('first_seen_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_case_versions'))
    )
    op.create_index(op.f('ix_case_versions_kind'), 'case_versions', ['kind'], unique=False)
    sqlite = op.get_bind().dialect.name == "sqlite"
    views = _views()
    if sqlite:
        for name in views:
            op.execute(f"DROP VIEW IF EXISTS {name}")
    with op.batch_alter_table('steps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_id', sa.Integer(), nullable=True))
        batch_op.alter_column('ticket_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(batch_op.f('fk_steps_case_id_cases'), 'cases', ['case_id'], ['id'], ondelete='CASCADE')
        batch_op.create_unique_constraint('uq_steps_case_step_attempt', ['case_id', 'step_key', 'attempt'])
        batch_op.create_check_constraint('one_subject', ONE_SUBJECT)
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_id', sa.Integer(), nullable=True))
        batch_op.alter_column('ticket_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(batch_op.f('fk_events_case_id_cases'), 'cases', ['case_id'], ['id'], ondelete='CASCADE')
        batch_op.create_index(batch_op.f('ix_events_case_id'), ['case_id'], unique=False)
        batch_op.create_check_constraint('one_subject', ONE_SUBJECT)
    if sqlite:
        for name, sql in views.items():
            op.execute(f"CREATE VIEW {name} AS {sql}")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    views = _views()
    if sqlite:
        for name in views:
            op.execute(f"DROP VIEW IF EXISTS {name}")
    op.execute("DELETE FROM events WHERE case_id IS NOT NULL")
    op.execute("DELETE FROM steps WHERE case_id IS NOT NULL")
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_constraint('ck_events_one_subject', type_='check')
        batch_op.drop_index(batch_op.f('ix_events_case_id'))
        batch_op.drop_constraint(batch_op.f('fk_events_case_id_cases'), type_='foreignkey')
        batch_op.alter_column('ticket_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('case_id')
    with op.batch_alter_table('steps', schema=None) as batch_op:
        batch_op.drop_constraint('ck_steps_one_subject', type_='check')
        batch_op.drop_constraint('uq_steps_case_step_attempt', type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_steps_case_id_cases'), type_='foreignkey')
        batch_op.alter_column('ticket_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('case_id')
    if sqlite:
        for name, sql in views.items():
            op.execute(f"CREATE VIEW {name} AS {sql}")
    op.drop_index(op.f('ix_case_versions_kind'), table_name='case_versions')
    op.drop_table('case_versions')
    op.drop_index(op.f('ix_cases_region_id'), table_name='cases')
    op.drop_index(op.f('ix_cases_ref_id'), table_name='cases')
    op.drop_index(op.f('ix_cases_kind'), table_name='cases')
    op.drop_table('cases')
