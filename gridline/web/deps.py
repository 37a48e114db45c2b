"""What every portal page depends on: a database session per request, the signed-in person (a
live server-side session of an active staff member), the posted form, the CSRF check."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from gridline.web.auth import csrf_token, require_csrf, signed_in
from gridline.web.scope import Scope
from tasks.core.db import session_scope


class LoginRequired(Exception):
    pass


def get_db(request: Request) -> Iterator[Session]:
    with session_scope(request.app.state.settings.database_url) as session:
        yield session


def get_scope(request: Request, session: Annotated[Session, Depends(get_db)]) -> Scope:
    state = request.app.state
    staff = signed_in(request, session, state.clock(), state.settings.portal.session_hours)
    if staff is None:
        raise LoginRequired()
    return Scope(session, staff)


async def submitted_form(request: Request) -> FormData:
    return await request.form()


def render(request: Request, name: str, scope: Scope | None = None, status_code: int = 200,
           **context):
    """A page in the portal's layout (for routers outside create_app)."""
    state = request.app.state
    return state.templates.TemplateResponse(request, name, {
        "me": scope.staff if scope else None, "scope": scope, "csrf": csrf_token(request),
        "flash": request.session.pop("flash", None), "now": state.clock(), **context,
    }, status_code=status_code)


Db = Annotated[Session, Depends(get_db)]
Me = Annotated[Scope, Depends(get_scope)]
Posted = Annotated[FormData, Depends(submitted_form)]
CSRF = [Depends(require_csrf)]
