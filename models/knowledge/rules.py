"""The knowledge base's rules, pure: the approval as one transition function (so a lifecycle can
take it over), a version's state at an instant, local-date validity, and how specific a scope is
for a call."""

from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from models.core.errors import InputError
from models.knowledge.articles import Article, ArticleStatus


class Action(StrEnum):
    submit = "submit"        # 提交审核: by the owning department
    approve = "approve"      # 审核通过: by a head, a supervisor or an admin
    send_back = "send_back"  # 退回修改: the same, with a reason
    withdraw = "withdraw"    # 撤回: the owning department or an approver, with a reason
    supersede = "supersede"  # a newer version was approved
    expire = "expire"        # its valid_to passed (the scheduled flow)


ACTION_LABELS = {Action.submit: "提交审核", Action.approve: "审核通过", Action.send_back: "退回修改",
                 Action.withdraw: "撤回", Action.supersede: "被新版本替代", Action.expire: "到期失效"}
ENDED = (ArticleStatus.superseded, ArticleStatus.expired, ArticleStatus.withdrawn)


def transition(status: ArticleStatus, action: Action, *, owner: bool, approver: bool,
               reason: str = "") -> ArticleStatus:
    """The stored status after `action`, or one clear InputError saying why not. owner: the actor
    belongs to the owning department; approver: the actor may approve."""
    if status in ENDED:
        raise _no(f"该版本{status.label}，不能再操作", f"the version is {status.value}")
    if action == Action.submit:
        if not owner:
            raise _no("只有归口部门可以提交审核", "only the owning department submits")
        if status != ArticleStatus.draft:
            raise _no(f"该版本{status.label}，不能提交审核", f"cannot submit when {status.value}")
        return ArticleStatus.in_review
    if action in (Action.approve, Action.send_back):
        if not approver:
            raise _no("只有部门负责人、值班长或管理员可以审核", "only an approver reviews")
        if status != ArticleStatus.in_review:
            raise _no(f"该版本{status.label}，不能审核", f"cannot review when {status.value}")
        if action == Action.send_back and not reason.strip():
            raise _no("退回须填写原因", "a send-back needs a reason")
        return ArticleStatus.approved if action == Action.approve else ArticleStatus.draft
    if action == Action.withdraw:
        if not (owner or approver):
            raise _no("只有归口部门或审核人可以撤回", "only the owners or an approver withdraw")
        if not reason.strip():
            raise _no("撤回须填写原因", "a withdrawal needs a reason")
        return ArticleStatus.withdrawn
    if status != ArticleStatus.approved:
        raise _no(f"该版本{status.label}，不能{ACTION_LABELS[action]}",
                  f"cannot {action.value} when {status.value}")
    return ArticleStatus.superseded if action == Action.supersede else ArticleStatus.expired


def _no(zh: str, en: str) -> InputError:
    return InputError("action", zh, en)


def state_at(article: Article, at: datetime) -> ArticleStatus:
    """What a reader sees at `at`: an approved version is scheduled before valid_from, active
    within its dates, expired after valid_to (whether or not the expiry flow has run yet); a
    superseded or withdrawn one stays active until the instant it ended."""
    status = article.status
    if status in (ArticleStatus.superseded, ArticleStatus.withdrawn):
        if article.approved_at is None or article.ended_at is None or at >= article.ended_at:
            return status
        status = ArticleStatus.approved
    if status == ArticleStatus.expired:
        return status if article.valid_to is None or at >= article.valid_to else ArticleStatus.active
    if status != ArticleStatus.approved:
        return status
    if at < article.valid_from:
        return ArticleStatus.approved
    if article.valid_to is not None and at >= article.valid_to:
        return ArticleStatus.expired
    return ArticleStatus.active


def validity(first: date, last: date | None, timezone: str) -> tuple[datetime, datetime | None]:
    """Local dates (both days included) as UTC instants: from the first day's midnight to the
    midnight after the last day, in the centre's time zone."""
    if last is not None and last < first:
        raise InputError("valid_to", "失效日期不能早于生效日期", "valid_to is before valid_from")
    zone = ZoneInfo(timezone)
    start = datetime.combine(first, time(), zone)
    end = None if last is None else datetime.combine(date.fromordinal(last.toordinal() + 1),
                                                     time(), zone)
    return start, end


def local_days(start: datetime, end: datetime | None, timezone: str) -> tuple[date, date | None]:
    """`validity` read back: the first and last local days (both included)."""
    zone = ZoneInfo(timezone)
    last = None if end is None else date.fromordinal(end.astimezone(zone).date().toordinal() - 1)
    return start.astimezone(zone).date(), last


@dataclass(frozen=True)
class CallContext:
    """What intake knows about a call: the type, the unit chain (the customer's unit first, then
    each level above), known outages or events, and the customer's tags."""

    ticket_type: str | None = None
    subtype: str | None = None
    regions: tuple[int, ...] = ()
    events: frozenset[str] = frozenset()
    tags: frozenset[str] = field(default_factory=frozenset)


def specificity(article: Article, call: CallContext) -> int | None:
    """How closely a version's scope fits the call (higher first), or None when it does not
    apply. An outage or event outranks everything; a subtype outranks a type; a unit near the
    customer's outranks one further up; each matching tag adds one. A call without a type yet
    (intake, before the agent chooses) is fitted on the other parts only."""
    score = 0
    if article.event_ref:
        if article.event_ref not in call.events:
            return None
        score += 1000
    if call.ticket_type is not None:  # before the agent picks a type, every type may apply
        if article.ticket_type:
            if article.ticket_type != call.ticket_type:
                return None
            score += 100
        if article.subtype:
            if article.subtype != call.subtype:
                return None
            score += 200
    if article.region_ids:
        depth = next((i for i, r in enumerate(call.regions) if r in article.region_ids), None)
        if depth is None:
            return None
        score += 10 * (len(call.regions) - depth)
    tags = set(article.customer_tags or ())
    if not tags <= call.tags:
        return None
    return score + len(tags)
