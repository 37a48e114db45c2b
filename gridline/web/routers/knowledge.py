"""知识库: reply scripts (统一答复口径), articles and centre documents. The list searches what is in
force (or every version, for editors); the editor writes a draft or a new version, submits it,
and an approver approves or sends it back; owners or approvers withdraw. Every page reads through
tasks.knowledge, so validity is the same here as at intake and on the ticket page."""

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from flows.knowledge_review import act_on_article
from gridline.web.deps import CSRF, Db, Me, Posted, Site
from gridline.web.forms import form_text
from gridline.web.security import MAX_BODY, RowId
from models.core.enums import TicketType
from models.core.errors import InputError
from models.knowledge.articles import Article, ArticleKind, ArticleStatus
from models.knowledge.drafts import check_draft
from models.knowledge.rules import ACTION_LABELS, Action, local_days, state_at
from models.org.organisation import Region
from tasks.knowledge import finding, versions
from tasks.org.scope import Scope

router = APIRouter()
FIELDS = ("kind", "title", "body", "ticket_type", "subtype", "regions", "event_ref",
          "customer_tags", "valid_from", "valid_to", "review_by")


def visible(me: Scope, article: Article) -> bool:
    """Within the viewer's scope: a version for every unit, or for one of theirs."""
    return not article.region_ids or bool(set(article.region_ids) & me.region_ids)


def _article(session, me: Scope, article_id: int) -> Article:
    article = session.get(Article, article_id)
    if article is None or not visible(me, article):
        raise HTTPException(404)
    return article


def _form_values(session, article: Article | None, timezone: str) -> dict[str, str]:
    if article is None:
        return {"kind": ArticleKind.script.value}
    codes = session.scalars(select(Region.code).where(Region.id.in_(article.region_ids or [0])))
    first, last = local_days(article.valid_from, article.valid_to, timezone)
    return {"kind": article.kind.value, "title": article.title, "body": article.body,
            "ticket_type": article.ticket_type or "", "subtype": article.subtype or "",
            "regions": "，".join(codes), "event_ref": article.event_ref or "",
            "customer_tags": "，".join(article.customer_tags or []),
            "valid_from": first.isoformat(), "valid_to": last.isoformat() if last else "",
            "review_by": article.review_by.isoformat() if article.review_by else ""}


def _posted(form) -> dict[str, str]:
    return {name: form_text(form, name, MAX_BODY, multiline=name == "body").strip()
            for name in FIELDS}


def editor(request, portal, me, session, *, values, errors=None, article=None, base=None,
           status_code=200):
    return portal.page(request, "knowledge/edit.html", me, status_code=status_code,
                       values=values, errors=errors or {}, article=article, base=base,
                       kinds=list(ArticleKind), types=list(TicketType))


@router.get("/knowledge")
def listing(request: Request, session: Db, me: Me, portal: Site, q: str = "", every: str = ""):
    now = portal.clock()
    found = [a for a in finding.search(session, q[:100], at=now, every_version=bool(every))
             if visible(me, a)]
    return portal.page(request, "knowledge/list.html", me, q=q, every=bool(every),
                       rows=[(a, state_at(a, now), *local_days(a.valid_from, a.valid_to,
                                                               portal.settings.timezone))
                             for a in found])


@router.get("/knowledge/new")
def new_form(request: Request, session: Db, me: Me, portal: Site):
    return editor(request, portal, me, session, values=_form_values(session, None, portal.settings.timezone))


@router.post("/knowledge/new", dependencies=CSRF)
def create(request: Request, session: Db, me: Me, portal: Site, form: Posted):
    values = {}
    try:
        values = _posted(form)
        article = versions.create(session, me.staff, check_draft(values), now=portal.clock(),
                                  timezone=portal.settings.timezone)
        session.commit()
    except InputError as exc:
        session.rollback()
        return editor(request, portal, me, session, values=values, errors={exc.field: exc.zh},
                      status_code=422)
    request.session["flash"] = f"已保存草稿 {finding.reference(article)}。"
    return RedirectResponse(f"/knowledge/{article.id}", status_code=303)


@router.get("/knowledge/{article_id}")
def page(request: Request, session: Db, me: Me, portal: Site, article_id: RowId):
    article = _article(session, me, article_id)
    now = portal.clock()
    return portal.page(request, "knowledge/article.html", me, article=article,
                       state=state_at(article, now), values=_form_values(session, article, portal.settings.timezone),
                       errors={}, kinds=list(ArticleKind), types=list(TicketType),
                       versions=[(v, state_at(v, now))
                                 for v in finding.versions(session, article.doc_key)],
                       log=finding.history(session, article),
                       owner=versions.owns(me.staff, article),
                       approver=versions.may_approve(me.staff), labels=ACTION_LABELS,
                       Status=ArticleStatus)


@router.post("/knowledge/{article_id}/edit", dependencies=CSRF)
def edit(request: Request, session: Db, me: Me, portal: Site, form: Posted, article_id: RowId):
    article = _article(session, me, article_id)
    new = form.get("as_new_version") == "1"
    values = {}
    try:
        values = _posted(form)
        write = versions.new_version if new else versions.edit
        saved = write(session, me.staff, article, check_draft(values), now=portal.clock(),
                      timezone=portal.settings.timezone)
        session.commit()
    except InputError as exc:
        session.rollback()
        return editor(request, portal, me, session, values=values, errors={exc.field: exc.zh},
                      article=None if new else article, base=article if new else None,
                      status_code=422)
    request.session["flash"] = (f"已新建版本 {finding.reference(saved)}（草稿）。" if new
                                else "已保存草稿。")
    return RedirectResponse(f"/knowledge/{saved.id}", status_code=303)


@router.get("/knowledge/{article_id}/version")
def version_form(request: Request, session: Db, me: Me, portal: Site, article_id: RowId):
    article = _article(session, me, article_id)
    return editor(request, portal, me, session, values=_form_values(session, article, portal.settings.timezone),
                  base=article)


@router.post("/knowledge/{article_id}/act", dependencies=CSRF)
def act(request: Request, session: Db, me: Me, portal: Site, form: Posted, article_id: RowId):
    article = _article(session, me, article_id)
    try:
        action = Action(str(form.get("action", "")))
    except ValueError:
        raise HTTPException(422, "操作无效") from None
    try:
        act_on_article(me.staff.id, article.id, action, now=portal.clock(),
                       reason=form_text(form, "reason", 500))
        session.expire_all()  # the case committed in its own session
        request.session["flash"] = f"{ACTION_LABELS[action]}成功：{article.status.label}。"
    except InputError as exc:
        session.rollback()
        request.session["flash"] = f"未能{ACTION_LABELS[action]}：{exc.zh}。"
    return RedirectResponse(f"/knowledge/{article_id}", status_code=303)
