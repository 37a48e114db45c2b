"""What every route may ask for: a database session per request, who is asking (their Scope), the
submitted form, the CSRF check, and the app's Portal (settings, clock, pages)."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, joinedload
from starlette.datastructures import FormData

from gridline.web.auth import password_stamp, require_csrf
from gridline.web.render import Portal
from models.org.organisation import Staff
from tasks.core.db import session_scope
from tasks.org.scope import Scope


class LoginRequired(Exception):
    """No valid session: the app sends the browser to the login page."""


def get_portal(request: Request) -> Portal:
    return request.app.state.portal


def get_db(request: Request) -> Iterator[Session]:
    with session_scope(request.app.state.portal.settings.database_url) as session:
        yield session


def get_scope(request: Request, session: Annotated[Session, Depends(get_db)]) -> Scope:
    staff_id = request.session.get("staff")
    staff = session.get(Staff, staff_id, options=[joinedload(Staff.department)]) \
        if staff_id else None
    if staff is None or request.session.get("stamp") != password_stamp(staff):
        raise LoginRequired()
    return Scope(session, staff)


async def submitted_form(request: Request) -> FormData:
    return await request.form()


Site = Annotated[Portal, Depends(get_portal)]
Db = Annotated[Session, Depends(get_db)]
Me = Annotated[Scope, Depends(get_scope)]
Posted = Annotated[FormData, Depends(submitted_form)]
CSRF = [Depends(require_csrf)]
