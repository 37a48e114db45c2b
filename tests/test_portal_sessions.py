"""Sessions and logins on a real portal server, SQLite and PostgreSQL: a session ends for good on
logout, password change and `user disable`; parallel guesses are checked no more often than the
limit allows; one password policy for the CLI and the portal; a proxy's X-Forwarded-For is
believed only from the proxies configured."""

import io
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from models.core.errors import InputError
from models.org.accounts import LoginFailure
from models.org.passwords import check_password
from models.tickets.ticket import Ticket
from tasks.core.db import session_scope
from tests.cli import run_cli
from tests.portal import (
    PASSWORD,
    browser,
    csrf_of,
    form_token_of,
    login,
    portal_app,
    portal_centre,
    post_form,
    serve,
)

NEW_PASSWORD = "violet-harbour-42"


@pytest.fixture
def centre(db_url, tmp_path, monkeypatch):
    return portal_centre(db_url, tmp_path, monkeypatch, LOGIN_MAX_FAILURES="5")


def replay(base_url: str, stolen) -> "browser":
    """Another browser holding a copy of a cookie jar."""
    client = browser(base_url)
    client.cookies.update(stolen)
    return client


def tickets(url: str) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(Ticket))


def failures(url: str, kind: str, key: str) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(LoginFailure).where(
            LoginFailure.kind == kind, LoginFailure.key == key))


def test_a_cookie_copied_before_logout_opens_nothing_after_it(portal, centre):
    agent = login(portal, "S0100")
    intake_page = agent.get("/intake").text
    stolen = dict(agent.cookies)
    assert post_form(agent, "/logout", {}, page="/inbox").status_code == 303
    thief = replay(portal, stolen)
    assert thief.get("/inbox").headers["location"] == "/login?next=/inbox"
    before = tickets(centre)
    created = thief.post("/intake", data={
        "csrf": csrf_of(intake_page), "form": form_token_of(intake_page), "type": "complaint",
        "urgency": "normal",
        "phone": "13812345678", "name": "张三", "address": "无锡市梁溪区人民路1号",
        "region": "320213", "content": "重放的会话"})
    assert created.status_code == 303 and created.headers["location"].startswith("/login")
    assert tickets(centre) == before
    assert login(portal, "S0100").get("/inbox").status_code == 200  # a new login still works


def test_changing_ones_password_in_the_portal_ends_the_other_sessions(portal):
    here, elsewhere = login(portal, "S0100"), login(portal, "S0100")
    assert "改密码" in here.get("/inbox").text
    form = here.get("/password")
    assert form.status_code == 200 and 'name="repeat"' in form.text

    def change(current, new, repeat=None):
        return post_form(here, "/password", {"current": current, "new": new,
                                              "repeat": new if repeat is None else repeat})

    wrong = change("not-my-password", NEW_PASSWORD)
    assert wrong.status_code == 422 and "当前密码错误" in wrong.text
    common = change(PASSWORD, "1234567890")
    assert common.status_code == 422 and "密码过于常见" in common.text
    own_code = change(PASSWORD, "my-code-S0100-x")
    assert own_code.status_code == 422 and "密码不能包含工号" in own_code.text
    short = change(PASSWORD, "short")
    assert short.status_code == 422 and "密码至少 10 位" in short.text
    mismatch = change(PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "!")
    assert mismatch.status_code == 422 and "两次输入的新密码不一致" in mismatch.text
    assert post_form(here, "/password", {"current": PASSWORD, "new": NEW_PASSWORD,
                                         "repeat": NEW_PASSWORD}, page="/password"
                     ).status_code == 303
    assert "密码已修改" in here.get("/inbox").text  # this browser stays signed in
    assert elsewhere.get("/inbox").status_code == 303
    assert login(portal, "S0100", NEW_PASSWORD).get("/inbox").status_code == 200
    old = browser(portal)
    refused = old.post("/login", data={"code": "S0100", "password": PASSWORD,
                                       "csrf": csrf_of(old.get("/login").text)})
    assert refused.status_code == 401


