"""现场监控 (wallboard): the live board for supervisors on a wall screen, and a server-sent event
stream that pushes it again every few seconds, so the screen changes without a reload."""

import asyncio
import json

from anyio import to_thread
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from gridline.web.deps import Me, Site
from models.org.organisation import Staff
from models.workforce.config import load_workforce_config
from tasks.core.db import session_scope
from tasks.statistics.figures import Statistics
from tasks.statistics.live import board

router = APIRouter()


def _board(portal, staff_id: int) -> dict:
    with session_scope(portal.settings.database_url) as session:
        return _board_in(session, session.get(Staff, staff_id), portal)


def _board_in(session: Session, staff: Staff, portal) -> dict:
    config = load_workforce_config(portal.settings.workforce_file)
    return board(session, Statistics(session, staff), config, portal.clock())


def _allowed(me) -> None:
    if not me.supervises:
        raise HTTPException(403, "现场监控仅向部门负责人、值班长和管理员开放。")


@router.get("/wallboard")
def wallboard(request: Request, me: Me, portal: Site):
    _allowed(me)
    return portal.page(request, "wallboard.html", me, board=_board_in(me.session, me.staff, portal),
                       every=portal.settings.portal.wallboard_seconds)


@router.get("/wallboard/stream")
async def stream(request: Request, me: Me, portal: Site):
    _allowed(me)
    staff_id, every = me.staff.id, portal.settings.portal.wallboard_seconds

    async def events():
        while not await request.is_disconnected():
            data = await to_thread.run_sync(_board, portal, staff_id)
            yield f"data: {json.dumps(data, ensure_ascii=False)}\n\n"
            await asyncio.sleep(every)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"X-Accel-Buffering": "no"})
