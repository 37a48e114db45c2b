"""The marketing system posts its ticket export (xlsx or csv) as the request body; it lands as
`gridline import tickets` lands it: the good rows upserted, the bad ones reported by row."""

import tempfile
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from gridline.api.deps import Api, Db, ImportsWrite, Site
from gridline.api.problems import Problem
from tasks.tickets.marketing_import import import_export, read_mapping

router = APIRouter(prefix="/v1", tags=["imports"])
SUFFIXES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "text/csv": ".csv",
}


@router.post("/imports/marketing", summary="导入营销系统工单 Post a marketing export",
             openapi_extra={"requestBody": {"content": {
                 kind: {"schema": {"type": "string", "format": "binary"}} for kind in SUFFIXES}}})
async def marketing(request: Request, session: Db, site: Site, scope: ImportsWrite):
    if scope.key.region.parent_id is not None:  # an export names any unit: the whole organisation's
        raise Problem(403, "导入须使用最上级单位的密钥", "imports need a key of the top unit",
                      field="scope")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in SUFFIXES:
        raise Problem(415, "请以 xlsx 或 csv 文件作为请求体（Content-Type）",
                      f"send the export as the body, Content-Type one of {', '.join(SUFFIXES)}",
                      field="Content-Type")
    return await run_in_threadpool(_land, session, site, await request.body(), SUFFIXES[kind])


def _land(session: Session, site: Api, body: bytes, suffix: str) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"export{suffix}"
        path.write_bytes(body)
        report = import_export(session, path, mapping=read_mapping(site.settings.import_mapping),
                               now=site.clock(), timezone=site.settings.timezone)
    return report.as_dict()
