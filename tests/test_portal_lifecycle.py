"""The portal shows a ticket's lifecycle as a picture with its open step marked, and a
re-dispatch form offers departments of the ticket's region chain by name, storing the code."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from models.tickets.ticket import Step
from tasks.core.db import session_scope
from tests.portal import a_ticket_in, csrf_of, login, now_utc, open_step, portal_centre


@pytest.fixture
def centre(db_url, tmp_path, monkeypatch):
    return portal_centre(db_url, tmp_path, monkeypatch)


def test_the_ticket_page_draws_its_lifecycle_with_the_open_step_marked(portal, centre):
    number = a_ticket_in(centre, "320213")
    open_step(centre, number, "D3202-marketing", due_in=timedelta(hours=5), now=now_utc())
    with session_scope(centre) as session:
        key = session.scalar(select(Step.step_key).where(Step.ticket.has(number=number)))
    page = login(portal, "D3202-marketing-1").get(f"/tickets/{number}").text
    diagram = page[page.index('<div id="diagram"'):page.index("</svg>")]
    assert diagram.count('data-current="true"') == 1
    assert f'data-step="{key}" data-current="true"' in diagram
    assert "（当前）" in diagram


def test_a_redispatch_offers_department_names_of_the_region_chain_and_stores_the_code(
        portal, centre):
    number = a_ticket_in(centre, "320213")  # 梁溪区, Wuxi
    step_id = open_step(centre, number, "D32-CC", due_in=timedelta(hours=5), now=now_utc(),
                        step_key="redispatch")
    agent = login(portal, "S0100")
    page = agent.get(f"/steps/{step_id}").text
    select_html = page[page.index('name="department"'):]
    select_html = select_html[:select_html.index("</select>")]
    assert "无锡市供电公司营销部" in select_html and "梁溪区供电服务中心" in select_html
    assert "南京市供电公司营销部" not in select_html and "D3202-marketing" not in select_html
    posted = agent.post(f"/steps/{step_id}", data={
        "csrf": csrf_of(page), "department": "南京市供电公司营销部", "note": ""})
    assert posted.status_code == 422 and "取值无效" in posted.text  # another city: refused
    posted = agent.post(f"/steps/{step_id}", data={
        "csrf": csrf_of(page), "department": "无锡市供电公司营销部", "note": "转市公司"},
        follow_redirects=False)
    assert posted.status_code == 303, posted.text
    with session_scope(centre) as session:
        assert session.get(Step, step_id).form_data == {"department": "D3202-marketing",
                                                        "note": "转市公司"}
