"""`gridline apikey add|list|revoke`: the token printed once, only its hash stored, a bad scope
refused with one line, a revoked key refused by the API. SQLite and PostgreSQL."""

from sqlalchemy import select

from models.integrations.tables import ApiKey, token_hash
from models.org.organisation import Region
from tasks.core.db import session_scope
from tasks.integrations.api_keys import authenticate
from tests.cli import run_cli
from tests.portal import now_utc


def test_add_list_revoke(db_url, capsys):
    with session_scope(db_url) as session:
        session.add(Region(code="32", name="江苏", level="province"))
    made = run_cli(capsys, "apikey", "add", "cti-ivr", "--unit", "32", "--scope", "tickets:read",
                   "--scope", "customers:read")
    assert made.code == 0
    token = made.out.strip().splitlines()[-1]
    with session_scope(db_url) as session:
        key = session.scalar(select(ApiKey))
        assert (key.token_hash, key.scopes) == (token_hash(token), ["tickets:read", "customers:read"])
        assert token not in str(vars(key))
    bad = run_cli(capsys, "apikey", "add", "x", "--unit", "32", "--scope", "tickets:all")
    assert bad.code == 2 and "字段 scopes" in bad.err
    listed = run_cli(capsys, "apikey", "list", "--json").json()
    assert [(k["name"], k["revoked"]) for k in listed] == [("cti-ivr", False)]
    assert run_cli(capsys, "apikey", "revoke", "cti-ivr").code == 0
    with session_scope(db_url) as session:
        assert authenticate(session, token, now=now_utc(), per_minute=10).refused == "revoked"
    assert run_cli(capsys, "apikey", "list", "--json").json()[0]["revoked"] is True
