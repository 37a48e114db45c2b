"""The outage register on the real fault lifecycle (a Prefect server and the in-process
lifecycle worker): a fault call in the area of an outage in effect is told the outage's reason
and expected restore, linked to it and closed, and no crew is dispatched."""

from contextlib import redirect_stderr, redirect_stdout

import pytest
from sqlalchemy import select

from models.messaging.outbox import OutboxMessage
from models.org.organisation import Region
from models.outages.outage import Outage, OutageArea, OutageKind, OutageStatus
from models.tickets.ticket import Ticket
from tasks.core.db import session_scope
from tests.lifecycle_harness import (
    FAULT_AT,
    Capture,
    create,
    live_centre,
    running_centre,
    ticket,
    wait_closed,
)


@pytest.fixture(scope="module")
def centre(postgres_server, tmp_path_factory):
    yield from running_centre(postgres_server, tmp_path_factory)


def test_a_fault_call_in_an_outage_area_is_told_linked_and_no_crew_goes(centre):
    url = centre.db_url
    with session_scope(url) as session:
        city = session.scalar(select(Region).where(Region.code == "3201"))
        session.add(Outage(number="TD-LIVE", kind=OutageKind.temporary,
                           status=OutageStatus.active, lines=["10kV 玄武线"],
                           start_at=FAULT_AT.subtract(hours=1), restore_at=FAULT_AT.add(hours=3),
                           reason="变压器故障抢修", created_at=FAULT_AT, created_by="S0001",
                           areas=[OutageArea(region_id=city.id)]))
    capsys = Capture()
    with live_centre(centre), redirect_stdout(capsys.out), redirect_stderr(capsys.err):
        number = create(capsys, "fault_repair", received_at=FAULT_AT.add(minutes=10).isoformat())
        wait_closed(url, [number])
    t = ticket(url, number)
    assert [key for key, _, _ in t["steps"]] == ["known_fault", "inform", "close_linked"]
    assert t["messages"] == ["known_fault"]  # told once; no dispatch notice to any crew
    with session_scope(url) as session:
        row = session.scalar(select(Ticket).where(Ticket.number == number))
        assert session.get(Outage, row.outage_id).number == "TD-LIVE"
        sms = session.scalar(select(OutboxMessage.body_text).where(
            OutboxMessage.ticket_id == row.id))
    restore = FAULT_AT.add(hours=3).format("YYYY-MM-DD HH:mm")
    assert sms == (f"【国网95598】尊敬的客户，您反映的停电问题（工单号{number}）：所在区域临时检修，"
                   f"原因：变压器故障抢修，预计{restore}恢复供电，恢复后不再另行通知，请耐心等待。")
