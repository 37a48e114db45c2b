"""service quality: scorecard revisions, samples with their seeds, inspections, results (versions), indicator appeals

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 03:54:58.694326
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('quality_samples',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan', sa.String(length=50), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('drawn_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_samples')),
    sa.UniqueConstraint('plan', 'period_start', name='uq_quality_samples_plan_period')
    )
    op.create_table('quality_scorecards',
    sa.Column('revision', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=50), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('first_seen_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('revision', name=op.f('pk_quality_scorecards'))
    )
    with op.batch_alter_table('quality_scorecards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quality_scorecards_key'), ['key'], unique=False)

    op.create_table('quality_indicator_appeals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('indicator', sa.String(length=50), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('figure', sa.String(length=50), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('filed_by_id', sa.Integer(), nullable=False),
    sa.Column('filed_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('department_kind', sa.Enum('service_centre', 'repair', 'marketing', 'metering', 'discipline', 'quality', name='departmentkind', native_enum=False, length=32), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('due_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('upheld', sa.Boolean(), nullable=True),
    sa.Column('corrected', sa.String(length=50), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['staff.id'], name=op.f('fk_quality_indicator_appeals_decided_by_id_staff')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_quality_indicator_appeals_department_id_departments')),
    sa.ForeignKeyConstraint(['filed_by_id'], ['staff.id'], name=op.f('fk_quality_indicator_appeals_filed_by_id_staff')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_quality_indicator_appeals_region_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_indicator_appeals'))
    )
    with op.batch_alter_table('quality_indicator_appeals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quality_indicator_appeals_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quality_indicator_appeals_region_id'), ['region_id'], unique=False)

    op.create_table('quality_inspections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sample_id', sa.Integer(), nullable=False),
    sa.Column('plan', sa.String(length=50), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('inspector_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['staff.id'], name=op.f('fk_quality_inspections_agent_id_staff')),
    sa.ForeignKeyConstraint(['inspector_id'], ['staff.id'], name=op.f('fk_quality_inspections_inspector_id_staff')),
    sa.ForeignKeyConstraint(['sample_id'], ['quality_samples.id'], name=op.f('fk_quality_inspections_sample_id_quality_samples')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_quality_inspections_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_inspections')),
    sa.UniqueConstraint('plan', 'ticket_id', name='uq_quality_inspections_plan_ticket')
    )
    with op.batch_alter_table('quality_inspections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quality_inspections_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quality_inspections_inspector_id'), ['inspector_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quality_inspections_sample_id'), ['sample_id'], unique=False)

    op.create_table('quality_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inspection_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('replaces_id', sa.Integer(), nullable=True),
    sa.Column('revision', sa.String(length=16), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('score', sa.Double(), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('vetoed', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('prepublished', 'appealed', 'published', 'amended', name='resultstatus', native_enum=False, length=32), nullable=False),
    sa.Column('scored_by_id', sa.Integer(), nullable=False),
    sa.Column('scored_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('window_ends_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('appeal_reason', sa.Text(), nullable=True),
    sa.Column('appealed_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('review_note', sa.Text(), nullable=True),
    sa.Column('reviewed_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['inspection_id'], ['quality_inspections.id'], name=op.f('fk_quality_results_inspection_id_quality_inspections')),
    sa.ForeignKeyConstraint(['replaces_id'], ['quality_results.id'], name=op.f('fk_quality_results_replaces_id_quality_results')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['staff.id'], name=op.f('fk_quality_results_reviewer_id_staff')),
    sa.ForeignKeyConstraint(['revision'], ['quality_scorecards.revision'], name=op.f('fk_quality_results_revision_quality_scorecards')),
    sa.ForeignKeyConstraint(['scored_by_id'], ['staff.id'], name=op.f('fk_quality_results_scored_by_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_results')),
    sa.UniqueConstraint('inspection_id', 'version', name='uq_quality_results_version')
    )
    with op.batch_alter_table('quality_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quality_results_inspection_id'), ['inspection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quality_results_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_quality_results_window_ends_at'), ['window_ends_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('quality_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quality_results_window_ends_at'))
        batch_op.drop_index(batch_op.f('ix_quality_results_status'))
        batch_op.drop_index(batch_op.f('ix_quality_results_inspection_id'))

    op.drop_table('quality_results')
    with op.batch_alter_table('quality_inspections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quality_inspections_sample_id'))
        batch_op.drop_index(batch_op.f('ix_quality_inspections_inspector_id'))
        batch_op.drop_index(batch_op.f('ix_quality_inspections_agent_id'))

    op.drop_table('quality_inspections')
    with op.batch_alter_table('quality_indicator_appeals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quality_indicator_appeals_region_id'))
        batch_op.drop_index(batch_op.f('ix_quality_indicator_appeals_department_id'))

    op.drop_table('quality_indicator_appeals')
    with op.batch_alter_table('quality_scorecards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quality_scorecards_key'))

    op.drop_table('quality_scorecards')
    op.drop_table('quality_samples')
