"""Two handlers submitting one step at the same instant: exactly one wins, the other is told, and
the timeline holds one entry (SQLite and PostgreSQL; tickets without a run, so no Prefect)."""

import json
import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pendulum
import pytest
from sqlalchemy import func, select

from flows.lifecycle import lifecycles
from flows.steps import complete_step
from models.core.enums import StepStatus
from models.core.errors import InputError
from models.org.organisation import Department, Staff
from models.tickets.ticket import Event, Step, Ticket
from tasks.core.db import session_scope
from tasks.tickets.lifecycle_store import StepNotOpen, complete, open_step
from tests.cli import run_cli
from tests.portal import a_ticket_in, csrf_of, login, now_utc, portal_app, seed_centre, serve
from tests.portal import open_step as open_portal_step

REPLY = {"result": "已处理", "reply_text": "已按政策处理并答复"}
OTHER = {"result": "退单", "reply_text": "不属于本部门"}
GRIDLINE = Path(sys.executable).with_name("gridline")


@pytest.fixture
def centre(db_url, capsys):
    assert run_cli(capsys, "demo", "seed", "--tickets", "0").code == 0  # only this test's tickets
    return db_url


def waiting_suggestion(capsys, url: str) -> tuple[str, list[int]]:
    """A suggestion ticket whose handle step is open, and two people of its department."""
    created = run_cli(capsys, "ticket", "create", "--no-start", "--type", "suggestion",
                      "--phone", "13812345678", "--name", "张三", "--address", "南京市玄武区中山路1号",
                      "--content", "建议增设缴费网点", "--region", "320102", "--json")
    assert created.code == 0, created.err
    number = created.json()["number"]
    with session_scope(url) as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        department = session.scalar(select(Department).where(
            Department.code == "D320102-marketing"))
        open_step(session, ticket, lifecycles()[ticket.type].step("handle"), 1,
                  department=department, assignee=None, now=pendulum.now("UTC"))
        staff = list(session.scalars(select(Staff.id).where(Staff.department_id == department.id)
                                     .order_by(Staff.id).limit(2)))
    assert len(staff) == 2
    return number, staff


def timeline(url: str, number: str) -> tuple[list[str], dict]:
    with session_scope(url) as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        done = [e.message for e in ticket.events if e.kind in ("step_done", "returned")]
        step = session.scalar(select(Step).where(Step.ticket_id == ticket.id))
        return done, {"status": step.status, "by": step.completed_by_id, "data": step.form_data}


def test_of_two_handlers_who_both_read_the_step_open_the_second_is_refused(centre, capsys):
    number, (first, second) = waiting_suggestion(capsys, centre)
    spec = lifecycles()["suggestion"]
    with session_scope(centre) as late:  # reads the step open, then is overtaken
        late_ticket = late.scalar(select(Ticket).where(Ticket.number == number))
        late_step = late.scalar(select(Step).where(Step.ticket_id == late_ticket.id))
        assert late_step.status == StepStatus.open
        complete_step(number, "handle", REPLY, first)
        with pytest.raises(StepNotOpen) as refused:
            complete(late, late_ticket, spec, late_step, OTHER,
                     by=late.get(Staff, second), now=pendulum.now("UTC"))
    assert refused.value.one_line() == ("错误：字段 step：环节 handle 已由他人办结，无需重复提交 | error: "
                                        "field step: step 'handle' was completed by someone else "
                                        "a moment ago")
    done, step = timeline(centre, number)
    assert done == ["业务部门处理：已处理，已按政策处理并答复"]
    assert step == {"status": StepStatus.done, "by": first, "data": REPLY}


