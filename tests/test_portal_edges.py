"""The portal's edges on a real server, SQLite and PostgreSQL: security headers, body caps, text
that fits its column, bounded numbers, and one Chinese error page for every failure, including
a database that is read-only or gone. Every bad input is refused and writes nothing."""

import os
import re
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from gridline.web.app import create_app
from models.core.enums import StepStatus
from models.tickets.ticket import Step, Ticket
from tasks.core.db import engine_for, session_scope, upgrade_schema
from tasks.core.schema import latest_revision
from tasks.core.settings import get_settings
from tests.portal import (
    a_ticket_in,
    browser,
    csrf_of,
    form_token_of,
    login,
    now_utc,
    open_step,
    portal_centre,
    post_form,
    serve,
)

INTAKE = {"type": "complaint", "urgency": "normal", "phone": "13812345678", "name": "张三",
          "address": "无锡市梁溪区人民路1号", "region": "320213", "content": "抄表员态度恶劣"}


@pytest.fixture
def centre(db_url, tmp_path, monkeypatch):
    return portal_centre(db_url, tmp_path, monkeypatch)


def tickets(url: str) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(Ticket))


def assert_chinese_page(response, status: int, words: str):
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert words in response.text and "Internal Server Error" not in response.text
    assert response.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_every_page_carries_the_security_headers_and_no_inline_code(portal, centre):
    agent = login(portal, "S0100")
    number = a_ticket_in(centre, "320213")
    pages = {"/login": browser(portal).get("/login"), "/inbox": agent.get("/inbox"),
             "/intake": agent.get("/intake"), f"/tickets/{number}": agent.get(f"/tickets/{number}"),
             "/password": agent.get("/password"), "/nowhere": agent.get("/nowhere")}
    for path, response in pages.items():
        headers = response.headers
        policy = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy, path
        assert "unsafe-inline" not in policy, path
        assert (headers["x-content-type-options"], headers["referrer-policy"],
                headers["x-frame-options"], headers["cache-control"]) == (
            "nosniff", "same-origin", "DENY", "no-store"), path
        assert not re.search(r"<script|<style|\sstyle=|\son[a-z]+=", response.text), path
    assert pages[f"/tickets/{number}"].status_code == 200
    css = agent.get("/static/portal.css")
    assert css.status_code == 200 and "font-family" in css.text
    assert css.headers["x-content-type-options"] == "nosniff"
    assert "no-store" not in css.headers.get("cache-control", "")


def test_bodies_over_a_mebibyte_are_refused_with_the_chinese_page(portal, centre):
    agent = login(portal, "S0100")
    before = tickets(centre)
    page = agent.get("/intake").text
    token, once = csrf_of(page), form_token_of(page)
    # Just under the cap: read, and the content refused beside its field.
    long = agent.post("/intake", data={**INTAKE, "content": "a" * 1_000_000, "csrf": token,
                                       "form": once})
    assert long.status_code == 422 and "太长，最多 2000 个字" in long.text
    for size in (1_100_000, 20_000_000):
        huge = agent.post("/intake", data={**INTAKE, "content": "a" * size, "csrf": token})
        assert_chinese_page(huge, 413, "提交的内容超过 1 MB")
    chunked = agent.post("/intake", headers={"content-type": "application/x-www-form-urlencoded"},
                         content=(b"content=" + b"a" * 65536 for _ in range(40)))
    assert_chinese_page(chunked, 413, "提交的内容超过 1 MB")
    assert tickets(centre) == before


