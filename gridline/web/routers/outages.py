"""停电信息: the outage board of the reader's units (active and planned, by unit); supervisors and
admins enter an outage, import the distribution system's export (the same function as `gridline
outages import`), open a fault outage from a repair ticket, and mark one restored or cancelled."""

import tempfile
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import UploadFile

from gridline.web.deps import CSRF, Db, Me, Posted, Site
from gridline.web.forms import form_text
from gridline.web.routers.tickets import visible_ticket
from models.core.enums import StaffRole, TicketType
from models.core.errors import InputError
from models.outages.outage import shown_status
from models.outages.outage_file import HEADERS, IMPORTED_KINDS, read_outage
from models.tickets.marketing import parse_export_time
from tasks.org.scope import Scope
from tasks.outages import register
from tasks.outages.outage_import import import_outages
from tasks.tickets.queries import regions_in_scope

router = APIRouter()
EDITORS = {StaffRole.supervisor, StaffRole.admin}
MAX_FIELD = 500
IMPORT_SUFFIXES = (".xlsx", ".csv")


def _editor(me: Scope) -> None:
    if me.staff.role not in EDITORS:
        raise HTTPException(403, "只有值班长和管理员可以登记停电信息。")


def _back(request: Request, flash: str) -> RedirectResponse:
    request.session["flash"] = flash
    return RedirectResponse("/outages", status_code=303)


@router.get("/outages")
def outage_board(request: Request, session: Db, me: Me, portal: Site):
    units = register.board(session, me.region_ids, me.staff.department.region_id)
    return portal.page(request, "outages/board.html", me, title="停电信息", units=units,
                       shown_status=shown_status, kinds=IMPORTED_KINDS,
                       editor=me.staff.role in EDITORS, regions=regions_in_scope(session, me))


@router.post("/outages", dependencies=CSRF)
def enter_outage(request: Request, session: Db, me: Me, form: Posted, portal: Site):
    _editor(me)
    try:
        values = {zh: form_text(form, name, MAX_FIELD).strip() for zh, name in HEADERS}
        units = {r.code: r.id for r in regions_in_scope(session, me)}
        row = read_outage(values, units, portal.settings.timezone)
        outage, what = register.save_outage(session, row, by=me.staff.code, now=portal.clock())
    except (InputError, ValueError) as exc:
        session.rollback()
        return _back(request, f"未保存：{getattr(exc, 'zh', exc)}。")
    said = {"created": "已登记", "updated": "已更新", "unchanged": "没有变化"}[what]
    return _back(request, f"停电{outage.number}{said}。")


@router.post("/outages/import", dependencies=CSRF)
async def import_file(request: Request, session: Db, me: Me, form: Posted, portal: Site):
    _editor(me)
    upload = form.get("file")
    suffix = Path(upload.filename or "").suffix.lower() if isinstance(upload, UploadFile) else ""
    if suffix not in IMPORT_SUFFIXES:
        return _back(request, "请选择 xlsx 或 csv 文件。")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"outages{suffix}"
        path.write_bytes(await upload.read())
        try:
            report = import_outages(session, path, timezone=portal.settings.timezone,
                                    by=me.staff.code, now=portal.clock())
        except InputError as exc:
            session.rollback()
            return _back(request, f"未导入：{exc.zh}。")
    if report.errors:
        session.rollback()
        rows = "；".join(f"第{row}行：{reason}" for row, reason in report.errors)
        return _back(request, f"共{report.rows}行，{len(report.errors)}行有误，未写入任何数据：{rows}")
    return _back(request, f"已导入{report.rows}行：新增{len(report.created)}，"
                          f"更新{len(report.updated)}，未变{len(report.unchanged)}。")


@router.post("/outages/from-ticket", dependencies=CSRF)
def open_from_ticket(request: Request, session: Db, me: Me, form: Posted, portal: Site):
    _editor(me)
    number = form_text(form, "ticket", 32).strip()
    ticket = visible_ticket(session, me, number)
    try:
        if ticket.type != TicketType.fault_repair:
            raise InputError("ticket", "只有故障报修工单可以开立故障停电", "not a fault ticket")
        restore_at = parse_export_time(form_text(form, "restore", 40), portal.settings.timezone)
        reason = form_text(form, "reason", MAX_FIELD).strip()
        if not reason:
            raise InputError("reason", "请填写停电原因", "a reason is required")
        lines = tuple(x.strip() for x in form_text(form, "lines", MAX_FIELD).split("、") if x.strip())
        outage = register.open_from_ticket(session, ticket, reason=reason, restore_at=restore_at,
                                           lines=lines, by=me.staff.code, now=portal.clock())
    except (InputError, ValueError) as exc:
        session.rollback()
        return _back(request, f"未开立：{getattr(exc, 'zh', '预计恢复时间无效')}。")
    return _back(request, f"已由工单{number}开立故障停电{outage.number}。")


@router.post("/outages/{number}/{action}", dependencies=CSRF)
def change_status(request: Request, session: Db, me: Me, portal: Site, number: str, action: str):
    _editor(me)
    if action not in ("restore", "cancel"):
        raise HTTPException(404)
    try:
        outage = register.find_outage(session, number)
        if action == "restore":
            met = register.restore(session, outage, at=portal.clock(), by=me.staff.code,
                                   now=portal.clock())
            return _back(request, f"停电{number}已恢复供电，{met}张关联工单期限随之完成。")
        register.cancel(session, outage)
    except InputError as exc:
        session.rollback()
        return _back(request, f"{exc.zh}。")
    return _back(request, f"停电{number}已取消，已收到停电通知的客户将收到取消短信。")
