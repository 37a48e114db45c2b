"""What every route may ask for: a database session per request, who is asking (their Scope: a
live server-side session of an active staff member), the submitted form, the CSRF check, and the
app's Portal (settings, clock, pages)."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from gridline.web.auth import require_csrf, signed_in
from gridline.web.render import Portal
from tasks.core.db import session_scope
from tasks.org.scope import Scope


class LoginRequired(Exception):
    """No valid session: the app sends the browser to the login page."""


def get_portal(request: Request) -> Portal:
    return request.app.state.portal


def get_db(request: Request) -> Iterator[Session]:
    """The request's session, committed when the route returns: before the response leaves (the
    "function" scope), so a client that acts on a 303 finds what it was told is done."""
    with session_scope(request.app.state.portal.settings.database_url) as session:
        yield session


Db = Annotated[Session, Depends(get_db, scope="function")]


def get_scope(request: Request, session: Db) -> Scope:
    portal = get_portal(request)
    staff = signed_in(request, session, portal.clock(), portal.settings.portal.session_hours)
    if staff is None:
        raise LoginRequired()
    return Scope(session, staff)


async def submitted_form(request: Request) -> FormData:
    return await request.form()


Site = Annotated[Portal, Depends(get_portal)]
Me = Annotated[Scope, Depends(get_scope)]
Posted = Annotated[FormData, Depends(submitted_form)]
CSRF = [Depends(require_csrf)]
