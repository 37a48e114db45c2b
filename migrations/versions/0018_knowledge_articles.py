"""the knowledge base: reply scripts, articles and centre documents (versions with scope and
validity), their search words and their action log

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 04:00:00
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('knowledge_articles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('doc_key', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('base_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('script', 'article', 'rule', 'notice', name='articlekind', native_enum=False, length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('ticket_type', sa.String(length=32), nullable=True),
    sa.Column('subtype', sa.String(length=50), nullable=True),
    sa.Column('region_ids', sa.JSON(), nullable=False),
    sa.Column('event_ref', sa.String(length=64), nullable=True),
    sa.Column('customer_tags', sa.JSON(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'in_review', 'approved', 'active', 'superseded', 'expired', 'withdrawn', name='articlestatus', native_enum=False, length=32), nullable=False),
    sa.Column('valid_from', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('valid_to', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('review_by', sa.Date(), nullable=True),
    sa.Column('approved_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['base_id'], ['knowledge_articles.id'], name=op.f('fk_knowledge_articles_base_id_knowledge_articles')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_knowledge_articles_department_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_articles')),
    sa.UniqueConstraint('doc_key', 'version', name='uq_knowledge_articles_doc_version')
    )
    op.create_index(op.f('ix_knowledge_articles_doc_key'), 'knowledge_articles', ['doc_key'], unique=False)
    op.create_index(op.f('ix_knowledge_articles_department_id'), 'knowledge_articles', ['department_id'], unique=False)
    op.create_index('ix_knowledge_articles_status_valid_to', 'knowledge_articles', ['status', 'valid_to'], unique=False)
    op.create_table('knowledge_tokens',
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['knowledge_articles.id'], name=op.f('fk_knowledge_tokens_article_id_knowledge_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('article_id', 'token', name=op.f('pk_knowledge_tokens'))
    )
    op.create_index('ix_knowledge_tokens_token', 'knowledge_tokens', ['token', 'article_id'], unique=False)
    op.create_table('knowledge_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['article_id'], ['knowledge_articles.id'], name=op.f('fk_knowledge_log_article_id_knowledge_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_log'))
    )
    op.create_index(op.f('ix_knowledge_log_article_id'), 'knowledge_log', ['article_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_knowledge_log_article_id'), table_name='knowledge_log')
    op.drop_table('knowledge_log')
    op.drop_index('ix_knowledge_tokens_token', table_name='knowledge_tokens')
    op.drop_table('knowledge_tokens')
    op.drop_index('ix_knowledge_articles_status_valid_to', table_name='knowledge_articles')
    op.drop_index(op.f('ix_knowledge_articles_department_id'), table_name='knowledge_articles')
    op.drop_index(op.f('ix_knowledge_articles_doc_key'), table_name='knowledge_articles')
    op.drop_table('knowledge_articles')
