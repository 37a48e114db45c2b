"""The portal's edges: security headers on every response, a cap on request bodies, control
characters refused in URLs, and one Chinese error page for every failure (never a bare 500 or
FastAPI's English JSON). `install(app, templates)` wires it all; the static files (styles, no
inline script or style anywhere, so the CSP can forbid them) are served from /static."""

import logging
from http import HTTPStatus
from typing import Annotated
from urllib.parse import unquote

from fastapi import FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models.core.paths import PROJECT_ROOT
from models.core.text import has_control_characters

STATIC_DIR = PROJECT_ROOT / "static"
MAX_BODY = 1024 * 1024  # bytes: the longest form is a few kB, an outage plan's upload some tens
DRAIN_LIMIT = 64 * MAX_BODY  # read (and drop) up to this much of a refused body, then hang up
INT64_MAX = 2**63 - 1

# Row ids in paths and page numbers in queries: bounded, so a 30-digit number is a 404 or a
# 422 page rather than an overflow in the database driver.
RowId = Annotated[int, Path(ge=1, le=INT64_MAX)]
PageNo = Annotated[int, Query(alias="page", ge=1, le=1_000_000)]

HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
     b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"),
    (b"x-frame-options", b"DENY"),  # frame-ancestors for browsers that predate it
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]
NO_STORE = (b"cache-control", b"no-store")  # pages carry personal data and the CSRF token

TITLES = {400: "请求无效", 403: "无权访问", 404: "未找到", 405: "无法访问", 413: "提交内容过大",
          422: "输入无效", 429: "请求过于频繁", 500: "系统内部错误", 503: "系统暂时不可用"}
NOT_FOUND = "未找到：该页面或工单不存在，或不在您的权限范围内。"
MESSAGES = {
    400: "请求无效，请返回后重试。",
    403: "您无权访问该页面。",
    405: "该页面不支持这种访问方式。",
    429: "请求过于频繁，请稍后再试。",
    413: f"提交的内容超过 {MAX_BODY // 1024 // 1024} MB，已拒绝。",
    422: "输入的数据无效（数字超出范围、含有控制字符或过长），请返回修改后重试。",
    500: "系统内部错误，已记录。请稍后重试；若仍有问题，请联系管理员。",
    503: "系统暂时不可用（数据库无法访问或只读），请稍后重试。",
}
# PostgreSQL classes of "the database is away or refuses writes", not "your input is wrong":
# 08 connection, 25006 read-only transaction, 53 insufficient resources, 57 operator
# intervention (shutdown), 40P01/40001 deadlock and serialization.
UNAVAILABLE_SQLSTATES = ("08", "25006", "53", "57", "40")

log = logging.getLogger("gridline.web")


class BodyTooLarge(Exception):
    pass


class EdgeMiddleware:
    """Plain ASGI (no per-request task): headers added to every response start, the body
    counted as it arrives, control characters in the path or query refused up front."""

    def __init__(self, app: ASGIApp, templates: Jinja2Templates, max_body: int = MAX_BODY):
        self.app, self.templates, self.max_body = app, templates, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                ours = HEADERS + ([] if static else [NO_STORE])
                names = {name for name, _ in ours}
                headers = [h for h in message.get("headers", []) if h[0] not in names] + ours
                message = {**message, "headers": headers}
            await send(message)

        query = unquote(scope.get("query_string", b"").decode("latin-1"))
        if has_control_characters(scope["path"]) or has_control_characters(query):
            await self._refuse(scope, receive, send_with_headers, 404 if has_control_characters(
                scope["path"]) else 422)
            return
        length = dict(scope["headers"]).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > self.max_body:
            await self._refuse(scope, receive, send_with_headers, 413)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:  # a body sent in chunks, of no announced length
                    if message.get("more_body"):
                        await _drain(receive)
                    raise BodyTooLarge()
            return message

        await self.app(scope, counted, send_with_headers)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, status: int) -> None:
        more = await _drain(receive)
        if scope["path"].startswith("/api/"):  # the API answers in problem details
            from gridline.api.problems import problem_response  # here: it imports this module

            response = problem_response(status)
        else:
            response = error_page(Request(scope), self.templates, status)
        if more:
            response.headers["connection"] = "close"
        await response(scope, receive, send)


async def _drain(receive: Receive) -> bool:
    """Read what the client is still sending (up to a bound), so it gets to read the refusal
    instead of a reset connection; True when it had more than the bound."""
    drained, more = 0, True
    while more and drained <= DRAIN_LIMIT:
        message = await receive()
        drained += len(message.get("body", b""))
        more = message.get("more_body", False) and message["type"] == "http.request"
    return more


def error_page(request: Request, templates: Jinja2Templates, status: int, message: str = ""):
    """The one error page: the portal's layout, a Chinese title and what to do."""
    response = templates.TemplateResponse(request, "message.html", {
        "me": None, "scope": None, "csrf": "", "flash": None, "link": None,
        "title": TITLES.get(status, "无法访问"),
        "message": message or MESSAGES.get(status) or NOT_FOUND,
    }, status_code=status)
    # Also on pages made outside EdgeMiddleware (an unexpected error's, by Starlette's outermost
    # layer): the same headers.
    for name, value in [*HEADERS, NO_STORE]:
        response.headers[name.decode()] = value.decode()
    return response


def unavailable(exc: DBAPIError) -> bool:
    if isinstance(exc, OperationalError):  # SQLite: locked, read-only, missing; any driver: away
        return True
    state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None) or ""
    return exc.connection_invalidated or state.startswith(UNAVAILABLE_SQLSTATES)


def install(app: FastAPI, templates: Jinja2Templates) -> None:
    """Error pages for every failure, the edge middleware (outermost) and /static."""

    @app.exception_handler(StarletteHTTPException)  # also the router's own 404 and 405
    def refused(request: Request, exc: StarletteHTTPException):
        custom = isinstance(exc.detail, str) and exc.status_code not in (404, 405)
        message = exc.detail if custom and exc.detail != _default_detail(exc.status_code) else ""
        return error_page(request, templates, exc.status_code, message)

    @app.exception_handler(RequestValidationError)
    def invalid(request: Request, exc: RequestValidationError):
        in_path = any(error["loc"][:1] == ("path",) for error in exc.errors())
        return error_page(request, templates, 404 if in_path else 422)

    @app.exception_handler(BodyTooLarge)
    def too_large(request: Request, _exc: BodyTooLarge):
        response = error_page(request, templates, 413)
        response.headers["connection"] = "close"
        return response

    @app.exception_handler(DBAPIError)
    def database(request: Request, exc: DBAPIError):
        if unavailable(exc):
            log.warning("database unavailable: %s", exc.orig)
            return error_page(request, templates, 503)
        if isinstance(exc, DataError):  # a value the database cannot hold: the input's fault
            return error_page(request, templates, 422)
        log.error("database error", exc_info=exc)
        return error_page(request, templates, 500)

    @app.exception_handler(OverflowError)
    def overflow(request: Request, _exc: OverflowError):
        return error_page(request, templates, 422)

    @app.exception_handler(Exception)  # Starlette's outermost layer logs the traceback
    def unexpected(request: Request, _exc: Exception):
        return error_page(request, templates, 500)

    app.add_middleware(EdgeMiddleware, templates=templates)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


def _default_detail(status: int) -> str:
    return HTTPStatus(status).phrase
