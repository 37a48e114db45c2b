"""Idempotent POSTs: the first request with a key records its body's hash and, in the transaction
that creates its ticket, the ticket; a retry with the same key and body gets the same response,
one with another body is refused. Two at once: the second waits on the first's row (its unique
key), then replays it."""

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.core.errors import InputError
from models.integrations.tables import IdempotentRequest

KEY_MAX = IdempotentRequest.key.type.length


class KeyReused(InputError):
    def __init__(self):
        super().__init__("Idempotency-Key", "该幂等键已用于另一个请求内容",
                         "this Idempotency-Key was used with a different request body")


def request_hash(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False)
                          .encode("utf-8")).hexdigest()


def check_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > KEY_MAX or not key.isprintable():
        raise InputError("Idempotency-Key", f"须为 1 到 {KEY_MAX} 个可打印字符",
                         f"must be 1-{KEY_MAX} printable characters")
    return key


def previous(session: Session, api_key_id: int, key: str, digest: str) -> IdempotentRequest | None:
    """The earlier request with this key (raises KeyReused when its body differed)."""
    earlier = session.scalar(select(IdempotentRequest).where(
        IdempotentRequest.api_key_id == api_key_id, IdempotentRequest.key == key))
    if earlier is not None and earlier.request_hash != digest:
        raise KeyReused()
    return earlier


def reserve(session: Session, api_key_id: int, key: str, digest: str,
            now: datetime) -> IdempotentRequest | None:
    """Hold the key in this transaction; None when a concurrent request took it first (read it
    with `previous` after a rollback)."""
    row = IdempotentRequest(api_key_id=api_key_id, key=key, request_hash=digest, created_at=now)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return None
    return row


def remember(session: Session, row: IdempotentRequest, status: int, response: dict) -> None:
    row.status_code, row.response = status, response
    session.commit()
