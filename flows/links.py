"""一并办结从单: a master's open members closed with it, in one transaction (tasks/tickets/links.py),
then each member's run ended: the member has nothing left to walk, and a closed ticket is no
business of the reconciler's."""

import logging
from datetime import datetime
from uuid import UUID

import pendulum
from prefect import get_client
from prefect.exceptions import ObjectNotFound
from prefect.states import Cancelled

from flows.lifecycle import prefect_api_configured
from tasks.core.db import session_scope
from tasks.tickets import links
from tasks.tickets.store import get_ticket


def close_members_with(number: str, by: str, *, now: datetime | None = None) -> list[str]:
    """Close the master `number`'s open members now (`by`: a staff code); their runs end once
    that commits. Returns the member numbers closed (none on a re-run)."""
    with session_scope() as session:
        closed = links.close_members(session, get_ticket(session, number), by=by,
                                     now=now or pendulum.now("UTC"))
        done = [(m.number, m.flow_run_id) for m in closed]
    if prefect_api_configured():
        for member, run_id in done:
            if run_id:
                end_run(member, run_id)
    return [member for member, _ in done]


def end_run(number: str, run_id: str) -> None:
    """Cancel the closed member's run (waiting at its step, or a callback retry scheduled); a
    failure is logged: the ticket is closed either way, and no one is asked for it again."""
    try:
        with get_client(sync_client=True) as client:
            client.set_flow_run_state(UUID(run_id), Cancelled(message=f"{number}已随主单办结"),
                                      force=True)
    except ObjectNotFound:
        return
    except Exception:  # noqa: BLE001 - the member is closed and committed already
        logging.getLogger(__name__).exception("the run of %s was not ended", number)
