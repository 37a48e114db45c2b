"""A page changed while tickets wait: they finish on the declaration they started with, tickets
received after the change take the new one; `gridline lifecycle check` says what changed and how
many open tickets stay on the old version. A real Prefect server and the in-process worker."""

from contextlib import redirect_stderr, redirect_stdout

import pytest
from prefect import get_client
from sqlalchemy import select

from models.tickets.ticket import Ticket
from tasks.core.db import session_scope
from tests.cli import run_cli
from tests.lifecycle_harness import (
    REPLY,
    Capture,
    create,
    drive,
    live_centre,
    running_centre,
    ticket,
    wait_closed,
    wait_until_waiting,
)

# The new page: the centre checks the department's reply before the agent answers the customer.
CHECKED = """      已处理: check
      退单: redispatch
  - key: check
    kind: review
    title: 中心复核
    to: service_centre
    form: centre_review
    when:
      通过: reply
      退回: back
"""
# ... and the answer form asks how the customer was told.
ASKED = "      reply_text: {type: long_text, title: 答复内容}\n" \
        "      how: {type: choice, title: 答复方式, choices: [电话, 短信], required: false}\n"


@pytest.fixture(scope="module")
def centre(postgres_server, tmp_path_factory):
    yield from running_centre(postgres_server, tmp_path_factory)


def version_of(url: str, number: str) -> str:
    with session_scope(url) as session:
        return session.scalar(select(Ticket.lifecycle_version).where(Ticket.number == number))


def change_the_page(folder) -> None:
    page = folder / "suggestion.yaml"
    text = page.read_text(encoding="utf-8")
    old = "      已处理: reply\n      退单: redispatch\n"
    assert text.count(old) == 1
    page.write_text(text.replace(old, CHECKED), encoding="utf-8")
    forms = folder / "forms.yaml"
    text = forms.read_text(encoding="utf-8")
    old = "  reply_customer:\n    title: 答复客户\n    intro: 坐席将处理结果答复客户。\n    fields:\n" \
          "      reply_text: {type: long_text, title: 答复内容}\n"
    assert text.count(old) == 1
    forms.write_text(text.replace(old, old.replace(old.splitlines(True)[-1], ASKED)),
                     encoding="utf-8")


def test_waiting_tickets_finish_on_their_version_and_new_ones_take_the_new_page(centre):
    capsys = Capture()
    with live_centre(centre), redirect_stdout(capsys.out), redirect_stderr(capsys.err):
        before = [create(capsys, "suggestion") for _ in range(2)]
        for number in before:
            wait_until_waiting(centre.db_url, number, "handle", timeout=120)
        old_version = version_of(centre.db_url, before[0])
        assert old_version is not None and version_of(centre.db_url, before[1]) == old_version

        change_the_page(centre.lifecycles)
        checked = run_cli(capsys, "lifecycle", "check", str(centre.lifecycles))
        assert checked.code == 0, checked.err
        report = checked.out.splitlines()
        line = next(i for i, text in enumerate(report) if text.startswith("suggestion "))
        assert report[line].endswith("changed; 2 open ticket(s) stay on an older version")
        assert report[line + 1:line + 5] == ["  + step check", "  ~ step handle",
                                             "  + form centre_review", "  ~ form reply_customer"]

        after = create(capsys, "suggestion")
        wait_until_waiting(centre.db_url, after, "handle", timeout=120)
        new_version = version_of(centre.db_url, after)
        assert new_version not in (None, old_version)

        reply = ("reply", {"reply_text": "已答复"})
        drive(capsys, centre.db_url, {n: [("handle", REPLY), reply] for n in before}
              | {after: [("handle", REPLY), ("check", {"result": "通过"}),
                         ("reply", {"reply_text": "已电话答复", "how": "电话"})]})
        wait_closed(centre.db_url, [*before, after])
    for number in before:
        t = ticket(centre.db_url, number)
        assert [key for key, _, _ in t["steps"]] == ["handle", "reply", "close"]
        assert version_of(centre.db_url, number) == old_version
    t = ticket(centre.db_url, after)
    assert [key for key, _, _ in t["steps"]] == ["handle", "check", "reply", "close"]
    assert version_of(centre.db_url, after) == new_version


def test_each_lifecycle_deployment_describes_its_flowchart(centre):
    with live_centre(centre), get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("lifecycle/complaint")
    assert deployment.description.startswith("投诉工单流程（版本 ")
    assert "```mermaid\nflowchart TD\n" in deployment.description
    assert 'contact -->|"转纪检监察"| inspect' in deployment.description
