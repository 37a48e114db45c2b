"""The channels: an operator's HTTP SMS platform, an SMTP server (and webhooks, in
tasks/messaging/webhook_gateway.py). Each answers with the
gateway's own reply, or raises GatewayError with the reason; nothing is assumed accepted.

A gateway opens once per delivery round (`async with gateway.connect() as send`): one pooled
HTTP client for every SMS of the round, one SMTP connection for its e-mails. Every message carries
its idempotency key (the SMS `ref`, the e-mail's Message-ID), so a platform that dedupes on it
drops the copy a crash mid-round may send again.
"""

import asyncio
import json
import mimetypes
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any

import aiosmtplib
import httpx
from jinja2.sandbox import SandboxedEnvironment

from models.messaging.outbox import (
    MessageChannel,
    OutboxMessage,
    SmsConfig,
    SmtpConfig,
    delivery_ref,
)

Send = Callable[[OutboxMessage], Awaitable[dict[str, Any]]]


class GatewayError(Exception):
    def __init__(self, reason: str, response: dict[str, Any] | None = None):
        super().__init__(reason)
        self.reason, self.response = reason, response


class SmsGateway:
    def __init__(self, config: SmsConfig):
        self.config = config
        # The body template comes from configuration: render it sandboxed.
        self.body = SandboxedEnvironment().from_string(config.body_template)

    @asynccontextmanager
    async def connect(self, concurrency: int = 8) -> AsyncIterator[Send]:
        config = self.config
        auth = (config.username, config.password or "") if config.username else None
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(timeout=config.timeout_seconds, auth=auth,
                                     headers=config.headers, limits=limits) as client:
            yield lambda message: self._send(client, message)

    async def _send(self, client: httpx.AsyncClient, message: OutboxMessage) -> dict[str, Any]:
        config = self.config
        body = self.body.render(recipient=message.recipient, text=message.body_text,
                                key=message.key, ref=delivery_ref(message.key))
        try:
            reply = await client.post(config.url, content=body.encode("utf-8"))
        except httpx.HTTPError as exc:
            raise GatewayError(f"SMS 网关无法连接 | gateway unreachable: {exc!r}") from exc
        answer = {"status": reply.status_code, "body": reply.text[:500]}
        if not reply.is_success:
            raise GatewayError(f"SMS 网关返回 HTTP {reply.status_code}", answer)
        try:
            parsed = reply.json()
        except json.JSONDecodeError:
            raise GatewayError("SMS 网关应答无法解析 | unreadable answer", answer) from None
        if not isinstance(parsed, dict) or str(parsed.get(config.success_key)) != config.success_value:
            raise GatewayError(
                f"SMS 网关未接受 | not accepted: {config.success_key}={parsed!r:.200}", answer)
        return answer


class EmailGateway:
    def __init__(self, config: SmtpConfig):
        self.config = config

    @asynccontextmanager
    async def connect(self, concurrency: int = 8) -> AsyncIterator[Send]:
        """One SMTP connection for the round, opened at the first e-mail; aiosmtplib sends one
        message at a time over it. A failed send drops it: the next e-mail opens a fresh one."""
        config = self.config
        smtp = aiosmtplib.SMTP(
            hostname=config.host, port=config.port, username=config.username,
            password=config.password, use_tls=config.security == "tls",
            start_tls=config.security == "starttls", timeout=config.timeout_seconds)
        opening = asyncio.Lock()  # the round's e-mails wait for the one connection, not each its own

        async def send(message: OutboxMessage) -> dict[str, Any]:
            try:
                async with opening:
                    if not smtp.is_connected:
                        await smtp.connect()
                errors, reply = await smtp.send_message(self.mail(message))
            except (aiosmtplib.SMTPException, OSError) as exc:
                smtp.close()
                raise GatewayError(f"邮件服务器发送失败 | SMTP failed: {exc!r}") from exc
            if errors:
                raise GatewayError(f"收件人被拒绝 | recipient refused: {errors!r}")
            return {"smtp": reply}

        try:
            yield send
        finally:
            if smtp.is_connected:
                with suppress(aiosmtplib.SMTPException, OSError):
                    await smtp.quit()
                smtp.close()

    def mail(self, message: OutboxMessage) -> EmailMessage:
        mail = EmailMessage()
        mail["From"], mail["To"] = self.config.sender, message.recipient
        mail["Subject"] = message.subject or ""
        mail["Message-ID"] = message_id(message.key, self.config.sender)
        mail["Date"] = format_datetime(message.created_at)  # when it was queued: same on a resend
        mail.set_content(message.body_text)
        if message.body_html:
            mail.add_alternative(message.body_html, subtype="html")
        for path in map(Path, message.attachments or []):
            try:
                data = path.read_bytes()
            except OSError as exc:  # not sent without it: retried, then kept as dead
                raise GatewayError(f"attachment {path}: {exc.strerror}") from exc
            kind = (mimetypes.guess_type(path.name)[0] or "application/octet-stream").split("/")
            mail.add_attachment(data, maintype=kind[0], subtype=kind[1], filename=path.name)
        return mail


def message_id(key: str, sender: str) -> str:
    """The same Message-ID for every copy of one outbox message: receivers can drop a resend."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "gridline.invalid"
    return f"<{delivery_ref(key)}@{domain}>"


def gateways_for(sms: SmsConfig, smtp: SmtpConfig, webhook=None) -> dict[MessageChannel, Any]:
    from tasks.messaging.webhook_gateway import (  # it needs GatewayError
        WebhookConfig,
        WebhookGateway,
    )

    return {MessageChannel.sms: SmsGateway(sms), MessageChannel.email: EmailGateway(smtp),
            MessageChannel.webhook: WebhookGateway(webhook or WebhookConfig())}