def test_passwd_and_disable_from_the_cli_end_every_session(portal, capsys, monkeypatch):
    signed_in = login(portal, "S0101")

    def passwd(password):
        monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
        return run_cli(capsys, "user", "passwd", "S0101", "--password-stdin")

    assert passwd("12345678").code == 2
    refused = passwd("S0101-S0101-S0101")
    assert refused.code == 2 and "密码不能包含工号" in refused.err
    assert signed_in.get("/inbox").status_code == 200  # a refused password changes nothing
    changed = passwd(NEW_PASSWORD)
    assert changed.code == 0 and "结束 1 个登录会话" in changed.out
    assert signed_in.get("/inbox").status_code == 303
    again = login(portal, "S0101", NEW_PASSWORD)
    disabled = run_cli(capsys, "user", "disable", "S0101")
    assert disabled.code == 0 and "结束 1 个登录会话" in disabled.out
    assert again.get("/inbox").status_code == 303
    client = browser(portal)
    no_login = client.post("/login", data={"code": "S0101", "password": NEW_PASSWORD,
                                           "csrf": csrf_of(client.get("/login").text)})
    assert no_login.status_code == 401
    unknown = run_cli(capsys, "user", "disable", "NOBODY")
    assert unknown.code == 2 and "工号不存在" in unknown.err
    # A password is never an argument that `ps` would show.
    assert run_cli(capsys, "user", "passwd", "S0101", "--password", NEW_PASSWORD).code == 2


def test_thirty_parallel_wrong_passwords_get_exactly_the_limit_checked(portal, centre):
    clients = [browser(portal) for _ in range(30)]
    tokens = [csrf_of(client.get("/login").text) for client in clients]
    start = threading.Barrier(30)

    def guess(index):
        start.wait()
        return clients[index].post("/login", data={"code": "S0001", "password": f"guess-{index}",
                                                   "csrf": tokens[index]}).status_code

    with ThreadPoolExecutor(30) as pool:
        statuses = list(pool.map(guess, range(30)))
    assert (statuses.count(401), statuses.count(429)) == (5, 25)
    assert failures(centre, "account", "S0001") == 5  # one booked per checked password


def test_x_forwarded_for_counts_only_from_a_trusted_proxy(centre, monkeypatch):
    def wrong_login(base_url, forwarded):
        client = browser(base_url)
        token = csrf_of(client.get("/login").text)
        return client.post("/login", data={"code": "S0002", "password": "nope", "csrf": token},
                           headers={"X-Forwarded-For": forwarded}).status_code

    with serve(portal_app()) as direct:
        assert wrong_login(direct, "203.0.113.7") == 401
    assert failures(centre, "address", "127.0.0.1") == 1  # the header of a client: ignored
    monkeypatch.setenv("GRIDLINE_PORTAL__TRUSTED_PROXIES", "127.0.0.0/8, 10.0.0.0/8")
    with serve(portal_app()) as proxied:
        # A client's own header is kept left of what our proxies add: the right-most address
        # not ours is the client.
        assert wrong_login(proxied, "198.51.100.1, 203.0.113.7, 10.1.2.3") == 401
    assert failures(centre, "address", "203.0.113.7") == 1
    assert failures(centre, "address", "198.51.100.1") == 0


@pytest.mark.parametrize("password, code, message", [
    ("short-1", "S0100", "密码至少 10 位"),
    ("1234567890", "S0100", "密码过于常见"),
    ("Password123", "S0100", "密码过于常见"),
    ("aaaaaaaaaaaa", "S0100", "密码过于常见"),
    ("xs0100-blue-sky", "S0100", "密码不能包含工号"),
    ("tab\there-long", "S0100", "密码不能含控制字符"),
    ("x" * 129, "S0100", "密码最多 128 位"),
])
def test_the_password_policy_refuses(password, code, message):
    with pytest.raises(InputError) as refused:
        check_password(password, code)
    assert refused.value.zh.startswith(message) and refused.value.field == "password"


def test_the_password_policy_accepts_a_long_uncommon_password():
    assert check_password(NEW_PASSWORD, "S0100") is None