def test_simultaneous_completions_in_threads_one_wins_each_time(centre, capsys):
    tickets = [waiting_suggestion(capsys, centre) for _ in range(4)]
    for number, (first, second) in tickets:
        start, outcomes = threading.Barrier(2), {}

        def submit(by: int, data: dict, number=number, start=start, outcomes=outcomes):
            start.wait()
            try:
                complete_step(number, "handle", data, by)
                outcomes[by] = "won"
            except InputError as exc:
                outcomes[by] = exc.zh

        threads = [threading.Thread(target=submit, args=(first, REPLY)),
                   threading.Thread(target=submit, args=(second, OTHER))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        [winner] = [by for by, outcome in outcomes.items() if outcome == "won"]
        [loser_message] = [outcome for outcome in outcomes.values() if outcome != "won"]
        assert loser_message in ("环节 handle 已由他人办结，无需重复提交",
                                 f"工单{number}没有待处理的环节 handle")
        done, step = timeline(centre, number)
        assert len(done) == 1 and step["by"] == winner
        assert step["data"] == (REPLY if winner == first else OTHER)


def test_two_cli_submissions_at_once_one_succeeds_the_other_exits_2(centre, capsys):
    number, (first, second) = waiting_suggestion(capsys, centre)
    env = os.environ | {"GRIDLINE_DATABASE_URL": centre}
    runs = [subprocess.Popen([str(GRIDLINE), "step", "complete", number, "handle", "--data",
                              json.dumps(data, ensure_ascii=False), "--by", str(by)],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for by, data in ((first, REPLY), (second, OTHER))]
    results = sorted((run.wait(), run.stderr.read()) for run in runs)
    for run in runs:
        run.stdout.close()
        run.stderr.close()
    (won, _), (lost, message) = results
    assert (won, lost) == (0, 2)
    assert len(message.strip().splitlines()) == 1 and "handle" in message
    with session_scope(centre) as session:
        ticket_id = session.scalar(select(Ticket.id).where(Ticket.number == number))
        assert session.scalar(select(func.count()).select_from(Event).where(
            Event.ticket_id == ticket_id, Event.kind.in_(("step_done", "returned")))) == 1


def test_two_handlers_posting_one_step_in_the_portal_one_is_told_it_is_done(db_url, tmp_path,
                                                                           monkeypatch):
    monkeypatch.setenv("GRIDLINE_VAR_DIR", str(tmp_path / "var"))
    seed_centre(db_url, now_utc())
    number = a_ticket_in(db_url, "320213")
    done_before = completions(db_url, number)  # the demo's own history of the ticket
    step_id = open_portal_step(db_url, number, "D3202-marketing", due_in=timedelta(hours=5),
                               now=now_utc())
    with serve(portal_app()) as base_url:
        handlers = [login(base_url, code) for code in ("D3202-marketing-1", "D3202-marketing-2")]
        tokens = [csrf_of(handler.get(f"/steps/{step_id}").text) for handler in handlers]
        start, answers = threading.Barrier(2), []

        def post(handler, token, data):
            start.wait()
            answers.append(handler.post(f"/steps/{step_id}", data={**data, "csrf": token}))

        threads = [threading.Thread(target=post, args=(handler, token, data))
                   for handler, token, data in zip(handlers, tokens, (REPLY, OTHER), strict=True)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(answer.status_code for answer in answers) == [303, 409]
    [refused] = [answer for answer in answers if answer.status_code == 409]
    assert "无需再次提交" in refused.text
    assert completions(db_url, number) == done_before + 1


def completions(url: str, number: str) -> int:
    """The ticket's timeline entries of a completed or returned step."""
    with session_scope(url) as session:
        ticket_id = session.scalar(select(Ticket.id).where(Ticket.number == number))
        return session.scalar(select(func.count()).select_from(Event).where(
            Event.ticket_id == ticket_id, Event.kind.in_(("step_done", "returned"))))


def test_a_step_done_on_a_ticket_of_a_rolled_up_day_makes_that_day_live_again(centre, capsys):
    from models.core.days import local_day_start
    from tasks.statistics.figures import local_period
    from tasks.statistics.rollup import roll_day, split

    number, (first, _) = waiting_suggestion(capsys, centre)
    now, zone = pendulum.now("UTC"), "Asia/Shanghai"
    yesterday = now.in_timezone(zone).date() - timedelta(days=1)
    with session_scope(centre) as session:  # a ticket of yesterday, still waiting
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        ticket.received_at = local_day_start(yesterday, zone) + timedelta(hours=10)
    with session_scope(centre) as session:
        roll_day(session, yesterday, now=now, timezone=zone)

    def fresh() -> list:
        with session_scope(centre) as session:
            return split(session, local_period(yesterday, yesterday, zone, now), timezone=zone)[0]

    assert fresh() == [yesterday]
    complete_step(number, "handle", REPLY, first)
    assert fresh() == []
