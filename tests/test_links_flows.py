"""一并办结从单 on a real Prefect server with the in-process worker: the member's run, waiting at
its step, is ended when the member closes with its master, and the reconciler leaves the closed
member alone."""

from contextlib import redirect_stderr, redirect_stdout

import pendulum
import pytest
from prefect.client.schemas.objects import StateType
from sqlalchemy import select

from flows.links import close_members_with
from flows.reconcile import reconcile_lifecycles
from models.core.enums import TicketStatus
from models.tickets.links import LinkKind
from models.tickets.ticket import Ticket
from tasks.core.db import session_scope
from tasks.tickets import links
from tasks.tickets.store import get_ticket
from tests.lifecycle_harness import (
    Capture,
    create,
    live_centre,
    run_state,
    running_centre,
    wait_until_waiting,
)


@pytest.fixture(scope="module")
def centre(postgres_server, tmp_path_factory):
    yield from running_centre(postgres_server, tmp_path_factory)


def test_a_member_closed_with_its_master_has_its_run_ended(centre):
    capsys = Capture()
    with live_centre(centre), redirect_stdout(capsys.out), redirect_stderr(capsys.err):
        url = centre.db_url
        master, member = (create(capsys, "business") for _ in range(2))
        for number in (master, member):
            wait_until_waiting(url, number, "handle")
        with session_scope(url) as session:
            links.link(session, get_ticket(session, master), get_ticket(session, member),
                       LinkKind.member, by="S0100", now=pendulum.now("UTC"))
        assert close_members_with(master, "S0100") == [member]
        with session_scope(url) as session:
            assert get_ticket(session, member).status == TicketStatus.closed
        run_id = ticket_run(url, member)
        assert run_state(run_id).state.type == StateType.CANCELLED
        assert reconcile_lifecycles() == []  # the master's run lives; the member is closed
        assert ticket_run(url, member) == run_id
        assert run_state(ticket_run(url, master)).state.is_paused()


def ticket_run(url: str, number: str) -> str:
    with session_scope(url) as session:
        return session.scalar(select(Ticket.flow_run_id).where(Ticket.number == number))
