"""satisfaction surveys by SMS: a survey per sampled ticket and every uplink reply

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 04:00:00
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

TYPES = ('consultation', 'fault_repair', 'complaint', 'report', 'opinion', 'suggestion', 'business')


def upgrade() -> None:
    op.create_table('surveys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign', sa.String(length=40), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('ticket_type', sa.Enum(*TYPES, name='tickettype', native_enum=False, length=32), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('draw', sa.Double(), nullable=False),
    sa.Column('rate', sa.Double(), nullable=False),
    sa.Column('valid_hours', sa.Double(), nullable=False),
    sa.Column('status', sa.Enum('awaiting', 'answered', 'no_answer', 'undelivered', 'skipped', name='surveystatus', native_enum=False, length=32), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('answer', sa.Enum('satisfied', 'fairly', 'unsatisfied', name='answer', native_enum=False, length=32), nullable=True),
    sa.Column('answered_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('follow_up_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['follow_up_id'], ['tickets.id'], name=op.f('fk_surveys_follow_up_id_tickets')),
    sa.ForeignKeyConstraint(['message_id'], ['outbox.id'], name=op.f('fk_surveys_message_id_outbox')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_surveys_region_id_regions')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_surveys_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_surveys')),
    sa.UniqueConstraint('ticket_id', name=op.f('uq_surveys_ticket_id'))
    )
    op.create_index('ix_surveys_phone_created', 'surveys', ['phone', 'created_at'], unique=False)
    op.create_index(op.f('ix_surveys_region_id'), 'surveys', ['region_id'], unique=False)
    op.create_index(op.f('ix_surveys_status'), 'surveys', ['status'], unique=False)
    op.create_table('survey_replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.String(length=64), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('received_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.Enum('counted', 'late', 'unknown', 'garbage', 'repeat', name='replyoutcome', native_enum=False, length=32), nullable=False),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_replies_survey_id_surveys')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_replies')),
    sa.UniqueConstraint('platform_id', name=op.f('uq_survey_replies_platform_id'))
    )
    op.create_index(op.f('ix_survey_replies_survey_id'), 'survey_replies', ['survey_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_survey_replies_survey_id'), table_name='survey_replies')
    op.drop_table('survey_replies')
    op.drop_index(op.f('ix_surveys_status'), table_name='surveys')
    op.drop_index(op.f('ix_surveys_region_id'), table_name='surveys')
    op.drop_index('ix_surveys_phone_created', table_name='surveys')
    op.drop_table('surveys')
