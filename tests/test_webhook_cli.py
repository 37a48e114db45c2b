"""`gridline webhook add|list|disable|enable`: the secret printed once, a bad address or event
refused with one line and nothing stored, a disabled subscription sent no new event. SQLite and
PostgreSQL."""

from sqlalchemy import func, select

from models.integrations.tables import WebhookDelivery, WebhookSubscription
from tasks.core.db import session_scope
from tasks.integrations.webhooks import emit
from tests.cli import run_cli
from tests.portal import now_utc


def test_add_list_disable_enable(db_url, capsys):
    made = run_cli(capsys, "webhook", "add", "crm", "--url", "https://crm.example.cn/hooks",
                   "--event", "ticket.created", "--event", "ticket.closed")
    assert made.code == 0, made.err
    secret = made.out.strip().splitlines()[-1]
    with session_scope(db_url) as session:
        stored = session.scalar(select(WebhookSubscription))
        assert (stored.secret, stored.events) == (secret, ["ticket.created", "ticket.closed"])
    for bad, field in ((["--url", "ftp://crm", "--event", "ticket.created"], "字段 url"),
                       (["--url", "https://crm", "--event", "ticket.lost"], "字段 events")):
        refused = run_cli(capsys, "webhook", "add", "x", *bad)
        assert refused.code == 2 and field in refused.err, refused.err
    listed = run_cli(capsys, "webhook", "list", "--json").json()
    assert [(s["name"], s["active"]) for s in listed] == [("crm", True)]
    assert secret not in run_cli(capsys, "webhook", "list").out

    assert run_cli(capsys, "webhook", "disable", str(listed[0]["id"])).code == 0
    with session_scope(db_url) as session:
        emit(session, "ticket.created", "T1", {"number": "T1"}, now=now_utc())
    assert deliveries(db_url) == 0
    assert run_cli(capsys, "webhook", "enable", str(listed[0]["id"])).code == 0
    with session_scope(db_url) as session:
        emit(session, "ticket.created", "T2", {"number": "T2"}, now=now_utc())
    assert deliveries(db_url) == 1
    assert run_cli(capsys, "webhook", "disable", "999").code == 2


def deliveries(url: str) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(WebhookDelivery))
