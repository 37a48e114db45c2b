"""The knowledge base on SQLite and PostgreSQL: scopes that overlap, validity edges at midnight in
Asia/Shanghai, a new version superseding the old, the script in force at a call, Chinese search
finding a word inside a phrase, expiry notices once, and bad input refused whole."""

import pytest
from sqlalchemy import func, select

from models.core.enums import AreaKind, TicketType
from models.core.errors import InputError
from models.knowledge.articles import Article, ArticleStatus
from models.knowledge.drafts import check_draft
from models.knowledge.rules import Action, state_at
from models.messaging.outbox import OutboxMessage
from models.org.customer import Customer
from models.tickets.ticket import Ticket
from tasks.core.db import session_scope
from tasks.knowledge import finding, versions
from tasks.knowledge.expiry import expire_due
from tasks.knowledge.scope import call_for_customer
from tests.knowledge_centre import TZ, build, draft, local, publish, staff

NOW = local(2026, 11, 20, 9)


@pytest.fixture
def centre(db_url):
    with session_scope(db_url) as session:
        build(session)
    return db_url


def _customer(session):
    return session.scalar(select(Customer).where(Customer.phone == "13811112222"))


def test_overlapping_scopes_rank_the_most_specific_first(centre):
    with session_scope(centre) as session:
        publish(session, draft(title="通用口径"), now=NOW)
        publish(session, draft(title="咨询口径", ticket_type="consultation"), now=NOW)
        publish(session, draft(title="南京咨询口径", ticket_type="consultation", regions="3201"), now=NOW)
        publish(session, draft(title="玄武电价口径", ticket_type="consultation", subtype="电价",
                               regions="320101"), now=NOW)
        publish(session, draft(title="重要客户口径", ticket_type="consultation",
                               customer_tags="重要客户"), now=NOW)
        publish(session, draft(title="秦淮口径", regions="320102"), now=NOW)
        publish(session, draft(title="停电事件口径", event_ref="TD-2026-001"), now=NOW)
        publish(session, draft(title="报修口径", ticket_type="fault_repair"), now=NOW)
        call = call_for_customer(session, _customer(session), ticket_type="consultation",
                                 subtype="电价")
        titles = [m.article.title for m in finding.for_call(session, call, at=NOW)]
        assert titles == ["玄武电价口径", "南京咨询口径", "重要客户口径", "咨询口径", "通用口径"]
        outage = call_for_customer(session, _customer(session), ticket_type="fault_repair",
                                   events=frozenset({"TD-2026-001"}))
        assert [m.article.title for m in finding.for_call(session, outage, at=NOW)] == [
            "停电事件口径", "报修口径", "通用口径"]


def test_validity_edges_at_midnight_in_shanghai(centre):
    with session_scope(centre) as session:
        article = publish(session, draft(valid_from="2026-12-01", valid_to="2026-12-31"), now=NOW)
        call = call_for_customer(session, _customer(session))
        for at, state in [(local(2026, 11, 30, 23, 59, 59), ArticleStatus.approved),
                          (local(2026, 12, 1), ArticleStatus.active),
                          (local(2026, 12, 31, 23, 59, 59), ArticleStatus.active),
                          (local(2027, 1, 1), ArticleStatus.expired)]:
            assert state_at(article, at) == state
            shown = state == ArticleStatus.active
            assert [m.article.id for m in finding.for_call(session, call, at=at)] == (
                [article.id] if shown else [])
            assert [a.id for a in finding.search(session, "电价", at=at)] == (
                [article.id] if shown else [])


def test_new_version_supersedes_the_old_and_the_call_keeps_its_script(centre):
    with session_scope(centre) as session:
        first = publish(session, draft(body="旧口径：按月计价。"), now=NOW)
        second = publish(session, draft(body="新口径：按年度累计。", valid_from="2026-12-10"),
                         now=local(2026, 12, 5, 10), base=first)
        assert (first.status, first.ended_at) == (ArticleStatus.superseded, local(2026, 12, 10))
        assert (second.doc_key, second.version) == (first.doc_key, 2)
        assert state_at(first, local(2026, 12, 9, 23)) == ArticleStatus.active
        assert state_at(first, local(2026, 12, 10)) == ArticleStatus.superseded

        def ticket(number, received):
            row = Ticket(number=number, type=TicketType.consultation, content="电价怎么算",
                         caller_name="赵女士", caller_phone="13811112222", address="",
                         customer=_customer(session), region_id=_customer(session).region_id,
                         area_kind=AreaKind.urban, received_at=received, rule_version="test")
            session.add(row)
            session.flush()
            return row

        before = finding.script_in_force(session, ticket("K1", local(2026, 12, 9, 23, 59)))
        after = finding.script_in_force(session, ticket("K2", local(2026, 12, 10, 0, 1)))
        assert (before.article.id, after.article.id) == (first.id, second.id)
        assert finding.script_in_force(session, ticket("K0", local(2026, 11, 1))) is None
        with pytest.raises(InputError) as caught:
            versions.act(session, staff(session, "A-EDIT"), first, Action.withdraw, now=NOW,
                         reason="作废")
        assert caught.value.zh == "该版本已被新版本替代，不能再操作"