def test_nul_bytes_overlong_text_and_files_are_refused_beside_the_field(portal, centre):
    agent = login(portal, "S0100")
    before = tickets(centre)
    cases = [({"name": "张\x00三"}, "不能包含控制字符"), ({"address": "路\x1b[2J"}, "不能包含控制字符"),
             ({"name": "张" * 10_000}, "太长，最多 100 个字"),
             ({"region": "3\x002"}, "不能包含控制字符"), ({"subtype": "x" * 51}, "太长，最多 50 个字")]
    for fields, message in cases:
        refused = post_form(agent, "/intake", INTAKE | fields)
        assert refused.status_code == 422 and message in refused.text, fields
        assert f'id="error-{next(iter(fields))}"' in refused.text, fields
    page = agent.get("/intake").text
    without_content = {k: v for k, v in INTAKE.items() if k != "content"}
    upload = agent.post("/intake", data={**without_content, "csrf": csrf_of(page),
                                         "form": form_token_of(page)},
                        files={"content": ("a.txt", b"file body", "text/plain")})
    assert upload.status_code == 422 and "须为文字，不能上传文件" in upload.text
    assert tickets(centre) == before
    wrong = browser(portal)
    nul_login = wrong.post("/login", data={"code": "S0\x00100", "password": "x",
                                           "csrf": csrf_of(wrong.get("/login").text)})
    assert nul_login.status_code == 422 and "工号不能包含控制字符" in nul_login.text

    number = a_ticket_in(centre, "320213")
    step_id = open_step(centre, number, "D3202-marketing", due_in=timedelta(hours=5),
                        now=now_utc())
    handler = login(portal, "D3202-marketing-1")
    for value, message in (("道歉\x00", "不能包含控制字符"), ("长" * 2001, "太长，最多 2000 个字")):
        refused = post_form(handler, f"/steps/{step_id}", {"result": "已处理", "reply_text": value})
        assert refused.status_code == 422 and message in refused.text
        assert 'id="error-reply_text"' in refused.text
    token = csrf_of(handler.get(f"/steps/{step_id}").text)
    upload = handler.post(f"/steps/{step_id}", data={"result": "已处理", "csrf": token},
                          files={"reply_text": ("r.txt", b"reply", "text/plain")})
    assert upload.status_code == 422 and "须为文字，不能上传文件" in upload.text
    with session_scope(centre) as session:
        step = session.get(Step, step_id)
        assert (step.status, step.form_data) == (StepStatus.open, None)


def test_huge_numbers_and_control_characters_in_urls_get_the_chinese_page(portal):
    agent = login(portal, "S0100")
    huge = "9" * 30
    assert_chinese_page(agent.get(f"/steps/{huge}"), 404, "未找到")
    assert_chinese_page(agent.get(f"/steps/{2**63}"), 404, "未找到")
    assert_chinese_page(agent.get("/steps/-1"), 404, "未找到")
    assert_chinese_page(agent.get(f"/inbox?page={huge}"), 422, "输入的数据无效")
    assert_chinese_page(agent.get("/inbox?page=0"), 422, "输入的数据无效")
    assert_chinese_page(agent.get("/tickets/GL%00X"), 404, "未找到")
    assert_chinese_page(agent.get("/intake?phone=138%0012345678"), 422, "输入的数据无效")
    supervisor = login(portal, "S0001")
    retry = post_form(supervisor, f"/outbox/{huge}/retry", {}, page="/supervise")
    assert_chinese_page(retry, 404, "未找到")
    assert_chinese_page(agent.put("/inbox"), 405, "不支持")


def test_a_read_only_database_gives_the_503_page(centre, tmp_path):
    settings = get_settings()
    url = make_url(centre)
    if url.get_backend_name() == "sqlite":
        read_only = f"sqlite:///file:{url.database}?mode=ro&uri=true"
        settings = settings.model_copy(update={"database_url": read_only})
    else:
        _admin(centre, f'ALTER DATABASE "{url.database}" SET default_transaction_read_only = on')
        engine_for(centre).dispose()  # pooled connections predate the setting
    with serve(create_app(settings)) as base_url:
        client = browser(base_url)
        refused = client.post("/login", data={"code": "S0100", "password": "gridline-demo",
                                              "csrf": csrf_of(client.get("/login").text)})
        assert_chinese_page(refused, 503, "系统暂时不可用")


def test_a_database_gone_while_serving_gives_the_503_page(portal, centre):
    agent = login(portal, "S0100")
    url = make_url(centre)
    if url.get_backend_name() == "sqlite":
        engine_for(centre).dispose()
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(url.database + suffix):
                os.remove(url.database + suffix)
    else:
        _admin(centre, f'DROP DATABASE "{url.database}" WITH (FORCE)')
    assert_chinese_page(agent.get("/inbox"), 503, "系统暂时不可用")
    assert_chinese_page(agent.get("/intake"), 503, "系统暂时不可用")


def test_the_portal_refuses_to_start_on_an_old_or_missing_schema(empty_db_url, tmp_path):
    upgrade_schema(empty_db_url, "0007")
    settings = get_settings().model_copy(update={"database_url": empty_db_url})
    with pytest.raises(SystemExit) as old:
        create_app(settings)
    assert f"数据库结构版本为 0007，应为 {latest_revision()}" in str(old.value)
    missing = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'none.db'}"})
    with pytest.raises(SystemExit) as gone:
        create_app(missing)
    assert "数据库文件不存在" in str(gone.value) and not (tmp_path / "none.db").exists()


def _admin(database_url: str, statement: str) -> None:
    engine = create_engine(make_url(database_url).set(database="postgres"),
                           isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(statement))
    engine.dispose()
