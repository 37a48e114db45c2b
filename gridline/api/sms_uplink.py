"""The SMS platform's uplink: customers' replies to the satisfaction survey, signed as our own
webhooks are (X-Gridline-Timestamp, X-Gridline-Signature: sha256=HMAC-SHA256(secret,
"<timestamp>.<body>"), the secret GRIDLINE_SURVEYS__UPLINK_SECRET). Each reply is recorded and
answered with what became of it: counted, late, unknown number, garbage or a repeat."""

import hmac
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flows.surveys import receive_reply
from gridline.api.deps import Db, Site
from gridline.api.problems import Problem
from models.core.errors import input_error
from models.integrations.tables import signature

router = APIRouter(prefix="/v1", tags=["surveys"])
MAX_BODY = 16_384


class Uplink(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    phone: str = Field(alias="from", min_length=1, max_length=40)
    text: str = Field(max_length=1000)
    received_at: datetime | None = None  # the platform's time of receipt; default: now
    id: str | None = Field(None, max_length=64)  # the platform's message id (its retries)


def _verify(secret: str | None, stamp: str | None, signed: str | None, body: bytes,
            now: datetime, max_skew: int) -> None:
    if not secret:
        raise Problem(503, "未配置短信上行密钥", "no uplink secret configured")
    if not stamp or not stamp.isdigit() or not signed:
        raise Problem(401, "缺少签名", "missing X-Gridline-Timestamp or X-Gridline-Signature",
                      field="X-Gridline-Signature")
    expected = f"sha256={signature(secret, stamp, body)}"
    if not hmac.compare_digest(expected, signed):
        raise Problem(401, "签名无效", "bad signature", field="X-Gridline-Signature")
    if abs(now.timestamp() - int(stamp)) > max_skew:
        raise Problem(401, "签名已过期", "timestamp too far from now", field="X-Gridline-Timestamp")


@router.post("/sms/uplink", summary="短信上行 A customer's reply to a survey SMS")
async def uplink(request: Request, session: Db, site: Site,
                 x_gridline_timestamp: Annotated[str | None, Header()] = None,
                 x_gridline_signature: Annotated[str | None, Header()] = None):
    body = await request.body()
    if len(body) > MAX_BODY:
        raise Problem(413, "请求内容过大", "body too large")
    config, now = site.settings.surveys, site.clock()
    _verify(config.uplink_secret, x_gridline_timestamp, x_gridline_signature, body, now,
            config.uplink_max_skew_seconds)
    try:
        message = Uplink.model_validate_json(body)
    except ValidationError as exc:
        error = input_error(exc, Uplink)
        raise Problem(422, error.zh, error.en, field=error.field) from None
    received = message.received_at or now
    if received.tzinfo is None:
        raise Problem(422, "时间须带时区偏移", "received_at needs an offset", field="received_at")
    if received > now + timedelta(seconds=config.uplink_max_skew_seconds):
        raise Problem(422, "接收时间晚于当前时间", "received_at is in the future",
                      field="received_at")
    return await run_in_threadpool(_answer, session, site, message, received, now)


def _answer(session, site, message: Uplink, received: datetime, now: datetime) -> dict:
    matched = receive_reply(session, phone=message.phone, text=message.text,
                            received_at=received, now=now, platform_id=message.id,
                            settings=site.settings)
    survey = matched.survey
    return {"outcome": matched.reply.outcome.value, "label": matched.reply.outcome.label,
            "ticket": survey.ticket.number if survey else None,
            "follow_up": survey.follow_up.number if survey and survey.follow_up else None}
