"""Quality appeals on the lifecycle engine, on a real Prefect server with the in-process worker
(PostgreSQL): a pass is published at once with no case; a fail's case waits at the agent's
appeal, the inspector is refused as reviewer and another's 改判 publishes a new version; a window
left alone lapses across National Day 2026 and its 调休 Saturday and is published once."""

from datetime import date

import pytest
from sqlalchemy import select

from flows.cases import complete_case_step, lapse_case_steps
from flows.quality_results import appeal_result, score
from models.core.errors import InputError
from models.quality.lifecycle import ResultStatus
from models.quality.tables import Inspection, Result
from tasks.cases.store import get_case, open_case_of
from tasks.core.db import session_scope
from tasks.quality.case_opening import KIND
from tasks.quality.files import plan
from tasks.quality.results import versions
from tasks.quality.sampling import draw_period
from tests.lifecycle_harness import live_centre, running_centre, two_lapse_audits_at_once
from tests.quality_centre import build, local
from tests.test_cases import case_of, wait_at
from tests.test_quality import ALL_MET

SCORED_AT = local(2026, 9, 30, 10)  # the eve of National Day 2026 (10-01..07 off, 10-10 on)
WINDOW_ENDS = local(2026, 10, 10, 10)  # three working days: 09-30, 10-08, 10-09, 10-10


@pytest.fixture(scope="module")
def centre(postgres_server, tmp_path_factory):
    yield from running_centre(postgres_server, tmp_path_factory, seed=build)


@pytest.fixture
def live(centre):
    with live_centre(centre):
        with session_scope() as session:
            if not session.scalar(select(Inspection.id).limit(1)):
                draw_period(session, plan("monthly"), date(2026, 8, 1), now=SCORED_AT,
                            timezone="Asia/Shanghai")
        yield centre


def scored(answers: dict[str, bool]) -> tuple[int, int, str | None]:
    """The next unscored inspection scored by its inspector: (inspection, result, case number)."""
    with session_scope() as session:
        done = select(Result.inspection_id)
        inspection = session.scalar(select(Inspection).where(Inspection.id.not_in(done))
                                    .order_by(Inspection.id).limit(1))
        result = score(session, inspection.inspector, inspection, answers, "地址记录错误",
                       now=SCORED_AT)
        case = open_case_of(session, KIND, inspection.id)
        found = inspection.id, result.id, case.number if case else None
    return found


def people(inspection_id: int) -> tuple[int, int, int]:
    """The agent, the inspector, and the other inspector (a reviewer)."""
    with session_scope() as session:
        inspection = session.get(Inspection, inspection_id)
        other = session.scalar(select(Inspection.inspector_id).where(
            Inspection.inspector_id != inspection.inspector_id).limit(1))
        return inspection.agent_id, inspection.inspector_id, other


def test_a_pass_publishes_at_once_and_a_fail_appealed_is_amended_not_by_its_inspector(live):
    passed, result_id, number = scored(ALL_MET)
    with session_scope() as session:
        assert (session.get(Result, result_id).status, number) == (ResultStatus.published, None)
    inspection_id, _, number = scored({**ALL_MET, "accuracy": False})
    agent, inspector, reviewer = people(inspection_id)
    waiting = wait_at(number, "appeal")
    with session_scope() as session:
        step = get_case(session, number).steps[0]
        assert (step.assignee_id, step.due_at) == (agent, WINDOW_ENDS)
    appeal_result(number, agent, "地址为客户口述，记录无误", now=local(2026, 10, 9, 16))
    at_review = wait_at(number, "review")
    assert (waiting["status"], at_review["status"], at_review["steps"][-1][3]) == (
        "open", "appealed", "QA")
    with pytest.raises(InputError) as refused:
        complete_case_step(number, "review", {"result": "改判", "note": "同意"}, inspector,
                           now=local(2026, 10, 12, 9))
    assert refused.value.zh == "复核人不能是原质检员"
    assert case_of(number)["open"] == "review"
    complete_case_step(number, "review", {"result": "改判", "note": "录音核实，记录无误"}, reviewer,
                       now=local(2026, 10, 12, 9))
    done = wait_at(number, None)
    with session_scope() as session:
        chain = [(r.version, r.status, r.score, r.answers["accuracy"])
                 for r in versions(session, inspection_id)]
    assert chain == [(1, ResultStatus.amended, 70.0, False), (2, ResultStatus.published, 100.0, True)]
    assert done["status"] == "closed"
    assert [s[:3] for s in done["steps"]] == [("appeal", 1, "done"), ("review", 1, "done"),
                                              ("close", 1, "done")]


def test_a_window_left_alone_lapses_after_national_day_and_publishes_once(live):
    inspection_id, result_id, number = scored({**ALL_MET, "no_leak": False})
    wait_at(number, "appeal")
    mine = f"{number} appeal"  # the other test's case may wait too
    assert mine not in lapse_case_steps(now=WINDOW_ENDS.subtract(minutes=1))
    results = two_lapse_audits_at_once(live.prefect.api_url, WINDOW_ENDS)
    assert sorted(([x for x in r if x == mine] for r in results), key=len) == [[], [mine]]
    done = wait_at(number, None)
    with session_scope() as session:
        chain = [(r.version, r.status, r.published_at, r.score)
                 for r in versions(session, inspection_id)]
    assert chain == [(1, ResultStatus.published, WINDOW_ENDS, 100.0)]
    assert [e for e in done["events"] if e[0] == "step_done"] == [
        ("step_done", "系统", "预公布（申诉期）：期满公布，逾期未办理，系统按期办结")]
    assert (done["status"], [s[0] for s in done["steps"]]) == ("closed", ["appeal", "close"])
