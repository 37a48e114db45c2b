"""Intake within the agent's scope, lookups limited and recorded, phones masked with a recorded
reveal, and one ticket per rendered intake form: the portal on a real server, SQLite and
PostgreSQL."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from models.core.enums import TicketType
from models.org.customer import Customer, CustomerLookup
from models.org.organisation import Region, Staff
from models.tickets.ticket import Event, Ticket
from tasks.core.db import session_scope
from tests.portal import (
    csrf_of,
    form_token_of,
    login,
    now_utc,
    open_step,
    portal_app,
    portal_centre,
    post_form,
    serve,
)

PHONE, MASKED = "13812345678", "138****5678"


@pytest.fixture
def centre(db_url, tmp_path, monkeypatch):
    # lookups: one test lowers the limit itself
    return portal_centre(db_url, tmp_path, monkeypatch, LOOKUPS_PER_MINUTE="1000")


def customers_of_city(url: str, city: str) -> list[tuple[str, str]]:
    """(phone, name) of each customer in the city's counties."""
    with session_scope(url) as session:
        return list(session.execute(
            select(Customer.phone, Customer.name).join(Region, Customer.region_id == Region.id)
            .where(Region.code.like(f"{city}%")).order_by(Customer.id)).tuples())


def intake(client, **fields):
    data = {"type": "complaint", "urgency": "normal", "phone": PHONE, "name": "张三",
            "address": "无锡市梁溪区人民路1号", "region": "320213", "content": "抄表员态度恶劣"}
    return post_form(client, "/intake", data | fields)


def number_of(response) -> str:
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/", 1)[1]


def section(page: str, name: str) -> str:
    return page.split(f'id="{name}"')[1].split("</ul>")[0]


def ticket_count(url) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(Ticket))


def test_intake_scope_matrix_agent_of_suzhou_against_nanjing_and_suzhou_numbers(portal, centre):
    nanjing, suzhou = customers_of_city(centre, "3201"), customers_of_city(centre, "3205")
    province = login(portal, "S0100")
    # An open fault ticket in each city, filed by the province's centre (whose scope is both).
    nanjing_fault = number_of(intake(province, type="fault_repair", phone=nanjing[0][0],
                                     region="", content="整栋楼停电"))
    suzhou_fault = number_of(intake(province, type="fault_repair", phone=suzhou[0][0],
                                    region="", content="小区停电"))
    agent = login(portal, "SZ-A")
    unknown = agent.get("/intake?phone=13011112222").text
    leaks = 0
    for phone, name in nanjing:
        page = agent.get(f"/intake?phone={phone}").text
        leaks += name in page or nanjing_fault in page
        # Exactly what an unknown number gets: nothing says the customer exists elsewhere.
        assert page.split('id="customer"')[1].split("</ul>")[0] == \
            unknown.split('id="customer"')[1].split("</ul>")[0]
    assert (leaks, len(nanjing) > 0) == (0, True)
    mine = agent.get(f"/intake?phone={suzhou[0][0]}").text
    assert f"已识别客户：{suzhou[0][1]}" in mine
    assert suzhou_fault in section(mine, "open-tickets") and suzhou_fault in section(
        mine, "known-faults")
    # A Nanjing caller's ticket without a region lands in the agent's own unit, unlinked from
    # the Nanjing customer, and its creator opens it.
    landed = number_of(intake(agent, phone=nanjing[0][0], region="", name="来电人"))
    assert agent.get(f"/tickets/{landed}").status_code == 200
    with session_scope(centre) as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == landed))
        assert (ticket.region.code, ticket.customer_id) == ("3205", None)
        # The province's own ticket without a region took its (Nanjing) customer's county.
        assert session.scalar(select(Ticket).where(Ticket.number == nanjing_fault)
                              ).region.code.startswith("3201")
    before = ticket_count(centre)
    outside = intake(agent, phone=nanjing[0][0], region="320102")
    assert outside.status_code == 422 and "不在您的管辖范围内" in outside.text
    assert ticket_count(centre) == before


def test_lookups_are_rate_limited_per_agent_and_recorded(centre, monkeypatch):
    monkeypatch.setenv("GRIDLINE_PORTAL__LOOKUPS_PER_MINUTE", "3")
    phones = [phone for phone, _ in customers_of_city(centre, "3205")[:3]] + ["13011112222"]
    with serve(portal_app()) as base:
        agent = login(base, "SZ-A")
        answers = [agent.get(f"/intake?phone={phone}") for phone in phones]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert "查询过于频繁：每分钟最多查询 3 次" in answers[3].text
        assert "未找到该号码的客户档案" not in answers[3].text  # nothing answered at all
        # The limit is each agent's own.
        assert login(base, "SZ-S").get(f"/intake?phone={phones[0]}").status_code == 200
    with session_scope(centre) as session:
        staff_id = session.scalar(select(Staff.id).where(Staff.code == "SZ-A"))
        rows = session.execute(select(CustomerLookup.phone, CustomerLookup.found,
                                      CustomerLookup.refused)
                               .where(CustomerLookup.staff_id == staff_id)
                               .order_by(CustomerLookup.id)).tuples().all()
    assert rows == [(phones[0], True, False), (phones[1], True, False),
                    (phones[2], True, False), (phones[3], False, True)]


