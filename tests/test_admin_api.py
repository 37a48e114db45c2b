"""The admin pages for API keys and webhook subscriptions with their delivery log: on a real
server, rendered for admins, 403 for agents, a city's admin kept to its own keys. SQLite and
PostgreSQL."""

import re

import pytest

from tests.api import a_ticket, api_client, api_key
from tests.portal import login, portal_centre, post_form


@pytest.fixture
def centre(db_url, tmp_path, monkeypatch):
    return portal_centre(db_url, tmp_path, monkeypatch)


PAGES = ["/admin/api-keys", "/admin/webhooks"]


def test_agents_are_refused(centre, portal):
    agent = login(portal, "S0100")
    for page in PAGES:
        response = agent.get(page)
        assert response.status_code == 403
        assert "仅管理员" in response.text
    assert agent.get("/admin/webhooks/1").status_code == 403
    assert "/admin/api-keys" not in agent.get("/inbox").text


def test_an_admin_makes_and_revokes_a_key(centre, portal):
    admin = login(portal, "S0002")
    assert "/admin/api-keys" in admin.get("/inbox").text
    made = post_form(admin, "/admin/api-keys", {"name": "cti-ivr", "unit": "3202",
                                                "scopes": ["tickets:read", "tickets:write"]})
    assert made.status_code == 200
    token = re.search(r'id="new-token">新密钥：<code>([^<]+)</code>', made.text).group(1)
    assert "cti-ivr" in made.text
    client = api_client(portal, token)
    assert client.get("/tickets").status_code == 200
    page = admin.get("/admin/api-keys").text
    assert token not in page and token[:10] in page
    refused = post_form(admin, "/admin/api-keys", {"name": "x", "unit": "3202",
                                                   "scopes": ["tickets:everything"]})
    assert refused.status_code == 422
    assert "权限无效" in refused.text
    key_id = re.search(r'/admin/api-keys/(\d+)/revoke', page).group(1)
    revoked = post_form(admin, f"/admin/api-keys/{key_id}/revoke", {}, page="/admin/api-keys")
    assert revoked.status_code == 303
    assert client.get("/tickets").status_code == 401
    assert "已吊销" in admin.get("/admin/api-keys").text


def test_webhooks_and_their_delivery_log(centre, portal):
    admin = login(portal, "S0002")
    made = post_form(admin, "/admin/webhooks", {"name": "工单系统", "events": ["ticket.created"],
                                                "url": "http://127.0.0.1:9/hooks"})
    assert made.status_code == 200
    assert re.search(r'id="new-secret">签名密钥：<code>[0-9a-f]{64}</code>', made.text)
    bad = post_form(admin, "/admin/webhooks", {"name": "x", "events": ["ticket.created"],
                                               "url": "ftp://example"}, page="/admin/webhooks")
    assert bad.status_code == 422 and "须为 http(s) 地址" in bad.text
    writer = api_client(portal, api_key(centre, "wechat", ["tickets:write"]))
    number = writer.post("/tickets", json=a_ticket()).json()["ticket"]["number"]
    subscription = re.search(r'href="/admin/webhooks/(\d+)"', admin.get("/admin/webhooks").text)
    log = admin.get(f"/admin/webhooks/{subscription.group(1)}")
    assert log.status_code == 200
    assert f'<a href="/tickets/{number}">{number}</a>' in log.text
    assert "ticket.created" in log.text and "待发送" in log.text
    assert admin.get("/admin/webhooks/999999").status_code == 404


def test_a_city_admin_keeps_to_its_units(centre, portal):
    api_key(centre, "province-crm", ["tickets:read"], unit="32")
    city = login(portal, "SZ-ADM")
    page = city.get("/admin/api-keys")
    assert page.status_code == 200
    assert "province-crm" not in page.text
    assert city.get("/admin/webhooks").status_code == 403
    refused = post_form(city, "/admin/api-keys", {"name": "wuxi", "unit": "3202",
                                                  "scopes": ["tickets:read"]})
    assert refused.status_code == 422 and "不在您的管辖范围内" in refused.text
