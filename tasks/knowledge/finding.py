"""Reading the knowledge base: what is in force at an instant (the one rule every reader uses:
search, intake, the consultation step, the ticket page), the scripts for a call ranked by how
closely their scope fits, Chinese full-text search, and the script in force at a call."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from models.core.errors import InputError
from models.knowledge.articles import Article, ArticleKind, ArticleLog, ArticleStatus, ArticleToken
from models.knowledge.rules import CallContext, specificity
from models.tickets.ticket import Ticket
from tasks.knowledge.scope import call_for_ticket
from tasks.knowledge.words import query_words


def in_force(at: datetime) -> ColumnElement[bool]:
    """Approved by `at`, within its dates at `at`, and not superseded or withdrawn before it
    (stored expiry changes nothing here: the dates already say so)."""
    return and_(
        Article.approved_at <= at, Article.valid_from <= at,
        or_(Article.valid_to.is_(None), Article.valid_to > at),
        or_(Article.status.in_((ArticleStatus.approved, ArticleStatus.expired)),
            and_(Article.status.in_((ArticleStatus.superseded, ArticleStatus.withdrawn)),
                 Article.ended_at > at)))


@dataclass(frozen=True)
class Match:
    article: Article
    score: int


def for_call(session: Session, call: CallContext, *, at: datetime,
             kinds: tuple[ArticleKind, ...] = (ArticleKind.script,), limit: int = 10) -> list[Match]:
    """The versions in force at `at` whose scope fits the call, the most specific first."""
    rows = session.scalars(select(Article).where(in_force(at), Article.kind.in_(kinds)))
    found = [Match(a, s) for a in rows if (s := specificity(a, call)) is not None]
    found.sort(key=lambda m: (-m.score, m.article.doc_key, -m.article.version))
    return found[:limit]


def matching_ids(query: str):
    """The ids of versions holding every word of the query, or None for an empty query."""
    words = query_words(query)
    if not words:
        return None
    return (select(ArticleToken.article_id).where(ArticleToken.token.in_(words))
            .group_by(ArticleToken.article_id)
            .having(func.count(ArticleToken.token) == len(words)))


def search(session: Session, query: str, *, at: datetime, every_version: bool = False,
           kinds: tuple[ArticleKind, ...] = tuple(ArticleKind), limit: int = 50) -> list[Article]:
    """Versions holding every word of the query: by default only those in force at `at`; an
    editor's list (every_version) also shows drafts and ended versions."""
    statement = select(Article).where(Article.kind.in_(kinds))
    ids = matching_ids(query)
    if ids is not None:
        statement = statement.where(Article.id.in_(ids))
    if not every_version:
        statement = statement.where(in_force(at))
    return list(session.scalars(statement.order_by(Article.updated_at.desc(), Article.id.desc())
                                .limit(limit)))


def script_in_force(session: Session, ticket: Ticket) -> Match | None:
    """Which script was in force for this ticket at the time of the call: the best fit then."""
    found = for_call(session, call_for_ticket(session, ticket), at=ticket.received_at, limit=1)
    return found[0] if found else None


@dataclass(frozen=True)
class Used:
    """A reply that named its script: the step, the reference typed, the version (if it exists)."""

    step_id: int
    reference: str
    article: Article | None


def used_in(session: Session, ticket: Ticket) -> list[Used]:
    """The scripts the ticket's replies recorded, for quality inspection."""
    return [Used(step.id, ref, by_reference(session, ref)) for step in ticket.steps
            if (ref := (step.form_data or {}).get("script_used"))]


def versions(session: Session, doc_key: str) -> list[Article]:
    return list(session.scalars(select(Article).where(Article.doc_key == doc_key)
                                .order_by(Article.version.desc())))


def by_reference(session: Session, reference: str) -> Article | None:
    """A version named as "KB-00001/v2" (what a reply records)."""
    key, _, version = reference.strip().partition("/v")
    if not version.isdigit():
        return None
    return session.scalar(select(Article).where(Article.doc_key == key,
                                                Article.version == int(version)))


SCRIPT_FIELD = "script_used"  # a step form's field naming the version a reply followed


def check_used(session: Session, text: str, *, at: datetime, field: str = SCRIPT_FIELD) -> Article:
    """The version a reply names as its script: it must exist and be in force at `at`."""
    article = by_reference(session, text)
    if article is None:
        raise InputError(field, f"没有这个答复口径版本：{text}（格式如 KB-00001/v2）",
                         f"no such version {text!r}")
    if not session.scalar(select(func.count()).select_from(Article).where(
            Article.id == article.id, in_force(at))):
        raise InputError(field, f"答复口径 {text} 当前未生效，不能作为答复依据",
                         f"{text} is not in force")
    return article


def reference(article: Article) -> str:
    return f"{article.doc_key}/v{article.version}"


def history(session: Session, article: Article) -> list[ArticleLog]:
    return list(session.scalars(select(ArticleLog).where(ArticleLog.article_id == article.id)
                                .order_by(ArticleLog.id)))