def test_search_in_chinese_finds_a_word_inside_a_phrase(centre):
    with session_scope(centre) as session:
        published = publish(session, draft(title="峰谷分时电价执行口径",
                                           body="居民用户申请执行峰谷分时电价，次月抄表日起生效。"),
                            now=NOW)
        editor = staff(session, "A-EDIT")
        hidden = versions.create(session, editor, check_draft(draft(title="草稿：分时电价")),
                                 now=NOW, timezone=TZ)
        assert [a.id for a in finding.search(session, "分时", at=NOW)] == [published.id]
        assert [a.id for a in finding.search(session, "抄表日怎么算", at=NOW)] == [published.id]
        assert [a.id for a in finding.search(session, "谷分", at=NOW)] == [published.id]
        assert finding.search(session, "阶梯", at=NOW) == []
        assert {a.id for a in finding.search(session, "分时电价", at=NOW, every_version=True)} == {
            published.id, hidden.id}


def test_each_expiry_notice_is_sent_once_and_none_for_a_superseded_version(centre):
    with session_scope(centre) as session:
        ending = publish(session, draft(title="即将到期", valid_to="2026-11-25"), now=NOW)
        replaced = publish(session, draft(title="旧版", valid_to="2026-11-25"), now=NOW)
        publish(session, draft(title="新版"), now=NOW, base=replaced)
        gone = publish(session, draft(title="已到期", valid_from="2026-11-01", valid_to="2026-11-19"),
                       now=local(2026, 11, 1, 9))
        first = expire_due(session, now=NOW, warn_days=7)
        again = expire_due(session, now=NOW, warn_days=7)
        assert (first.expired, first.warned, first.queued) == (1, 1, 4)  # SMS and e-mail each
        assert (again.expired, again.warned, again.queued) == (0, 1, 0)
        assert gone.status == ArticleStatus.expired
        keys = sorted(session.scalars(select(OutboxMessage.key)))
        head = staff(session, "A-HEAD").id
        assert keys == sorted(f"knowledge-{k}:{a.id}:{head}:{c}" for k, a in
                              (("expired", gone), ("expiring", ending)) for c in ("sms", "email"))
        later = expire_due(session, now=local(2026, 11, 26), warn_days=7)
        assert (later.expired, later.queued) == (1, 2)
        body = session.scalar(select(OutboxMessage.body_text).where(
            OutboxMessage.key == f"knowledge-expired:{ending.id}:{head}:sms"))
        assert body == (f"【知识库已失效】统一答复口径“即将到期”（{ending.doc_key}/v1）已于2026-11-26 00:00失效，"
                        "坐席已看不到此版本；如仍需使用请南京营销部发布新版本。")
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 6


def test_bad_input_gets_one_clear_error_and_writes_nothing(centre):
    for values, field, message in [
            (draft(title=""), "title", "标题必填"),
            (draft(valid_from="2026/12/01"), "valid_from", "生效日期格式无效，请按 2026-12-01 填写"),
            (draft(valid_to="2026-10-31"), "valid_to", "失效日期不能早于生效日期"),
            (draft(subtype="电价"), "subtype", "填写业务子类时须同时选择工单类型"),
            (draft(kind="memo"), "kind", "类别无效，可选：统一答复口径、知识文章、中心制度、通知公告")]:
        with pytest.raises(InputError) as caught:
            check_draft(values)
        assert (caught.value.field, caught.value.zh) == (field, message)
    with pytest.raises(InputError) as caught, session_scope(centre) as session:
        versions.create(session, staff(session, "A-EDIT"), check_draft(draft(regions="9999")),
                        now=NOW, timezone=TZ)
    assert caught.value.zh == "没有这个单位：9999"
    with session_scope(centre) as session:
        article = versions.create(session, staff(session, "A-EDIT"), check_draft(draft()),
                                  now=NOW, timezone=TZ)
        versions.act(session, staff(session, "A-EDIT"), article, Action.submit, now=NOW)
        with pytest.raises(InputError) as caught:
            versions.act(session, staff(session, "A-EDIT"), article, Action.approve, now=NOW)
        assert caught.value.zh == "只有部门负责人、值班长或管理员可以审核"
    with session_scope(centre) as session:
        assert session.scalar(select(func.count()).select_from(Article)) == 1


def test_send_back_and_withdraw_keep_the_record_of_what_was_in_force(centre):
    with session_scope(centre) as session:
        editor, head = staff(session, "A-EDIT"), staff(session, "A-HEAD")
        article = versions.create(session, editor, check_draft(draft()), now=NOW, timezone=TZ)
        versions.act(session, editor, article, Action.submit, now=NOW)
        with pytest.raises(InputError) as caught:
            versions.act(session, head, article, Action.send_back, now=NOW)
        assert caught.value.zh == "退回须填写原因"
        versions.act(session, head, article, Action.send_back, now=NOW, reason="口径与政策不符")
        assert (article.status, article.reason) == (ArticleStatus.draft, "口径与政策不符")
        versions.act(session, editor, article, Action.submit, now=NOW)
        versions.act(session, head, article, Action.approve, now=NOW)
        withdrawn_at = local(2026, 11, 22, 15)
        versions.act(session, editor, article, Action.withdraw, now=withdrawn_at, reason="政策暂停")
        call = call_for_customer(session, _customer(session))
        assert [m.article.id for m in finding.for_call(session, call, at=local(2026, 11, 22, 14))] == [
            article.id]
        assert finding.for_call(session, call, at=withdrawn_at) == []
        assert [e.action for e in finding.history(session, article)] == [
            "create", "submit", "send_back", "submit", "approve", "withdraw"]
