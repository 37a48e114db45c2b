"""提交审核 / 批准 / 退回 on the lifecycle engine (flows/lifecycles/cases/knowledge_review.yaml): the
first 提交审核 opens the version's case, reviewed in its owning department; 批准 and 退回 complete its
review step, a 提交审核 after a 退回 completes its revise step, and 撤回 completes whichever is open.
Each step's `status:` applies the
knowledge base's own rule (tasks/knowledge/review_case.py), so a refusal writes nothing."""

from datetime import datetime

from flows.cases import complete_case_step, start_case
from models.knowledge.articles import Article
from models.knowledge.rules import Action
from models.org.organisation import Staff
from tasks.cases.store import open_case_of
from tasks.core.db import session_scope
from tasks.knowledge import versions
from tasks.knowledge.finding import reference

KIND = "knowledge_review"
STEPS = {Action.submit: ("revise",), Action.approve: ("review",), Action.send_back: ("review",),
         Action.withdraw: ("review", "revise")}
OUTCOMES = {Action.submit: "重新提交", Action.approve: "批准", Action.send_back: "退回",
            Action.withdraw: "撤回"}


def act_on_article(staff_id: int, article_id: int, action: Action, *, now: datetime,
                   reason: str = "") -> str:
    """提交审核, 批准, 退回 or 撤回 a version through its case; returns the case number (empty
    when it has none)."""
    with session_scope() as session:
        staff, article = session.get(Staff, staff_id), session.get(Article, article_id)
        case = open_case_of(session, KIND, article.id)
        key = next((s.step_key for s in case.steps if s.step_key in STEPS.get(action, ())
                    and s.status == "open"), None) if case else None
        if key is None:
            # Not a step this action completes: the rule says why not, or (the first 提交审核,
            # a 撤回 before it) applies it directly.
            versions.act(session, staff, article, action, now=now, reason=reason)
            if case is not None or action != Action.submit:
                return case.number if case else ""
            return start_case(session, KIND, article.id, article.department.region_id,
                              f"知识审核（{reference(article)} {article.title}）",
                              opened_by=staff, now=now).number
        number = case.number
    data = {"result": OUTCOMES[action], "reason": reason}
    complete_case_step(number, key, data, staff_id, now=now)
    return number
