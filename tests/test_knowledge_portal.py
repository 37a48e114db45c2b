"""The knowledge pages through the real portal: a department writes a script (refused beside the
field when bad), submits it, its head approves; an agent finds it by a word inside a phrase, sees
it at intake for the caller and on the consultation step, the reply records the version, and the
ticket page says which script was in force at the call."""

from datetime import timedelta

import pendulum
import pytest
from sqlalchemy import select

from models.core.enums import TicketType
from models.org.customer import Customer
from models.org.organisation import Region
from models.tickets.ticket import Step, Ticket
from tasks.core.db import session_scope
from tests.portal import login, now_utc, open_step, portal_centre, post_form


@pytest.fixture
def centre(db_url, tmp_path, monkeypatch):
    return portal_centre(db_url, tmp_path, monkeypatch)


def _wuxi_customer(url):
    with session_scope(url) as session:
        wuxi = session.scalar(select(Region.id).where(Region.code == "3202"))
        customer = session.scalars(select(Customer).join(Customer.region)
                                   .where(Region.parent_id == wuxi).order_by(Customer.id)).first()
        return customer.phone, customer.name, customer.address, customer.region.code


def _section(html: str, element_id: str, end: str = "</ul>") -> str:
    return html.split(f'id="{element_id}"')[1].split(end)[0]


def test_write_approve_find_use_and_show_the_script_in_force(portal, centre):
    today = pendulum.now("Asia/Shanghai").date().isoformat()
    editor = login(portal, "D3202-marketing-1")
    script = {"kind": "script", "title": "电费缴纳渠道", "ticket_type": "consultation",
              "regions": "3202", "valid_from": today,
              "body": "您好，居民客户可通过网上国网App、微信公众号或营业厅缴纳电费。"}
    refused = post_form(editor, "/knowledge/new", script | {"title": ""}, page="/knowledge/new")
    assert refused.status_code == 422
    assert '<div class="error" role="alert" id="error-title">标题必填</div>' in refused.text
    assert 'value="3202"' in refused.text  # what was typed stays
    created = post_form(editor, "/knowledge/new", script, page="/knowledge/new")
    assert created.status_code == 303
    page_url = created.headers["location"]
    agent = login(portal, "S0100")
    assert "电费缴纳渠道" not in agent.get("/knowledge?q=缴纳").text  # a draft is not in force
    post_form(editor, f"{page_url}/act", {"action": "submit"}, page=page_url)
    post_form(editor, f"{page_url}/act", {"action": "approve"}, page=page_url)
    assert "未能审核通过：只有部门负责人、值班长或管理员可以审核。" in editor.get(page_url).text
    head = login(portal, "D3202-marketing-H")
    post_form(head, f"{page_url}/act", {"action": "approve"}, page=page_url)
    shown = head.get(page_url).text
    assert '<strong id="state">生效中</strong>' in shown

    found = _section(agent.get("/knowledge?q=缴纳电费").text, "articles", "</table>")
    assert found.count("电费缴纳渠道") == 1 and "生效中" in found
    assert "电费缴纳渠道" in _section(agent.get("/knowledge?q=公众号").text, "articles", "</table>")
    assert "电费缴纳渠道" not in agent.get("/knowledge?q=停电").text

    phone, name, address, region = _wuxi_customer(centre)
    intake = agent.get(f"/intake?phone={phone}").text
    reference = _section(intake, "scripts").split('data-ref="')[1].split('"')[0]
    assert reference.endswith("/v1") and "电费缴纳渠道" in _section(intake, "scripts")

    opened = post_form(agent, "/intake", {"type": "consultation", "urgency": "normal",
                                          "phone": phone, "name": name, "address": address,
                                          "region": region, "content": "电费在哪里交？"},
                       page=f"/intake?phone={phone}")
    number = opened.headers["location"].rsplit("/", 1)[1]
    step_id = open_step(centre, number, "D32-CC", due_in=timedelta(hours=4), now=now_utc(),
                        step_key="answer")
    form = agent.get(f"/steps/{step_id}").text
    assert f'class="use-script" data-ref="{reference}"' in form
    bad = post_form(agent, f"/steps/{step_id}", {"result": "已答复", "reply_text": "网上国网可缴费",
                                                 "script_used": "KB-99999/v1"})
    assert bad.status_code == 422
    assert "没有这个答复口径版本：KB-99999/v1（格式如 KB-00001/v2）" in bad.text
    done = post_form(agent, f"/steps/{step_id}", {"result": "已答复", "reply_text": "网上国网可缴费",
                                                  "script_used": reference})
    assert done.status_code == 303
    with session_scope(centre) as session:
        assert session.get(Step, step_id).form_data["script_used"] == reference
        assert session.scalar(select(Ticket.type).where(Ticket.number == number)) == (
            TicketType.consultation)
    ticket = agent.get(f"/tickets/{number}").text
    assert f"（{reference}）" in _section(ticket, "script-then", "</p>")
    assert f"电费缴纳渠道</a>（{reference}）" in _section(ticket, "scripts-used")
