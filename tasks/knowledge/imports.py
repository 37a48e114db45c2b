"""A table of versions (xlsx or csv, Chinese headers) imported as drafts of the importer's
department, or as new versions of documents already there (by 文档编号). Every row is checked
first: one bad row, and the file is refused whole with each bad row named."""

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.core.errors import InputError
from models.knowledge.articles import Article, ArticleStatus
from models.knowledge.drafts import check_draft
from models.org.organisation import Staff
from tasks.core.spreadsheets import read_rows
from tasks.knowledge import versions

HEADERS = {"文档编号": "doc_key", "类别": "kind", "标题": "title", "正文": "body",
           "工单类型": "ticket_type", "业务子类": "subtype", "适用单位": "regions",
           "事件编号": "event_ref", "客户标签": "customer_tags", "生效日期": "valid_from",
           "失效日期": "valid_to", "复审日期": "review_by"}
KIND_LABELS = {"统一答复口径": "script", "知识文章": "article", "中心制度": "rule", "通知公告": "notice"}


@dataclass(frozen=True)
class Imported:
    created: list[str]  # references of the drafts written


def _text(value) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value).strip()


def _row(raw: dict) -> dict[str, str]:
    row = {HEADERS[h]: _text(v) for h, v in raw.items() if h in HEADERS}
    row["kind"] = KIND_LABELS.get(row.get("kind", ""), row.get("kind", ""))
    return row


def import_file(session: Session, staff: Staff, path: Path, *, now: datetime,
                timezone: str) -> Imported:
    rows = [(number, _row(raw)) for number, raw in read_rows(path)]
    errors, created = [], []
    for number, row in rows:  # a refused row adds nothing; any refusal rolls the file back
        try:
            values = check_draft(row)
            key = row.get("doc_key") or None
            base = key and session.scalar(
                select(Article).where(Article.doc_key == key,
                                      Article.status.in_((ArticleStatus.approved,
                                                          ArticleStatus.expired)))
                .order_by(Article.version.desc()))
            if base:
                article = versions.new_version(session, staff, base, values, now=now,
                                               timezone=timezone)
            else:
                article = versions.create(session, staff, values, now=now, timezone=timezone,
                                          doc_key=key)
            created.append(f"{article.doc_key}/v{article.version}")
        except InputError as exc:
            errors.append(f"第{number}行 {exc.field}：{exc.zh}")
    if errors:
        raise InputError("file", "；".join(errors), f"{len(errors)} bad rows: nothing imported")
    return Imported(created)
