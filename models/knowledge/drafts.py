"""What an editor (or an import row) types for a version, checked into one value with one clear
Chinese error per bad field. Units are given by their codes and resolved by the caller."""

from dataclasses import dataclass
from datetime import date

from models.core.enums import TicketType
from models.core.errors import InputError
from models.core.text import FREE_TEXT_MAX, check_text
from models.knowledge.articles import ArticleKind

TITLE_MAX = 200
BODY_MAX = 4 * FREE_TEXT_MAX
LIST_SEPARATORS = str.maketrans({"，": ",", "、": ",", "；": ",", ";": ",", " ": ","})


@dataclass(frozen=True)
class DraftValues:
    kind: ArticleKind
    title: str
    body: str
    ticket_type: str | None
    subtype: str | None
    region_codes: tuple[str, ...]
    event_ref: str | None
    customer_tags: tuple[str, ...]
    valid_from: date
    valid_to: date | None
    review_by: date | None


def _date(field: str, text: str, label: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(field, f"{label}格式无效，请按 2026-12-01 填写", "not a date") from None


def items(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p for p in text.translate(LIST_SEPARATORS).split(",") if p))


def check_draft(raw: dict[str, str]) -> DraftValues:
    """The values of a version from text fields (missing ones are blank)."""
    get = lambda name: (raw.get(name) or "").strip()  # noqa: E731
    try:
        kind = ArticleKind(get("kind") or "script")
    except ValueError:
        raise InputError("kind", "类别无效，可选：" + "、".join(k.label for k in ArticleKind),
                         "unknown kind") from None
    title = check_text("title", get("title"), TITLE_MAX)
    if not title:
        raise InputError("title", "标题必填", "a title is required")
    body = check_text("body", get("body"), BODY_MAX, multiline=True)
    if not body:
        raise InputError("body", "正文必填", "a body is required")
    ticket_type = get("ticket_type") or None
    if ticket_type is not None and ticket_type not in {t.value for t in TicketType}:
        by_label = {t.label: t.value for t in TicketType}
        if ticket_type not in by_label:
            raise InputError("ticket_type", "工单类型无效，可选：" + "、".join(by_label), "unknown type")
        ticket_type = by_label[ticket_type]
    subtype = check_text("subtype", get("subtype"), 50) or None
    if subtype and not ticket_type:
        raise InputError("subtype", "填写业务子类时须同时选择工单类型", "a subtype needs a type")
    valid_from = _date("valid_from", get("valid_from"), "生效日期")
    if valid_from is None:
        raise InputError("valid_from", "生效日期必填", "valid_from is required")
    valid_to = _date("valid_to", get("valid_to"), "失效日期")
    if valid_to is not None and valid_to < valid_from:
        raise InputError("valid_to", "失效日期不能早于生效日期", "valid_to is before valid_from")
    review_by = _date("review_by", get("review_by"), "复审日期")
    return DraftValues(kind=kind, title=title, body=body, ticket_type=ticket_type, subtype=subtype,
                       region_codes=items(get("regions")),
                       event_ref=check_text("event_ref", get("event_ref"), 64) or None,
                       customer_tags=items(check_text("customer_tags", get("customer_tags"), 200)),
                       valid_from=valid_from, valid_to=valid_to, review_by=review_by)
