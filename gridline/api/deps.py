"""What every API route may ask for: a database session, and the caller's key with the scope the
route needs (401 without a valid key, 403 without the scope, 429 over the key's limit)."""

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from gridline.api.problems import Problem
from tasks.core.db import session_scope
from tasks.core.settings import Settings
from tasks.integrations.api_keys import KeyScope, authenticate, retry_after

bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer gl_…（API 密钥）")
REFUSALS = {
    "missing": ("缺少 API 密钥（Authorization: Bearer …）", "missing API key (Authorization: Bearer)"),
    "unknown": ("API 密钥无效", "unknown API key"),
    "revoked": ("API 密钥已吊销", "this API key was revoked"),
}


class Api:
    """The API app's settings and clock."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime]):
        self.settings, self.clock = settings, clock


def get_api(request: Request) -> Api:
    return request.app.state.api


def get_db(request: Request) -> Iterator[Session]:
    with session_scope(get_api(request).settings.database_url) as session:
        yield session


Site = Annotated[Api, Depends(get_api)]
Db = Annotated[Session, Depends(get_db, scope="function")]  # committed before the response


def needs(scope: str):
    """A dependency: the key's Scope, if the key may `scope`."""

    def admitted(site: Site, session: Db,
                 credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
                 ) -> KeyScope:
        now = site.clock()
        token = credentials.credentials if credentials else None
        admission = authenticate(session, token, now=now,
                                 per_minute=site.settings.api.requests_per_minute)
        if admission.refused in REFUSALS:
            zh, en = REFUSALS[admission.refused]
            raise Problem(401, zh, en, field="Authorization",
                          headers={"WWW-Authenticate": "Bearer"})
        if admission.refused == "limited":
            raise Problem(429, f"每分钟最多 {site.settings.api.requests_per_minute} 个请求",
                          f"at most {site.settings.api.requests_per_minute} requests a minute",
                          headers={"Retry-After": str(retry_after(now))})
        if scope not in admission.key.scopes:
            raise Problem(403, f"该密钥没有 {scope} 权限", f"this key lacks the scope {scope}",
                          field="scope")
        return KeyScope(session, admission.key)

    return Depends(admitted)


TicketsRead = Annotated[KeyScope, needs("tickets:read")]
TicketsWrite = Annotated[KeyScope, needs("tickets:write")]
StepsWrite = Annotated[KeyScope, needs("steps:write")]
CustomersRead = Annotated[KeyScope, needs("customers:read")]
ImportsWrite = Annotated[KeyScope, needs("imports:write")]
StatisticsRead = Annotated[KeyScope, needs("statistics:read")]
