"""The knowledge-expiry flow of prefect.yaml on a real (temporary) Prefect server: what passed its
date expires and its owners are told once; a run again the same hour queues nothing."""

import pytest
import yaml
from sqlalchemy import select

from models.core.paths import PROJECT_ROOT
from models.knowledge.articles import ArticleStatus
from models.messaging.outbox import OutboxMessage
from tasks.core.db import session_scope
from tests.knowledge_centre import build, draft, local, publish


@pytest.mark.parametrize("empty_db_url", ["sqlite"], indirect=True)
def test_the_scheduled_flow_expires_and_notifies_once(db_url, prefect_harness):
    from flows.knowledge import knowledge_expiry

    with session_scope(db_url) as session:
        build(session)
        gone = publish(session, draft(valid_from="2026-01-01", valid_to="2026-02-01"),
                       now=local(2026, 1, 1, 9))
    deployments = yaml.safe_load((PROJECT_ROOT / "prefect.yaml").read_text())["deployments"]
    [spec] = [d for d in deployments if d["name"] == "knowledge-expiry"]
    assert spec["entrypoint"] == "flows/knowledge.py:knowledge_expiry"
    first = knowledge_expiry(**spec["parameters"])
    again = knowledge_expiry(**spec["parameters"])
    assert (first, again) == ({"expired": 1, "warned": 0, "queued": 2},
                              {"expired": 0, "warned": 0, "queued": 0})
    with session_scope(db_url) as session:
        keys = sorted(session.scalars(select(OutboxMessage.key)))
        assert session.get(type(gone), gone.id).status == ArticleStatus.expired
    assert [k.rsplit(":", 1)[1] for k in keys] == ["email", "sms"]
    assert all(k.startswith(f"knowledge-expired:{gone.id}:") for k in keys)
