"""质检: the inspector's queue and scoring form, an agent's own results with the evidence and the
appeal, the reviewer's queue, and the supervisor's month by agent, team or unit with its Excel.
Scoring, the appeal and the review go through flows.quality_results: a fail's appeal and review
are the steps of its 质检结果申诉 case on the lifecycle engine."""

from datetime import date, timedelta

import pendulum
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from flows import quality_results as use
from gridline.web.deps import CSRF, Db, Me, Posted, Site
from models.core.errors import InputError
from models.quality.lifecycle import ACTION_LABELS, Action, ResultStatus
from models.quality.scorecard import parse_scorecard
from models.quality.tables import Inspection, Result
from tasks.quality import indicator_appeals, views
from tasks.quality.files import card_in_force, plan
from tasks.quality.results import current, versions

router = APIRouter()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _month(portal, text: str) -> date:
    if not text:
        return pendulum.instance(portal.clock()).in_timezone(
            portal.settings.timezone).date().replace(day=1)
    try:
        return date.fromisoformat(f"{text}-01")
    except ValueError:
        raise HTTPException(422, "月份无效，应为 YYYY-MM") from None


def _by(text: str) -> str:
    if text not in views.GROUPINGS:
        raise HTTPException(422, "统计维度无效")
    return text


def _result(session, me, result_id: int) -> Result:
    result = session.get(Result, result_id)
    if result is None or not views.visible(me, result):
        raise HTTPException(404)
    return result


def _answers(form, card) -> dict[str, bool]:
    """The form's 符合/不符合 per item; an item left out stays out (the scorer says which)."""
    return {item.key: form[f"item_{item.key}"] == "yes" for item in card.items
            if form.get(f"item_{item.key}") in ("yes", "no")}


@router.get("/quality/queue")
def queue(request: Request, session: Db, me: Me, portal: Site):
    return portal.page(request, "quality/queue.html", me, rows=views.queue(session, me.staff))


@router.get("/quality/inspect/{inspection_id}")
def inspect_form(request: Request, session: Db, me: Me, portal: Site, inspection_id: int):
    inspection = session.get(Inspection, inspection_id)
    if inspection is None or inspection.inspector_id != me.staff.id:
        raise HTTPException(404)
    scored = current(session, inspection.id)
    if scored is not None:
        return RedirectResponse(f"/quality/result/{scored.id}", 303)
    card = card_in_force(session, plan(inspection.plan).scorecard,
                         inspection.sample.period_start, portal.clock()).card
    session.commit()
    return portal.page(request, "quality/inspect.html", me, inspection=inspection, card=card)


@router.post("/quality/inspect/{inspection_id}", dependencies=CSRF)
def inspect(request: Request, session: Db, me: Me, portal: Site, form: Posted, inspection_id: int):
    inspection = session.get(Inspection, inspection_id)
    if inspection is None or inspection.inspector_id != me.staff.id:
        raise HTTPException(404)
    now = portal.clock()
    card = card_in_force(session, plan(inspection.plan).scorecard,
                         inspection.sample.period_start, now).card
    try:
        result = use.score(session, me.staff, inspection, _answers(form, card),
                           str(form.get("note", "")), now=now)
        session.commit()
    except InputError as exc:
        session.rollback()
        request.session["flash"] = f"未能提交评分：{exc.zh}。"
        return RedirectResponse(f"/quality/inspect/{inspection_id}", status_code=303)
    request.session["flash"] = f"评分已提交：{result.score:g} 分，{result.status.label}。"
    return RedirectResponse("/quality/queue", status_code=303)


@router.get("/quality/mine")
def mine(request: Request, session: Db, me: Me, portal: Site):
    return portal.page(request, "quality/mine.html", me,
                       rows=views.own_results(session, me.staff), Status=ResultStatus)


@router.get("/quality/result/{result_id}")
def result_page(request: Request, session: Db, me: Me, portal: Site, result_id: int):
    result = _result(session, me, result_id)
    card = parse_scorecard(result.card.text).card
    chain = versions(session, result.inspection_id)
    reviewable = result in views.review_queue(session, me)
    return portal.page(request, "quality/result.html", me, result=result, card=card,
                       chain=chain, reviewable=reviewable, Status=ResultStatus,
                       own=result.inspection.agent_id == me.staff.id)


@router.post("/quality/result/{result_id}/appeal", dependencies=CSRF)
def appeal_result(request: Request, session: Db, me: Me, portal: Site, form: Posted,
                  result_id: int):
    result = _result(session, me, result_id)
    _act(request, session, lambda: _appealed(session, me, result, str(form.get("reason", "")),
                                             portal.clock()), ACTION_LABELS[Action.appeal])
    return RedirectResponse(f"/quality/result/{result_id}", status_code=303)


