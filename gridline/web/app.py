"""The portal: login and password, inbox and tickets, ticket search, step forms, call intake,
supervision (督办), one router each under gridline/web/routers; this module only assembles them,
with the edges of gridline/web/security (headers, body cap, one Chinese error page, /static).

`uvicorn --factory gridline.web.app:create_app` serves it; `gridline up` starts it beside the
Prefect UI. Routes read through the query functions of tasks/, open tickets through
flows.intake.open_ticket and complete steps through flows.steps.complete_step.
"""

import threading
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from starlette.middleware.sessions import SessionMiddleware

from gridline.api.app import create_api
from gridline.web import security
from gridline.web.auth import portal_secret
from gridline.web.deps import LoginRequired
from gridline.web.render import Portal
from gridline.web.routers import (
    admin_api,
    admin_org,
    admin_reports,
    approvals,
    dashboard,
    intake,
    knowledge,
    login,
    outages,
    password,
    password_setup,
    quality,
    search,
    steps,
    supervision,
    surveys,
    tickets,
    wallboard,
)
from tasks.core.schema import require_latest_schema
from tasks.core.settings import Settings, get_settings
from tasks.knowledge.words import load_dictionary


def served_app() -> FastAPI:
    """The portal as `gridline portal` serves it: each worker process loads the search's Chinese
    dictionary in the background at start, so the first search does not wait for it."""
    app = create_app()
    threading.Thread(target=load_dictionary, name="load-dictionary", daemon=True).start()
    return app


def create_app(settings: Settings | None = None,
               clock: Callable[[], datetime] | None = None) -> FastAPI:
    settings = settings or get_settings()
    require_latest_schema(settings.database_url)  # one clear line, not a 500 on the first page
    portal = Portal(settings, clock or (lambda: datetime.now(UTC)))
    app = FastAPI(title="Gridline 门户", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.portal = portal
    config = settings.portal
    app.add_middleware(SessionMiddleware, secret_key=portal_secret(settings),
                       session_cookie="gridline_session", same_site="lax",
                       https_only=config.secure_cookies, max_age=config.session_hours * 3600)
    security.install(app, portal.templates)

    @app.exception_handler(LoginRequired)
    def to_login(request: Request, _exc: LoginRequired):
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    for area in (login, password, password_setup, tickets, search, steps, intake, supervision,
                 dashboard, wallboard, approvals, quality, surveys, knowledge, outages,
                 admin_api, admin_org, admin_reports):
        app.include_router(area.router)
    app.mount("/api", create_api(settings, portal.clock))  # its own errors: problem details JSON
    return app
