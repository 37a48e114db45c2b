"""Writing versions: a new document, a new version of one, editing a draft, and each action of
the approval checked by models.knowledge.rules.transition, then logged. Approving a version
supersedes the one it replaces in the same transaction, by a compare-and-set on that row: of two
versions approved at once over the same base, one wins and the other gets a clear error."""

import uuid
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models.core.enums import StaffRole
from models.core.errors import InputError
from models.knowledge.articles import Article, ArticleLog, ArticleStatus, ArticleToken
from models.knowledge.drafts import DraftValues
from models.knowledge.rules import Action, transition, validity
from models.org.organisation import Region, Staff
from tasks.knowledge.words import index_words

APPROVERS = (StaffRole.head, StaffRole.supervisor, StaffRole.admin)


def may_approve(staff: Staff) -> bool:
    return staff.role in APPROVERS


def owns(staff: Staff, article: Article) -> bool:
    return staff.department_id == article.department_id or staff.role == StaffRole.admin


def _region_ids(session: Session, codes: tuple[str, ...]) -> list[int]:
    found = dict(session.execute(select(Region.code, Region.id).where(Region.code.in_(codes))).all())
    missing = [c for c in codes if c not in found]
    if missing:
        raise InputError("regions", f"没有这个单位：{'、'.join(missing)}", f"unknown units {missing}")
    return [found[c] for c in codes]


def _fill(session: Session, article: Article, values: DraftValues, timezone: str) -> None:
    start, end = validity(values.valid_from, values.valid_to, timezone)
    article.kind, article.title, article.body = values.kind, values.title, values.body
    article.ticket_type, article.subtype = values.ticket_type, values.subtype
    article.region_ids = _region_ids(session, values.region_codes)
    article.event_ref, article.customer_tags = values.event_ref, list(values.customer_tags)
    article.valid_from, article.valid_to, article.review_by = start, end, values.review_by


def _index(session: Session, article: Article) -> None:
    session.flush()
    session.query(ArticleToken).filter(ArticleToken.article_id == article.id).delete()
    session.add_all(ArticleToken(article_id=article.id, token=word)
                    for word in index_words(f"{article.title}\n{article.body}"))


def log(session: Session, article: Article, actor: str, action: str, at: datetime,
        **detail) -> None:
    session.add(ArticleLog(article_id=article.id, at=at, actor=actor, action=action,
                           detail=detail or None))


def create(session: Session, staff: Staff, values: DraftValues, *, now: datetime,
           timezone: str, doc_key: str | None = None) -> Article:
    """Version 1 of a new document (a draft), owned by the author's department."""
    if doc_key and session.scalar(select(Article.id).where(Article.doc_key == doc_key)):
        raise InputError("doc_key", f"文档编号 {doc_key} 已存在", "the document key is taken")
    article = Article(doc_key=doc_key or uuid.uuid4().hex[:32], version=1,
                      department_id=staff.department_id, status=ArticleStatus.draft,
                      created_at=now, updated_at=now)
    _fill(session, article, values, timezone)
    session.add(article)
    session.flush()
    if doc_key is None:
        article.doc_key = f"KB-{article.id:05d}"
    _index(session, article)
    log(session, article, staff.name, "create", now)
    return article


def new_version(session: Session, staff: Staff, base: Article, values: DraftValues, *,
                now: datetime, timezone: str) -> Article:
    """The next version of base's document, a draft that replaces base once approved."""
    if not owns(staff, base):
        raise InputError("action", "只有归口部门可以编写新版本", "only the owners write versions")
    if base.status not in (ArticleStatus.approved, ArticleStatus.expired):
        raise InputError("action", f"该版本{base.status.label}，只能基于已批准或已过期的版本新建版本",
                         "a new version starts from an approved or expired one")
    latest = session.scalar(select(func.max(Article.version)).where(Article.doc_key == base.doc_key))
    article = Article(doc_key=base.doc_key, version=latest + 1, base_id=base.id,
                      department_id=base.department_id, status=ArticleStatus.draft,
                      created_at=now, updated_at=now)
    _fill(session, article, values, timezone)
    session.add(article)
    _index(session, article)
    log(session, article, staff.name, "create", now, base_version=base.version)
    return article


def edit(session: Session, staff: Staff, article: Article, values: DraftValues, *,
         now: datetime, timezone: str) -> Article:
    if not owns(staff, article):
        raise InputError("action", "只有归口部门可以修改", "only the owners edit")
    if article.status != ArticleStatus.draft:
        raise InputError("action", f"该版本{article.status.label}，只有草稿可以修改",
                         "only a draft is edited")
    _fill(session, article, values, timezone)
    article.updated_at = now
    _index(session, article)
    log(session, article, staff.name, "edit", now)
    return article


def act(session: Session, staff: Staff, article: Article, action: Action, *, now: datetime,
        reason: str = "") -> Article:
    """One action of the approval by a person (submit, approve, send back, withdraw)."""
    if action in (Action.supersede, Action.expire):
        raise InputError("action", "该操作由系统执行", "done by the system only")
    article.status = transition(article.status, action, owner=owns(staff, article),
                                approver=may_approve(staff), reason=reason)
    if action == Action.approve:
        article.approved_at = now
        if article.base_id is not None:
            _supersede(session, article, max(now, article.valid_from), staff.name)
    if action == Action.withdraw:
        article.ended_at = now
    if reason.strip():
        article.reason = reason.strip()
    article.updated_at = now
    session.flush()
    log(session, article, staff.name, action.value, now, **({"reason": reason.strip()}
                                                            if reason.strip() else {}))
    return article


def _supersede(session: Session, article: Article, at: datetime, actor: str) -> None:
    """The base stops being in force when the new version starts. Only the row still approved is
    changed: a concurrent approval over the same base waits for this one, then changes nothing."""
    changed = session.execute(
        update(Article).where(Article.id == article.base_id,
                              Article.status == ArticleStatus.approved)
        .values(status=ArticleStatus.superseded, ended_at=at, updated_at=at)
        .execution_options(synchronize_session=False)).rowcount
    base = session.get(Article, article.base_id)
    session.refresh(base)
    if changed == 1:
        log(session, base, actor, Action.supersede.value, at, by_version=article.version)
        return
    if base.status == ArticleStatus.superseded:
        winner = session.scalar(select(Article.version).where(
            Article.base_id == base.id, Article.status == ArticleStatus.approved,
            Article.id != article.id).order_by(Article.version.desc()))
        raise InputError("action", f"第{base.version}版已被第{winner or '?'}版替代，本版本不能再发布；"
                         "请基于最新版本新建版本", "the base was superseded by another version")
    # the base expired or was withdrawn meanwhile: nothing to supersede
