"""A knowledge document is a chain of versions sharing `doc_key`; each version carries its own
scope, validity and approval. Stored status says what people did (draft, in review, approved,
withdrawn, superseded, expired); whether an approved version is scheduled, active or expired at an
instant is derived from its dates, so every reader (search, intake, the ticket page) agrees."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.core.base import Base, UTCDateTime, enum_column
from models.core.enums import Labelled
from models.org.organisation import Department


class ArticleKind(Labelled):
    script = "script", "统一答复口径"
    article = "article", "知识文章"
    rule = "rule", "中心制度"
    notice = "notice", "通知公告"


class ArticleStatus(Labelled):
    draft = "draft", "草稿"
    in_review = "in_review", "审核中"
    approved = "approved", "已批准（待生效）"
    active = "active", "生效中"  # derived only: approved and within its dates
    superseded = "superseded", "已被新版本替代"
    expired = "expired", "已过期"
    withdrawn = "withdrawn", "已撤回"


class Article(Base):
    __tablename__ = "knowledge_articles"
    __table_args__ = (
        UniqueConstraint("doc_key", "version", name="uq_knowledge_articles_doc_version"),
        # The expiry flow's and the search's "approved, and its dates" is one index range scan.
        Index("ix_knowledge_articles_status_valid_to", "status", "valid_to"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    doc_key: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column()
    base_id: Mapped[int | None] = mapped_column(ForeignKey("knowledge_articles.id"))  # the version it replaces
    kind: Mapped[ArticleKind] = enum_column(ArticleKind)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # Scope: None / empty means "any".
    ticket_type: Mapped[str | None] = mapped_column(String(32))
    subtype: Mapped[str | None] = mapped_column(String(50))
    region_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # a unit covers its subtree
    event_ref: Mapped[str | None] = mapped_column(String(64))  # an outage or event id
    customer_tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    status: Mapped[ArticleStatus] = enum_column(ArticleStatus, default=ArticleStatus.draft)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime)  # exclusive
    review_by: Mapped[date | None] = mapped_column(Date)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # superseded or withdrawn from
    reason: Mapped[str | None] = mapped_column(Text)  # the last send-back's or withdrawal's
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    department: Mapped[Department] = relationship()


class ArticleToken(Base):
    """The words of a version (jieba's search segmentation plus every pair of Chinese characters),
    so one query finds a word inside a phrase on SQLite and PostgreSQL alike."""

    __tablename__ = "knowledge_tokens"
    __table_args__ = (Index("ix_knowledge_tokens_token", "token", "article_id"),)

    article_id: Mapped[int] = mapped_column(
        ForeignKey("knowledge_articles.id", ondelete="CASCADE"), primary_key=True)
    token: Mapped[str] = mapped_column(String(64), primary_key=True)


class ArticleLog(Base):
    """Every action on a version: rows are only ever added."""

    __tablename__ = "knowledge_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("knowledge_articles.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(20))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
