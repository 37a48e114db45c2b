"""提交审核 / 批准 / 退回 on the lifecycle engine: the knowledge_review subject's adapter. The case's
`status:` names the version's status to reach; the action that reaches it is checked by the
knowledge base's one rule (tasks.knowledge.versions.act -> models.knowledge.rules.transition), so
approving supersedes the old version in the step's own transaction."""

from datetime import datetime

from sqlalchemy import select, true
from sqlalchemy.orm import Session

from models.cases.case import Case
from models.core.enums import StaffRole
from models.core.errors import InputError
from models.knowledge.articles import Article, ArticleStatus
from models.knowledge.rules import Action
from models.org.organisation import Staff
from tasks.knowledge import versions
from tasks.knowledge.finding import reference

ACTIONS = {ArticleStatus.in_review: Action.submit, ArticleStatus.approved: Action.approve,
           ArticleStatus.draft: Action.send_back, ArticleStatus.withdrawn: Action.withdraw}
REVIEWER = "reviewer"


def transition(session: Session, case: Case, status: str, by: Staff | None, data: dict,
               now: datetime) -> None:
    if by is None:
        raise InputError("by", "知识审核须由具体人员办理", "a knowledge version is reviewed by a person")
    versions.act(session, by, session.get(Article, case.ref_id), ACTIONS[ArticleStatus(status)],
                 now=now, reason=data.get("reason") or "")


def person(session: Session, case: Case, name: str) -> Staff | None:
    """`reviewer`: the owning department's head, else the centre's first supervisor or admin."""
    if name != REVIEWER:
        return None
    article = session.get(Article, case.ref_id)
    for where in (Staff.department_id == article.department_id, true()):
        found = session.scalar(select(Staff).where(where, Staff.role.in_(versions.APPROVERS))
                               .order_by(Staff.role != StaffRole.head, Staff.id))
        if found is not None:
            return found
    return None


def describe(session: Session, case: Case) -> str:
    article = session.get(Article, case.ref_id)
    if article is None:
        return ""
    return (f"- 文档：{reference(article)} {article.title}\n- 类别：{article.kind.label}\n"
            f"- 状态：{article.status.label}\n")


def link(session: Session, case: Case) -> str:
    return f"/knowledge/{case.ref_id}"
