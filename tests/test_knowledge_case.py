"""知识审核 on the lifecycle engine, on a real Prefect server with the in-process worker: a new
version submitted, sent back to its author, revised and resubmitted, then approved in its owning
department, and the version it replaces superseded in the same step; and one withdrawn while in
review, which ends its case."""

import pendulum
import pytest
from sqlalchemy import select

from flows.knowledge_review import act_on_article
from models.core.errors import InputError
from models.knowledge.articles import Article, ArticleStatus
from models.knowledge.drafts import check_draft
from models.knowledge.rules import Action
from models.org.organisation import Staff
from tasks.cases.store import case_inbox
from tasks.core.db import session_scope
from tasks.knowledge import finding, versions
from tests.knowledge_centre import TZ, draft
from tests.lifecycle_harness import live_centre, running_centre
from tests.test_cases import case_of, staff_id, wait_at

AUTHOR, HEAD = "D3201-marketing-1", "D3201-marketing-H"


@pytest.fixture(scope="module")
def centre(postgres_server, tmp_path_factory):
    yield from running_centre(postgres_server, tmp_path_factory)


@pytest.fixture
def live(centre):
    with live_centre(centre):
        yield centre


def published_and_new_version(now) -> tuple[int, int]:
    """Version 1 approved (off the engine), and version 2 written as a draft over it."""
    with session_scope() as session:
        author, head = (session.scalar(select(Staff).where(Staff.code == c)) for c in (AUTHOR, HEAD))
        first = versions.create(session, author, check_draft(draft()), now=now, timezone=TZ)
        versions.act(session, author, first, Action.submit, now=now)
        versions.act(session, head, first, Action.approve, now=now)
        second = versions.new_version(session, author, first,
                                      check_draft(draft(body="居民阶梯电价按年度累计电量分三档计价。")),
                                      now=now, timezone=TZ)
        session.flush()
        return first.id, second.id


def states(*ids: int) -> list[ArticleStatus]:
    with session_scope() as session:
        return [session.get(Article, i).status for i in ids]


def test_a_version_sent_back_resubmitted_and_approved_on_the_engine(live):
    now = pendulum.now("UTC")
    old, new = published_and_new_version(now)
    author, head = staff_id(AUTHOR), staff_id(HEAD)
    number = act_on_article(author, new, Action.submit, now=now)
    review = wait_at(number, "review")
    assert number.startswith("KR") and review["steps"][0][3] == "D3201-marketing"
    with session_scope() as session:  # the head's inbox lists it under 内部流程
        inbox = case_inbox(session, session.get(Staff, head).department_id)
        assert [(c.number, s.step_key, s.assignee_id) for c, s in inbox] == [(number, "review", head)]
    with pytest.raises(InputError) as refused:
        act_on_article(head, new, Action.send_back, now=now)
    assert refused.value.zh == "reason：退回时须填写退回原因"
    act_on_article(head, new, Action.send_back, now=now, reason="分档标准请写明电量")
    revise = wait_at(number, "revise")
    assert states(old, new) == [ArticleStatus.approved, ArticleStatus.draft]
    with pytest.raises(InputError) as refused:
        act_on_article(head, new, Action.approve, now=now)
    assert refused.value.zh == "该版本草稿，不能审核"
    with session_scope() as session:
        versions.edit(session, session.get(Staff, author), session.get(Article, new),
                      check_draft(draft(body="居民阶梯电价按年度累计电量分三档：2760、4800千瓦时。")),
                      now=now, timezone=TZ)
    assert act_on_article(author, new, Action.submit, now=now) == number
    wait_at(number, "review")
    act_on_article(head, new, Action.approve, now=now)
    done = wait_at(number, None)
    assert states(old, new) == [ArticleStatus.superseded, ArticleStatus.approved]
    assert done["status"] == "closed" and revise["steps"][1][3] == "D3201-marketing"
    assert [s[:3] for s in done["steps"]] == [("review", 1, "done"), ("revise", 1, "done"),
                                              ("review", 2, "done"), ("close", 1, "done")]
    with session_scope() as session:
        log = [(e.actor, e.action) for e in finding.history(session, session.get(Article, new))]
    assert [a for _, a in log] == ["create", "submit", "send_back", "edit", "submit", "approve"]
    assert case_of(number)["events"][-1][2] == "已批准"


def test_a_version_withdrawn_in_review_ends_its_case(live):
    now = pendulum.now("UTC")
    old, new = published_and_new_version(now)
    number = act_on_article(staff_id(AUTHOR), new, Action.submit, now=now)
    wait_at(number, "review")
    with pytest.raises(InputError) as refused:
        act_on_article(staff_id(AUTHOR), new, Action.withdraw, now=now)
    assert refused.value.zh == "撤回须填写原因"
    act_on_article(staff_id(AUTHOR), new, Action.withdraw, now=now, reason="政策调整，暂不发布")
    done = wait_at(number, None)
    assert states(old, new) == [ArticleStatus.approved, ArticleStatus.withdrawn]
    assert done["status"] == "closed"
    assert [s[:3] for s in done["steps"]] == [("review", 1, "done"), ("withdrawn", 1, "done")]
