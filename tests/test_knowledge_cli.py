"""gridline knowledge import | expire, as an admin types them: a file with a bad row is refused
whole, naming the row; a good file lands as drafts; expire notifies once."""

import csv

from sqlalchemy import func, select

from models.knowledge.articles import Article, ArticleStatus
from tasks.core.db import session_scope
from tests.cli import run_cli
from tests.knowledge_centre import build, draft, local, publish

HEADER = ["文档编号", "类别", "标题", "正文", "工单类型", "适用单位", "生效日期", "失效日期"]


def _write(path, rows):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return str(path)


def test_import_and_expire(db_url, tmp_path, capsys):
    with session_scope(db_url) as session:
        build(session)
        old = publish(session, draft(valid_to="2026-11-30"), now=local(2026, 11, 1, 9))
    bad = _write(tmp_path / "bad.csv", [
        ["", "统一答复口径", "电费缴纳渠道", "可通过网上国网缴费。", "咨询查询", "3201", "2026-12-01", ""],
        ["", "统一答复口径", "", "无标题", "", "", "2026-12-01", ""],
        ["", "知识文章", "抄表周期", "每月抄表。", "", "9999", "2026-12-01", ""]])
    result = run_cli(capsys, "knowledge", "import", bad, "--by", "A-EDIT")
    assert (result.code, result.err.strip()) == (
        2, "错误：字段 file：第3行 title：标题必填；第4行 regions：没有这个单位：9999 | "
           "error: field file: 2 bad rows: nothing imported")
    good = _write(tmp_path / "good.csv", [
        ["", "统一答复口径", "电费缴纳渠道", "可通过网上国网缴费。", "咨询查询", "3201", "2026-12-01", ""],
        [old.doc_key, "统一答复口径", "阶梯电价（新）", "按年度累计。", "", "", "2026-12-01", ""]])
    result = run_cli(capsys, "knowledge", "import", good, "--by", "A-EDIT", "--json")
    assert result.code == 0
    created = result.json()["created"]
    assert created[1] == f"{old.doc_key}/v2" and len(created) == 2
    with session_scope(db_url) as session:
        assert session.scalar(select(func.count()).select_from(Article).where(
            Article.status == ArticleStatus.draft)) == 2
    at = "2026-12-01T00:00:00+08:00"
    first = run_cli(capsys, "knowledge", "expire", "--now", at, "--json").json()
    again = run_cli(capsys, "knowledge", "expire", "--now", at, "--json").json()
    assert (first, again) == ({"expired": 1, "warned": 0, "queued": 2},
                              {"expired": 0, "warned": 0, "queued": 0})
