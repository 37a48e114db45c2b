"""Expiry, run by the scheduled flow (not by a page view): each approved version whose valid_to
has passed becomes expired, and its owning department's head is told; a version that ends within
the warning window is announced ahead. A superseded version is no longer approved, so it gets
neither. Each notice is keyed by version and kind, so a re-run queues nothing twice."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.core.enums import StaffRole
from models.knowledge.articles import Article, ArticleStatus
from models.knowledge.rules import Action, transition
from tasks.knowledge.finding import reference
from tasks.knowledge.versions import log
from tasks.messaging.outbox import enqueue_many, messages_to
from tasks.org.units import first_staff


@dataclass(frozen=True)
class ExpiryRun:
    expired: int
    warned: int
    queued: int  # messages new in the outbox


def _notices(session: Session, article: Article, template: str, key: str) -> list:
    head = first_staff(session, article.department_id, StaffRole.head)
    if head is None:
        return []
    return messages_to(head, key=f"{key}:{article.id}:{head.id}", template=template, context={
        "title": article.title, "reference": reference(article), "kind": article.kind.label,
        "valid_to": article.valid_to, "department": article.department.name})


def expire_due(session: Session, *, now: datetime, warn_days: int) -> ExpiryRun:
    intents, expired, warned = [], 0, 0
    due = list(session.scalars(select(Article).where(
        Article.status == ArticleStatus.approved, Article.valid_to <= now).with_for_update()))
    for article in due:
        article.status = transition(article.status, Action.expire, owner=False, approver=False)
        article.updated_at = now
        log(session, article, "系统", Action.expire.value, now)
        intents += _notices(session, article, "knowledge_expired", "knowledge-expired")
        expired += 1
    soon = list(session.scalars(select(Article).where(
        Article.status == ArticleStatus.approved, Article.valid_to > now,
        Article.valid_to <= now + timedelta(days=warn_days))))
    for article in soon:
        intents += _notices(session, article, "knowledge_expiring", "knowledge-expiring")
        warned += 1
    session.flush()
    return ExpiryRun(expired, warned, enqueue_many(session, intents, now=now))
