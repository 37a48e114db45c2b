"""报表上报与审核: a unit's report for a period (figures computed, some entered), 上报 to the level
above, which approves it (after all its children) or sends it back (退回) with a reason: the
submission's case on the lifecycle engine (flows/approvals.py)."""

from datetime import date

import pendulum
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse

from flows.approvals import act_on_report
from gridline.web.deps import CSRF, Db, Me, Posted, Site
from models.core.errors import InputError
from models.statistics.approval import ACTION_LABELS, Action
from models.statistics.reports import covered
from tasks.statistics import approval
from tasks.statistics.figures import Statistics, Unit
from tasks.statistics.reports import reports

router = APIRouter()


def _chosen(portal, report: str, start: str):
    try:
        spec = reports().get(report or "indicators")
        today = pendulum.instance(portal.clock()).in_timezone(portal.settings.timezone).date()
        first = date.fromisoformat(start) if start else covered(spec.period, today)[0]
    except (InputError, ValueError):
        raise HTTPException(422, "报表或日期无效") from None
    return spec, first


def _unit(stats: Statistics, code: str) -> Unit:
    try:
        unit = Unit.parse(code) if code else stats.home
        stats.check(unit)
    except (InputError, LookupError):
        raise HTTPException(404) from None
    return unit


@router.get("/approvals")
def overview(request: Request, session: Db, me: Me, portal: Site, report: str = "",
             start: str = ""):
    spec, first = _chosen(portal, report, start)
    stats = Statistics(session, me.staff)
    home = stats.viewer.root_id
    units = [home] + [r for r in stats.tree.children.get(home, []) if r in stats.viewer.region_ids]
    rows = [(stats.tree.regions[r], approval.status_of(session, spec.key, first, r)) for r in units]
    return portal.page(request, "approvals.html", me, spec=spec, first=first, rows=rows,
                       specs=reports().reports)


@router.get("/approvals/unit")
def unit_page(request: Request, session: Db, me: Me, portal: Site, report: str = "",
              start: str = "", unit: str = ""):
    spec, first = _chosen(portal, report, start)
    stats = Statistics(session, me.staff)
    region = _unit(stats, unit).region_id
    row = approval.submission(session, stats, spec, first, region, now=portal.clock(),
                              timezone=portal.settings.timezone)
    session.commit()
    own = me.staff.department.region_id == region
    return portal.page(request, "approval.html", me, spec=spec, first=first, row=row, own=own,
                       region=stats.tree.regions[region], log=approval.history(session, row),
                       labels=ACTION_LABELS, Action=Action)


@router.post("/approvals/unit", dependencies=CSRF)
def act(request: Request, session: Db, me: Me, portal: Site, form: Posted):
    spec, first = _chosen(portal, str(form.get("report", "")), str(form.get("start", "")))
    stats = Statistics(session, me.staff)
    region = _unit(stats, str(form.get("unit", ""))).region_id
    try:
        action = Action(str(form.get("action", "")))
    except ValueError:
        raise HTTPException(422, "操作无效") from None
    try:
        if action == Action.edit:
            row = approval.submission(session, stats, spec, first, region, now=portal.clock(),
                                      timezone=portal.settings.timezone)
            entered = {key: str(form.get(f"entered_{key}", "")).strip() for key in spec.entered}
            approval.act(session, stats, me.staff, spec, row, action, now=portal.clock(),
                         entered=entered)
            session.commit()
        else:  # 上报, 审核通过, 退回: steps of the submission's case, on the lifecycle engine
            act_on_report(me.staff.id, spec.key, first, region, action, now=portal.clock(),
                          reason=str(form.get("reason", "")))
        session.expire_all()  # the case committed in its own session
        status = approval.status_of(session, spec.key, first, region)
        request.session["flash"] = f"{ACTION_LABELS[action]}成功：{status.label}。"
    except InputError as exc:
        session.rollback()
        request.session["flash"] = f"未能{ACTION_LABELS[action]}：{exc.zh}。"
    return RedirectResponse(f"/approvals/unit?report={spec.key}&start={first}&unit=r{region}",
                            status_code=303)