@router.post("/quality/result/{result_id}/review", dependencies=CSRF)
def review_result(request: Request, session: Db, me: Me, portal: Site, form: Posted,
                  result_id: int):
    result = _result(session, me, result_id)
    try:
        action = Action(str(form.get("action", "")))
    except ValueError:
        raise HTTPException(422, "操作无效") from None
    card = parse_scorecard(result.card.text).card
    unmet = [key for key, met in _answers(form, card).items() if not met]
    done = _act(request, session, lambda: use.review_result(
        session, use.case_number(session, result), me.staff.id, action, str(form.get("note", "")),
        unmet, now=portal.clock(), inspection_id=result.inspection_id), ACTION_LABELS[action])
    return RedirectResponse(f"/quality/result/{done.id if done else result_id}", status_code=303)


def _appealed(session, me, result: Result, reason: str, now) -> Result:
    use.appeal_result(use.case_number(session, result), me.staff.id, reason, now=now)
    session.expire_all()
    return current(session, result.inspection_id)


def _act(request: Request, session, do, label: str, told=None):
    """Do it and commit, flashing what happened (`told` of the outcome), or why not."""
    try:
        done = do()
        session.commit()
    except InputError as exc:
        session.rollback()
        request.session["flash"] = f"未能{label}：{exc.zh}。"
        return None
    request.session["flash"] = told(done) if told else f"{label}成功：{done.status.label}。"
    return done


@router.get("/quality/reviews")
def reviews(request: Request, session: Db, me: Me, portal: Site):
    return portal.page(request, "quality/reviews.html", me, rows=views.review_queue(session, me))


@router.get("/quality/results")
def results(request: Request, session: Db, me: Me, portal: Site, month: str = "",
            by: str = "agent"):
    if not me.sees_quality:
        raise HTTPException(403, "只有质检员和管理人员可以查看质检统计")
    first, by = _month(portal, month), _by(by)
    return portal.page(request, "quality/results.html", me, month=first, by=by,
                       groupings=views.GROUPINGS, headers=views.headers(by),
                       rows=views.summary(session, me, first, by))


@router.get("/quality/results.xlsx")
def export(session: Db, me: Me, portal: Site, month: str = "", by: str = "agent"):
    if not me.sees_quality:
        raise HTTPException(403, "只有质检员和管理人员可以查看质检统计")
    first, by = _month(portal, month), _by(by)
    body = views.summary_workbook(views.summary(session, me, first, by), first, by)
    return Response(body, media_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="quality-{first:%Y-%m}-{by}.xlsx"'})


@router.get("/quality/indicator-appeals")
def indicator_appeals_page(request: Request, session: Db, me: Me, portal: Site):
    now = portal.clock()
    return portal.page(request, "quality/indicator_appeals.html", me, now=now,
                       rows=indicator_appeals.list_appeals(session, me.staff),
                       indicators=indicator_appeals.appealable(),
                       may_decide=indicator_appeals.may_decide,
                       last_month=(_month(portal, "") - timedelta(days=1)).replace(day=1))


@router.post("/quality/indicator-appeals", dependencies=CSRF)
def file_indicator_appeal(request: Request, session: Db, me: Me, portal: Site, form: Posted):
    month = str(form.get("month", ""))
    _act(request, session, lambda: indicator_appeals.file_appeal(
        session, me.staff, str(form.get("indicator", "")), indicator_appeals.parse_month(month),
        str(form.get("tickets", "")), str(form.get("reason", "")), now=portal.clock(),
        timezone=portal.settings.timezone), "提交指标申诉",
        lambda done: f"指标申诉第{done.id}号已提交：{done.department.name}受理。")
    return RedirectResponse("/quality/indicator-appeals", status_code=303)


@router.post("/quality/indicator-appeals/{appeal_id}/decide", dependencies=CSRF)
def decide_indicator_appeal(request: Request, session: Db, me: Me, portal: Site, form: Posted,
                            appeal_id: int):
    try:
        appeal = indicator_appeals.get_appeal(session, me.staff, appeal_id)
    except LookupError:
        raise HTTPException(404) from None
    verdict = str(form.get("verdict", ""))
    if verdict not in ("upheld", "rejected"):
        request.session["flash"] = "未能处理指标申诉：请选择申诉成立或不成立。"
        return RedirectResponse("/quality/indicator-appeals", status_code=303)
    _act(request, session, lambda: indicator_appeals.decide(
        session, me.staff, appeal, verdict == "upheld", str(form.get("opinion", "")),
        now=portal.clock(), timezone=portal.settings.timezone), "处理指标申诉",
        lambda done: f"指标申诉第{done.id}号：{done.state}" + (
            f"，指标值由 {done.figure} 更正为 {done.corrected}。" if done.corrected else "。"))
    return RedirectResponse("/quality/indicator-appeals", status_code=303)

