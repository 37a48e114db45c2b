"""The API app, mounted by the portal at /api: routes under /api/v1, the OpenAPI document at
/api/openapi.json, and at /api/docs a page that says where to read it. No Swagger UI: its
scripts would come from a CDN, which a centre's closed network cannot reach, and its inline script
breaks the portal's CSP; any OpenAPI viewer on the integrator's machine reads the JSON."""

from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from gridline.api import customers, imports, problems, sms_uplink, statistics, tickets
from gridline.api.deps import Api
from tasks.core.settings import Settings

DOCS = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>Gridline API</title><link rel="stylesheet" href="/static/portal.css"></head>
<body><main><h1>Gridline API v1</h1>
<p>接口说明（OpenAPI 3）：<a href="/api/openapi.json">/api/openapi.json</a>。
可用任何 OpenAPI 查看工具（如本机的 Swagger UI、Redoc、Postman）打开；
认证、权限、错误格式与 Webhook 签名见项目文档 docs/api.md。</p>
<p>The OpenAPI 3 document is at <a href="/api/openapi.json">/api/openapi.json</a>; open it in any
OpenAPI viewer on your machine. Authentication, scopes, problem details and webhook signatures:
docs/api.md.</p></main></body></html>"""


def create_api(settings: Settings, clock: Callable[[], datetime]) -> FastAPI:
    api = FastAPI(title="Gridline API", version="1", openapi_url="/openapi.json",
                  docs_url=None, redoc_url=None,
                  description="95598 工单接口 | ticket API for a centre's other systems")
    api.state.api = Api(settings, clock)
    problems.install(api)
    for area in (tickets, customers, imports, sms_uplink, statistics):
        api.include_router(area.router)

    @api.get("/docs", include_in_schema=False)
    def docs():
        return HTMLResponse(DOCS)

    return api
