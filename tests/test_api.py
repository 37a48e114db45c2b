"""The HTTP API on a real server: keys (none, unknown, revoked, wrong scope, another unit), the
rate limit, idempotent ticket creation, problem details naming the field, reading and searching
tickets, completing a step through the portal's validation, the screen pop and a marketing
export. SQLite and PostgreSQL."""

import threading
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from gridline.web.app import create_app
from models.core.enums import StepStatus
from models.org.customer import Customer
from models.org.organisation import Region, Staff
from models.outages.outage import Outage, OutageArea, OutageKind, OutageStatus
from models.tickets.ticket import Step, Ticket
from tasks.core.db import session_scope
from tasks.core.settings import get_settings
from tasks.integrations.api_keys import revoke_key
from tests.api import a_ticket, api_client, api_key
from tests.portal import now_utc, open_step, portal_centre, serve

PROBLEM = "application/problem+json"
EVERYTHING = ["tickets:read", "tickets:write", "steps:write", "customers:read", "imports:write"]


@pytest.fixture
def centre(db_url, tmp_path, monkeypatch):
    return portal_centre(db_url, tmp_path, monkeypatch)


def tickets_count(url: str) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(Ticket))


def assert_problem(response, status: int, field: str | None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body.get("field") == field
    assert body["zh"] and body["en"] and " | " in body["title"]
    assert "Traceback" not in response.text
    return body


def test_keys_missing_unknown_revoked_wrong_scope(centre, portal):
    reader = api_key(centre, "crm", ["tickets:read"])
    revoked = api_key(centre, "old-ivr", EVERYTHING)
    with session_scope(centre) as session:
        revoke_key(session, "old-ivr", now=now_utc())
    before = tickets_count(centre)
    assert_problem(api_client(portal, None).get("/tickets"), 401, "Authorization")
    assert_problem(api_client(portal, "gl_not-a-key").get("/tickets"), 401, "Authorization")
    body = assert_problem(api_client(portal, revoked).get("/tickets"), 401, "Authorization")
    assert body["en"] == "this API key was revoked"
    body = assert_problem(api_client(portal, reader).post("/tickets", json=a_ticket()), 403,
                          "scope")
    assert body["en"] == "this key lacks the scope tickets:write"
    assert tickets_count(centre) == before
    assert api_client(portal, reader).get("/tickets").status_code == 200


def test_a_key_sees_only_its_unit(centre, portal):
    suzhou = api_key(centre, "suzhou-app", EVERYTHING, unit="3205")
    client = api_client(portal, suzhou)
    with session_scope(centre) as session:
        wuxi_ticket = session.scalar(select(Ticket.number).join(Ticket.region)
                                     .where(Region.code.like("3202%")).limit(1))
        wuxi_phone = session.scalar(select(Customer.phone).join(Customer.region)
                                    .where(Region.code.like("3202%")).limit(1))
        suzhou_tickets = session.scalar(select(func.count()).select_from(Ticket).join(
            Ticket.region).where(Region.code.like("3205%")))
    assert_problem(client.get(f"/tickets/{wuxi_ticket}"), 404, "number")
    found = client.get("/tickets", params={"per_page": 100}).json()
    assert found["total"] == suzhou_tickets
    assert {t["region"][:4] for t in found["items"]} <= {"3205"}
    pop = client.get(f"/customers/by-phone/{wuxi_phone}").json()
    assert pop["customer"] is None
    before = tickets_count(centre)
    assert_problem(client.post("/tickets", json=a_ticket(region="320213")), 422, "region")
    assert tickets_count(centre) == before
    made = client.post("/tickets", json=a_ticket(region=None, phone="13900001111"))
    assert made.status_code == 201, made.text
    assert made.json()["ticket"]["region"] == "3205"  # no region given: the key's own unit


def test_rate_limit_per_key(centre, monkeypatch):
    monkeypatch.setenv("GRIDLINE_API__REQUESTS_PER_MINUTE", "3")
    moment = now_utc().replace(second=10, microsecond=0)
    with serve(create_app(get_settings(), clock=lambda: moment)) as base:
        client = api_client(base, api_key(centre, "busy", ["tickets:read"]))
        other = api_client(base, api_key(centre, "calm", ["tickets:read"]))
        assert [client.get("/tickets").status_code for _ in range(3)] == [200, 200, 200]
        refused = client.get("/tickets")
        assert_problem(refused, 429, None)
        assert refused.headers["retry-after"] == "50"
        assert other.get("/tickets").status_code == 200


def test_idempotent_post_creates_one_ticket(centre, portal):
    client = api_client(portal, api_key(centre, "wechat", ["tickets:write"]))
    before = tickets_count(centre)
    headers = {"Idempotency-Key": "wx-msg-000001"}
    answers = []

    def post():
        answers.append(client.post("/tickets", json=a_ticket(), headers=headers))

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    post()  # a retry long after
    assert tickets_count(centre) == before + 1
    assert [a.status_code for a in answers if a.status_code != 409] == [201] * len(
        [a for a in answers if a.status_code != 409])
    numbers = {a.json()["ticket"]["number"] for a in answers if a.status_code == 201}
    assert len(numbers) == 1
    assert answers[-1].status_code == 201
    assert answers[-1].headers["idempotent-replayed"] == "true"
    first = next(a.json() for a in answers if a.status_code == 201)
    assert answers[-1].json() == first
    changed = client.post("/tickets", json=a_ticket(content="另一件事"), headers=headers)
    assert_problem(changed, 422, "Idempotency-Key")
    assert tickets_count(centre) == before + 1
    again = client.post("/tickets", json=a_ticket(), headers={"Idempotency-Key": "wx-msg-2"})
    assert again.status_code == 201
    assert tickets_count(centre) == before + 2


def test_bad_input_is_a_problem_naming_the_field(centre, portal):
    client = api_client(portal, api_key(centre, "web", EVERYTHING))
    before = tickets_count(centre)
    body = assert_problem(client.post("/tickets", json=a_ticket(phone="12")), 422, "phone")
    assert body["zh"] == "字段 phone：电话号码无效"
    assert body["en"] == "field phone: invalid phone number"
    assert_problem(client.post("/tickets", json=a_ticket(content="")), 422, "content")
    assert_problem(client.post("/tickets", json=a_ticket(type="weather")), 422, "type")
    assert_problem(client.post("/tickets", json=a_ticket(channel="fax")), 422, "channel")
    assert_problem(client.post("/tickets", json=a_ticket(name="x" * 101)), 422, "name")
    assert_problem(client.post("/tickets", json=a_ticket(colour="red")), 422, "colour")
    assert_problem(client.post("/tickets", content=b"{not json",
                               headers={"content-type": "application/json"}), 400, "body")
    assert_problem(client.post("/tickets", json=[1, 2]), 422, "body")
    assert_problem(client.get("/tickets", params={"page": 0}), 422, "page")
    assert_problem(client.get("/tickets", params={"status": "lost"}), 422, "status")
    assert_problem(client.get("/tickets", params={"received_from": "yesterday"}), 422,
                   "received_from")
    assert_problem(client.get("/tickets/x/steps/99999999999999999999/complete"), 405, None)
    assert_problem(client.post("/tickets/x/steps/99999999999999999999/complete",
                               json={"staff": "S0001"}), 422, "step_id")
    assert_problem(client.get("/nowhere"), 404, None)
    assert_problem(client.post("/tickets", content=b"x" * (2 * 1024 * 1024),
                               headers={"content-type": "application/json"}), 413, None)
    assert tickets_count(centre) == before


def test_read_search_and_complete_a_step(centre, portal):
    client = api_client(portal, api_key(centre, "app", EVERYTHING))
    made = client.post("/tickets", json=a_ticket(channel="ivr"))
    assert made.status_code == 201, made.text
    number = made.json()["ticket"]["number"]
    assert made.headers["location"] == f"/api/v1/tickets/{number}"
    ticket = client.get(f"/tickets/{number}").json()
    assert ticket["channel"] == "phone"
    assert ticket["caller_phone"] == "138****5678"
    assert [c["clock"] for c in ticket["clocks"]] and ticket["timeline"][0]["kind"] == "received"
    found = client.get("/tickets", params={"phone": "138-1234-5678", "type": "complaint",
                                           "unit": "3202"}).json()
    assert number in [t["number"] for t in found["items"]]
    later = (now_utc() + timedelta(days=1)).isoformat()
    assert client.get("/tickets", params={"number": number, "received_from": later}
                      ).json()["total"] == 0

    step_id = open_step(centre, number, "D3202-marketing", due_in=timedelta(hours=4),
                        now=now_utc())
    with session_scope(centre) as session:
        handler = session.scalar(select(Staff.code).join(Staff.department)
                                 .where(Staff.department.has(code="D3202-marketing")))
        stranger = session.scalar(select(Staff.code).where(Staff.code == "S0101"))
    path = f"/tickets/{number}/steps/{step_id}/complete"
    assert_problem(client.post(path, json={"staff": stranger, "data": {}}), 403, "staff")
    assert_problem(client.post(path, json={"staff": "nobody", "data": {}}), 422, "staff")
    bad = assert_problem(client.post(path, json={"staff": handler, "data": {}}), 422, "result")
    assert {e["field"] for e in bad["errors"]} == {"result", "reply_text"}
    done = client.post(path, json={"staff": handler, "data": {
        "result": "已处理", "reply_text": "已核实并向客户致歉"}})
    assert done.status_code == 200, done.text
    step = next(s for s in done.json()["steps"] if s["id"] == step_id)
    assert (step["status"], step["completed_by"]) == ("done", handler)
    assert_problem(client.post(path, json={"staff": handler, "data": {
        "result": "已处理", "reply_text": "再次"}}), 409, "step_id")
    with session_scope(centre) as session:
        assert session.get(Step, step_id).status == StepStatus.done


def test_screen_pop(centre, portal):
    client = api_client(portal, api_key(centre, "cti", ["customers:read", "tickets:write"]))
    with session_scope(centre) as session:
        customer = session.scalars(select(Customer).order_by(Customer.id)).first()
        phone, account = customer.phone, customer.account_no
    made = client.post("/tickets", json=a_ticket(phone=phone, region=None, type="fault_repair"))
    assert made.status_code == 201, made.text
    pop = client.get(f"/customers/by-phone/{phone}").json()
    assert pop["customer"]["account_no"] == account
    number = made.json()["ticket"]["number"]
    assert number in [t["number"] for t in pop["open_tickets"]]
    assert number in [t["number"] for t in pop["known_faults"]]
    assert pop["outages"] == []
    now = now_utc()
    with session_scope(centre) as session:
        unit = session.get(Customer, session.scalar(select(Customer.id).where(
            Customer.account_no == account))).region
        elsewhere = session.scalar(select(Region.id).where(Region.code == "3205"))

        def outage(number, start, region_id, status=OutageStatus.planned):
            session.add(Outage(number=number, kind=OutageKind.planned, status=status,
                               lines=["10kV 玄武线"], start_at=start,
                               restore_at=start + timedelta(hours=4), reason="线路检修",
                               created_at=now, created_by="S0001",
                               areas=[OutageArea(region_id=region_id)]))

        outage("TD-LATER", now + timedelta(days=5), unit.parent_id or unit.id)
        outage("TD-SOON", now + timedelta(days=2), unit.id)
        outage("TD-NOW", now - timedelta(hours=1), unit.id)
        outage("TD-OFF", now + timedelta(days=1), unit.id, OutageStatus.cancelled)
        outage("TD-SUZHOU", now + timedelta(days=1), elsewhere)
        unit_code = unit.code
    listed = client.get(f"/customers/by-phone/{phone}").json()["outages"]
    assert [(o["number"], o["status"]) for o in listed] == [
        ("TD-NOW", "active"), ("TD-SOON", "planned"), ("TD-LATER", "planned")]
    soon = listed[1]
    assert (soon["kind_label"], soon["status_label"], soon["area"], soon["lines"],
            soon["reason"]) == ("计划停电", "计划", [unit_code], ["10kV 玄武线"], "线路检修")
    assert soon["start_at"] == (now + timedelta(days=2)).isoformat()
    assert_problem(client.get("/customers/by-phone/123"), 422, "phone")


def test_marketing_export(centre, portal):
    top = api_client(portal, api_key(centre, "marketing", ["imports:write"]))
    city = api_client(portal, api_key(centre, "city-marketing", ["imports:write"], unit="3205"))
    csv = ("工单编号,业务类型,工单内容,受理时间,处理期限,工单状态,责任人,责任人电话\n"
           "M0001,投诉,电费异常,2026-11-20 10:00,2026-11-25 10:00,处理中,李四,13911112222\n"
           "M0002,天气,?,2026-11-20 10:00,2026-11-25 10:00,处理中,李四,13911112222\n")
    headers = {"content-type": "text/csv"}
    assert_problem(city.post("/imports/marketing", content=csv.encode(), headers=headers), 403,
                   "scope")
    assert_problem(top.post("/imports/marketing", content=b"x", headers={
        "content-type": "application/pdf"}), 415, "Content-Type")
    report = top.post("/imports/marketing", content=csv.encode(), headers=headers).json()
    assert (report["rows"], report["created"], len(report["errors"])) == (2, 1, 1)
    assert report["errors"][0]["row"] == 3


def test_the_openapi_document_is_where_the_docs_page_says(centre, portal):
    page = httpx.get(f"{portal}/api/docs", timeout=30)
    assert page.status_code == 200 and 'href="/api/openapi.json"' in page.text
    document = httpx.get(f"{portal}/api/openapi.json", timeout=30).json()
    assert {"/v1/tickets", "/v1/customers/by-phone/{phone}"} <= set(document["paths"])
