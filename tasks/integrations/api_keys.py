"""API keys: one per integrated system, shown once and stored as its SHA-256 only, with scopes and
a unit; a request is let in by `authenticate`, which also counts it against the key's limit.

The limit is a fixed one-minute window kept on the key's own row and moved by one conditional
UPDATE per request, so it holds across every portal process and server sharing the database.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, case, select, update
from sqlalchemy.orm import Session

from models.core.enums import StaffRole
from models.core.errors import InputError
from models.integrations.tables import SCOPES, TOKEN_PREFIX, ApiKey, token_hash
from models.org.organisation import Region
from models.tickets.ticket import Step, Ticket
from tasks.org.scope import Scope
from tasks.tickets.store import find_region


def add_key(session: Session, *, name: str, scopes: list[str], unit: str,
            now: datetime) -> tuple[ApiKey, str]:
    """A new key and its token (the only time the token exists outside the caller)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InputError("name", "名称不能为空，最多 100 个字", "name must be 1-100 characters")
    if session.scalar(select(ApiKey.id).where(ApiKey.name == name)):
        raise InputError("name", "该名称已有密钥", f"a key named {name!r} exists")
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise InputError("scopes", f"权限无效，可选：{'、'.join(SCOPES)}",
                         f"scopes must be some of {', '.join(SCOPES)}; got {unknown or 'none'}")
    region = find_region(session, unit)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)  # 32 random bytes
    key = ApiKey(name=name, prefix=token[:10], token_hash=token_hash(token),
                 scopes=sorted(set(scopes), key=SCOPES.index), region=region, created_at=now)
    session.add(key)
    session.flush()
    return key, token


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def revoke_key(session: Session, name_or_id: str, *, now: datetime) -> ApiKey:
    where = ApiKey.id == int(name_or_id) if name_or_id.isdigit() else ApiKey.name == name_or_id
    key = session.scalar(select(ApiKey).where(where))
    if key is None:
        raise InputError("key", "密钥不存在", f"no API key {name_or_id!r}")
    key.revoked_at = key.revoked_at or now
    return key


@dataclass
class Admission:
    key: ApiKey | None = None
    refused: str = ""  # "missing", "unknown", "revoked", "limited"


def authenticate(session: Session, token: str | None, *, now: datetime,
                 per_minute: int) -> Admission:
    """The key of a bearer token, counted against its limit (the count is committed)."""
    if not token:
        return Admission(refused="missing")
    key = session.scalar(select(ApiKey).where(ApiKey.token_hash == token_hash(token)))
    if key is None:
        return Admission(refused="unknown")
    if key.revoked_at is not None:
        return Admission(key, "revoked")
    window = now.replace(second=0, microsecond=0)
    same = ApiKey.window_start == window
    counted = session.execute(
        update(ApiKey).where(ApiKey.id == key.id, ~same | (ApiKey.window_count < per_minute)
                             | ApiKey.window_start.is_(None))
        .values(window_count=case((same, ApiKey.window_count + 1), else_=1),
                window_start=window, last_used_at=now)
        .execution_options(synchronize_session=False)).rowcount
    session.commit()
    return Admission(key, "" if counted == 1 else "limited")


def retry_after(now: datetime) -> int:
    """Seconds until the next window opens."""
    return max(1, int((now.replace(second=0, microsecond=0) + timedelta(minutes=1)
                       - now).total_seconds()))


@dataclass
class SystemAccount:
    """Who an API key acts as, for the use cases that ask a Scope for its staff member: a centre
    member of the key's unit, of no department (so it holds no step of its own)."""

    region: Region
    name: str = "接口"  # what the timeline names as the one who took the ticket
    id: None = None
    role: StaffRole = StaffRole.agent
    department_id: None = None

    @property
    def department(self) -> "SystemAccount":
        return self

    @property
    def region_id(self) -> int:
        return self.region.id


class KeyScope(Scope):
    """What a key sees: what a centre member of its unit sees (the unit and every unit under it).
    It acts on steps only on behalf of a named staff member of the step's department."""

    def __init__(self, session: Session, key: ApiKey):
        super().__init__(session, SystemAccount(key.region, f"接口 {key.name}"))  # type: ignore[arg-type]
        self.key = key

    def sees_ticket(self) -> ColumnElement[bool]:
        return Ticket.region_id.in_(self.region_ids)

    def acts_on(self, step: Step) -> bool:
        return False
