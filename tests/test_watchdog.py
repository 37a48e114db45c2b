"""`gridline up`'s watchdog against a real Prefect server whose scheduler is off and whose pool has
no worker, with runs left waiting past their start: each is called out once, and what a worker
then fixes is called recovered."""

import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from prefect import get_client
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.states import Scheduled

from gridline.local_postgres import free_port
from gridline.local_prefect import POOL, LocalPrefect
from gridline.watchdog import LATE_PILE, Watchdog, check
from tasks.core.db import upgrade_schema

PATIENCE = timedelta(minutes=2)


@pytest.fixture(scope="module")
def sick(tmp_path_factory):
    root = tmp_path_factory.mktemp("watchdog")
    db_url = f"sqlite:///{root / 'gridline.db'}"
    upgrade_schema(db_url)
    prefect = LocalPrefect(root / "home", free_port(), log_dir=root, env={
        "GRIDLINE_DATABASE_URL": db_url, "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
        "PREFECT_WORKER_QUERY_SECONDS": "1"})
    try:
        prefect.start_server()
        prefect.deploy("deliver-outbox")
        yield SimpleNamespace(prefect=prefect, root=root)
    finally:
        prefect.stop()


def problems_now(client) -> list[str]:
    return [p.key for p in check(client, POOL, datetime.now(UTC))]


def test_the_watchdog_calls_out_a_silent_scheduler_a_missing_worker_and_late_runs(sick):
    lines = []
    dog = Watchdog(sick.prefect.api_url, POOL, patience=PATIENCE,
                   echo=lambda line, alarm: lines.append((alarm, line)))
    now = datetime.now(UTC)
    with temporary_settings({PREFECT_API_URL: sick.prefect.api_url}), \
            get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("deliver-outbox/deliver-outbox")
        for _ in range(LATE_PILE):  # as a worker that never came would leave them
            client.create_flow_run_from_deployment(
                deployment.id, state=Scheduled(scheduled_time=now - timedelta(minutes=5)))
        problems = check(client, POOL, now)

        assert [p.key for p in problems] == ["schedule:deliver-outbox", "worker", "late"]
        assert problems[0].text.startswith("调度器没有为「deliver-outbox」排出任何后续运行，定时任务不会执行")
        assert problems[1].text.startswith(
            "工作池「gridline」没有在线的执行器，流程不会启动 | no live worker in pool gridline "
            "(status NOT_READY, last heartbeat - ago)")
        assert problems[2].text.startswith("3 个流程运行已过开始时间仍未启动 | 3 flow runs are late (")

        # The worker and the late runs at once; the schedule only after the scheduler's patience.
        # (Prefect's own late-runs service may turn some Scheduled runs Late in between.)
        dog.poll(now)
        assert lines[0] == (True, f"!!! 警告 | WARNING: {problems[1].text}")
        assert lines[1][0] is True and lines[1][1].startswith(
            "!!! 警告 | WARNING: 3 个流程运行已过开始时间仍未启动 | 3 flow runs are late (")
        assert len(lines) == 2
        dog.poll(now + PATIENCE)
        dog.poll(now + PATIENCE)
        assert lines[2:] == [(True, f"!!! 警告 | WARNING: {problems[0].text}")]

        # A worker comes, runs the late runs: both clear; the scheduler is still off.
        sick.prefect.start_worker(POOL)
        deadline = time.monotonic() + 180
        while problems_now(client) != ["schedule:deliver-outbox"] and time.monotonic() < deadline:
            time.sleep(1)
        dog.poll()
    assert sorted(lines[3:]) == [(False, "已恢复 | recovered: late"),
                                 (False, "已恢复 | recovered: worker")]
