"""The two channels: an operator's HTTP SMS platform and an SMTP server. Each answers with the
gateway's own reply, or raises GatewayError with the reason; nothing is assumed accepted."""

import json
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import httpx
from jinja2.sandbox import SandboxedEnvironment

from models.messaging.outbox import MessageChannel, OutboxMessage, SmsConfig, SmtpConfig


class GatewayError(Exception):
    def __init__(self, reason: str, response: dict[str, Any] | None = None):
        super().__init__(reason)
        self.reason, self.response = reason, response


class SmsGateway:
    def __init__(self, config: SmsConfig):
        self.config = config
        # The body template comes from configuration: render it sandboxed.
        self.body = SandboxedEnvironment().from_string(config.body_template)

    async def send(self, message: OutboxMessage) -> dict[str, Any]:
        config = self.config
        body = self.body.render(recipient=message.recipient, text=message.body_text,
                                key=message.key)
        auth = (config.username, config.password or "") if config.username else None
        try:
            async with httpx.AsyncClient(timeout=config.timeout_seconds) as client:
                reply = await client.post(config.url, content=body.encode("utf-8"),
                                          headers=config.headers, auth=auth)
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

    async def send(self, message: OutboxMessage) -> dict[str, Any]:
        config = self.config
        mail = EmailMessage()
        mail["From"], mail["To"] = config.sender, message.recipient
        mail["Subject"] = message.subject or ""
        mail["Message-ID"] = f"<{message.key.replace(':', '.')}@gridline>"  # receivers can dedupe
        mail.set_content(message.body_text)
        if message.body_html:
            mail.add_alternative(message.body_html, subtype="html")
        try:
            errors, reply = await aiosmtplib.send(
                mail, hostname=config.host, port=config.port, username=config.username,
                password=config.password, use_tls=config.security == "tls",
                start_tls=config.security == "starttls", timeout=config.timeout_seconds)
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise GatewayError(f"邮件服务器发送失败 | SMTP failed: {exc!r}") from exc
        if errors:
            raise GatewayError(f"收件人被拒绝 | recipient refused: {errors!r}")
        return {"smtp": reply}


def gateways_for(sms: SmsConfig, smtp: SmtpConfig) -> dict[MessageChannel, Any]:
    return {MessageChannel.sms: SmsGateway(sms), MessageChannel.email: EmailGateway(smtp)}
