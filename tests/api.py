"""API test helpers: keys made as `gridline apikey add` makes them, and a client that sends one."""

import httpx
import pendulum

from tasks.core.db import session_scope
from tasks.integrations.api_keys import add_key


def api_key(url: str, name: str, scopes: list[str], unit: str = "32") -> str:
    with session_scope(url) as session:
        return add_key(session, name=name, scopes=scopes, unit=unit, now=pendulum.now("UTC"))[1]


def api_client(base_url: str, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=f"{base_url}/api/v1", headers=headers, timeout=30)


def a_ticket(**fields) -> dict:
    return {"type": "complaint", "channel": "wechat", "phone": "13812345678", "name": "张三",
            "address": "无锡市梁溪区人民路1号", "region": "320213", "content": "抄表员态度恶劣",
            **fields}
