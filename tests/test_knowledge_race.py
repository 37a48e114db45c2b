"""Two versions over the same base approved at once on PostgreSQL, each in its own session: the
second waits for the first's row lock, then is refused in Chinese and changes nothing."""

import threading

import pytest
from sqlalchemy import select, text

from models.core.errors import InputError
from models.knowledge.articles import Article, ArticleStatus
from models.knowledge.drafts import check_draft
from models.knowledge.rules import Action
from tasks.core.db import engine_for, session_scope
from tasks.knowledge import versions
from tests.knowledge_centre import TZ, build, draft, local, publish, staff

NOW = local(2026, 11, 20, 9)


@pytest.mark.parametrize("empty_db_url", ["postgresql"], indirect=True)
def test_two_supersedes_racing_one_wins_the_other_is_told(db_url):
    with session_scope(db_url) as session:
        build(session)
        base = publish(session, draft(), now=NOW)
        ids = []
        for body in ("第二版口径", "第三版口径"):
            article = versions.new_version(session, staff(session, "A-EDIT"), base,
                                           check_draft(draft(body=body)), now=NOW, timezone=TZ)
            versions.act(session, staff(session, "A-EDIT"), article, Action.submit, now=NOW)
            ids.append(article.id)
        base_id = base.id

    def approve(session, article_id):
        return versions.act(session, staff(session, "A-HEAD"), session.get(Article, article_id),
                            Action.approve, now=NOW)

    refused: list[InputError] = []

    def second():
        try:
            with session_scope(db_url) as session:
                approve(session, ids[1])
        except InputError as exc:
            refused.append(exc)

    with session_scope(db_url) as first:
        approve(first, ids[0])  # holds the base row's lock until it commits
        racer = threading.Thread(target=second)
        racer.start()
        with engine_for(db_url).connect() as watcher:
            while racer.is_alive() and not watcher.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()")).scalar():
                watcher.rollback()
                racer.join(0.05)
    racer.join()
    assert [exc.zh for exc in refused] == ["第1版已被第2版替代，本版本不能再发布；请基于最新版本新建版本"]
    with session_scope(db_url) as session:
        rows = {a.id: (a.version, a.status) for a in session.scalars(select(Article))}
    assert rows == {base_id: (1, ArticleStatus.superseded), ids[0]: (2, ArticleStatus.approved),
                    ids[1]: (3, ArticleStatus.in_review)}
