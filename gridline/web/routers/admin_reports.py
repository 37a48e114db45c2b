"""报表订阅 (admin): who of one's scope receives 日报, 报表 and 指标报告 by e-mail. The roles in
reports.yaml subscribe by default; an admin adds a staff member by code or takes one off. The
scheduled mailing (flows/reports.py) reads the same list (tasks.statistics.subscriptions)."""

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse

from gridline.web.deps import CSRF, Db, Posted, Site
from gridline.web.forms import form_text
from gridline.web.routers.admin_api import Admin
from models.core.errors import InputError
from models.statistics.reports import ReportSpec
from tasks.statistics.reports import reports
from tasks.statistics.subscriptions import listing, subscribe, unsubscribe

router = APIRouter(prefix="/admin")
PERIODS = {"day": "每日", "week": "每周", "month": "每月"}


def _spec(report: str) -> ReportSpec:
    try:
        return reports().get(report)
    except InputError:
        raise HTTPException(404) from None


def subscribers_page(request: Request, portal, session, me, *, errors: dict | None = None,
                     status_code: int = 200):
    shown = [(spec, listing(session, spec, me.region_ids)) for spec in reports().reports]
    return portal.page(request, "admin_report_subscribers.html", me, status_code=status_code,
                       reports=shown, periods=PERIODS, errors=errors or {})


@router.get("/report-subscribers")
def page(request: Request, session: Db, me: Admin, portal: Site):
    return subscribers_page(request, portal, session, me)


@router.post("/report-subscribers/{report}", dependencies=CSRF)
def change(request: Request, session: Db, me: Admin, portal: Site, report: str, form: Posted):
    spec = _spec(report)
    try:
        code = form_text(form, "code", 32)
        if form.get("action") == "remove":
            staff = unsubscribe(session, spec, code, me.region_ids)
            done = f"已将{staff.name}（{staff.code}）移出{spec.label}的收件人。"
        else:
            staff = subscribe(session, spec, code, me.region_ids)
            done = f"已将{staff.name}（{staff.code}）加入{spec.label}的收件人。"
    except InputError as exc:
        session.rollback()
        return subscribers_page(request, portal, session, me, errors={spec.key: exc.zh},
                                status_code=422)
    session.commit()
    request.session["flash"] = done
    return RedirectResponse("/admin/report-subscribers", status_code=303)