def test_phone_masked_on_ticket_inbox_and_step_pages(portal, centre):
    agent = login(portal, "S0100")
    number = number_of(intake(agent))
    step_id = open_step(centre, number, "D3202-marketing", due_in=timedelta(hours=5),
                        now=now_utc())
    handler = login(portal, "D3202-marketing-1")
    pages = {"agent's ticket": agent.get(f"/tickets/{number}").text,
             "handler's ticket": handler.get(f"/tickets/{number}").text,
             "step": handler.get(f"/steps/{step_id}").text}
    for name, page in pages.items():
        assert PHONE not in page and f'<span id="caller-phone">{MASKED}</span>' in page, name
    inbox = handler.get("/inbox").text
    assert number in inbox and PHONE not in inbox


def test_reveal_shows_the_number_once_records_it_and_is_refused_to_others(portal, centre):
    agent = login(portal, "S0100")
    number = number_of(intake(agent))
    open_step(centre, number, "D3202-marketing", due_in=timedelta(hours=5), now=now_utc())
    page = agent.get(f"/tickets/{number}").text
    revealed = agent.post(f"/tickets/{number}/phone", data={"csrf": csrf_of(page)})
    assert revealed.status_code == 200 and revealed.headers["cache-control"] == "no-store"
    assert f'<span id="caller-phone">{PHONE}</span>' in revealed.text
    timeline = revealed.text.split('id="timeline"')[1].split("</ol>")[0]
    with session_scope(centre) as session:
        name = session.scalar(select(Staff.name).where(Staff.code == "S0100"))
    assert f"{name} · 查看客户完整号码 {MASKED}" in timeline
    assert PHONE not in agent.get(f"/tickets/{number}").text  # once: masked again
    # A marketing handler of the ticket does not call back: no button, and a POST is refused.
    handler = login(portal, "D3202-marketing-1")
    handler_page = handler.get(f"/tickets/{number}").text
    assert 'id="reveal-phone"' not in handler_page
    refused = handler.post(f"/tickets/{number}/phone", data={"csrf": csrf_of(handler_page)})
    assert refused.status_code == 403 and PHONE not in refused.text
    assert agent.post(f"/tickets/{number}/phone", data={}).status_code == 403  # no CSRF
    # A repair crew with an open step of a fault ticket must reach the customer.
    fault = number_of(intake(agent, type="fault_repair", phone="13912345678"))
    crew_step = open_step(centre, fault, "D320213-repair", due_in=timedelta(hours=1),
                          now=now_utc())
    crew = login(portal, "D320213-repair-1")
    step_page = crew.get(f"/steps/{crew_step}").text
    assert 'id="reveal-phone"' in step_page
    shown = crew.post(f"/tickets/{fault}/phone", data={"csrf": csrf_of(step_page)})
    assert shown.status_code == 200 and "13912345678" in shown.text
    with session_scope(centre) as session:
        reveals = session.execute(
            select(Ticket.number, Staff.code, Event.detail).join(Ticket, Event.ticket_id == Ticket.id)
            .join(Staff, Event.actor_id == Staff.id).where(Event.kind == "phone_revealed")
            .order_by(Event.id)).tuples().all()
    assert reveals == [(number, "S0100", {"phone": PHONE}),
                       (fault, "D320213-repair-1", {"phone": "13912345678"})]


def test_one_intake_form_creates_one_ticket_however_often_it_is_posted(portal, centre):
    agent = login(portal, "S0100")
    fields = {"type": "complaint", "urgency": "normal", "phone": PHONE, "name": "张三",
              "address": "无锡市梁溪区人民路1号", "region": "320213", "content": "抄表员态度恶劣"}
    before = ticket_count(centre)
    page = agent.get("/intake").text
    form = fields | {"csrf": csrf_of(page), "form": form_token_of(page)}
    first = agent.post("/intake", data=form)
    again = agent.post("/intake", data=form)  # the back button, then submit once more
    assert first.headers["location"] == again.headers["location"]
    assert "未重复创建" in agent.get(again.headers["location"]).text
    # A double click: two POSTs of one form at the same instant.
    page = agent.get("/intake").text
    form = fields | {"csrf": csrf_of(page), "form": form_token_of(page)}
    answers = []
    clicks = [threading.Thread(target=lambda: answers.append(agent.post("/intake", data=form)))
              for _ in range(2)]
    for click in clicks:
        click.start()
    for click in clicks:
        click.join()
    assert [a.status_code for a in answers] == [303, 303]
    assert answers[0].headers["location"] == answers[1].headers["location"]
    assert ticket_count(centre) == before + 2
    # A form without its token, or with one made up, creates nothing.
    for token in ("", "made-up"):
        refused = agent.post("/intake", data=fields | {"csrf": csrf_of(page), "form": token})
        assert refused.status_code == 422 and "表单已过期" in refused.text
    assert ticket_count(centre) == before + 2
    with session_scope(centre) as session:
        assert session.scalar(select(func.count()).select_from(Ticket).where(
            Ticket.type == TicketType.complaint, Ticket.caller_phone == PHONE)) == 2
