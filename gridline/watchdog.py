"""`gridline up`'s watchdog: asks the Prefect API now and then whether the scheduler and the worker
do their jobs, and says so loudly on the console when not. A broken scheduler is otherwise silent:
no run, no SMS, nothing on any screen (issue 14)."""

import threading
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import typer
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterDeploymentId,
    FlowRunFilterExpectedStartTime,
    FlowRunFilterState,
    FlowRunFilterStateType,
    WorkPoolFilter,
    WorkPoolFilterName,
)
from prefect.client.schemas.objects import StateType, WorkPoolStatus
from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

POLL_SECONDS = 30
# A run still waiting this long after its start time is late; this many of them are a pile.
LATE_AFTER = timedelta(minutes=1)
LATE_PILE = 3
# The worker beats every 30 s (PREFECT_WORKER_HEARTBEAT_SECONDS): three missed beats are a dead one.
STALE_AFTER = timedelta(seconds=90)


@dataclass(frozen=True)
class Problem:
    key: str  # what it is about: each problem is announced once, and again when it clears
    text: str  # Chinese | English, for the console


def check(client, pool: str, now: datetime) -> list[Problem]:
    """What is wrong right now with the pool's schedules, its worker and its queue of runs."""
    deployments = client.read_deployments(
        work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(any_=[pool])))
    return [*_unscheduled(client, deployments, now), *_worker(client, pool, now),
            *_late(client, pool, deployments, now)]


def _scheduled_runs(client, deployment_ids: list, limit: int, **expected) -> list:
    """Runs waiting to start (Scheduled, Late, AwaitingRetry, AwaitingConcurrencySlot, ...)."""
    return client.read_flow_runs(limit=limit, flow_run_filter=FlowRunFilter(
        deployment_id=FlowRunFilterDeploymentId(any_=deployment_ids),
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])),
        expected_start_time=FlowRunFilterExpectedStartTime(**expected)))


def _unscheduled(client, deployments: list, now: datetime) -> list[Problem]:
    """A scheduled deployment with no run waiting in the future: the scheduler keeps at least a
    few ahead of every active schedule, so none means it is not creating them."""
    problems = []
    for deployment in deployments:
        if deployment.paused or not any(s.active for s in deployment.schedules):
            continue
        if not _scheduled_runs(client, [deployment.id], 1, after_=now):
            problems.append(Problem(
                f"schedule:{deployment.name}",
                f"调度器没有为「{deployment.name}」排出任何后续运行，定时任务不会执行 | the scheduler "
                f"has no upcoming run of {deployment.name}: it will not run (see var/server.log)"))
    return problems


def _worker(client, pool: str, now: datetime) -> list[Problem]:
    """The pool is ready only while a worker beats; a stale beat is caught here too."""
    work_pool = client.read_work_pool(pool)
    beats = [w.last_heartbeat_time for w in client.read_workers_for_work_pool(pool)
             if w.last_heartbeat_time is not None]
    newest = max(beats, default=None)
    if work_pool.status == WorkPoolStatus.READY and newest and now - newest < STALE_AFTER:
        return []
    status = work_pool.status.value if work_pool.status else "UNKNOWN"
    ago = f"{int((now - newest).total_seconds())} s" if newest else "-"
    return [Problem("worker", f"工作池「{pool}」没有在线的执行器，流程不会启动 | no live worker in pool "
                              f"{pool} (status {status}, last heartbeat {ago} ago): no run will "
                              f"start (see var/worker-{pool}.log)")]


def _late(client, pool: str, deployments: list, now: datetime) -> list[Problem]:
    ids = [d.id for d in deployments]
    late = _scheduled_runs(client, ids, 200, before_=now - LATE_AFTER) if ids else []
    if len(late) < LATE_PILE:
        return []
    states = ", ".join(f"{name} {n}" for name, n in Counter(r.state_name for r in late).items())
    return [Problem("late", f"{len(late)} 个流程运行已过开始时间仍未启动 | {len(late)} flow runs are "
                            f"late ({states}): the worker is not keeping up or not picking them "
                            f"up (see var/worker-{pool}.log)")]


class Watchdog:
    """Polls in a daemon thread; prints a problem when it appears and when it clears. A schedule
    gets `patience` first: after a deploy the scheduler needs a loop or two."""

    def __init__(self, api_url: str, pool: str, *, poll_seconds: float = POLL_SECONDS,
                 patience: timedelta | None = None, echo=None):
        self.api_url, self.pool, self.poll_seconds = api_url, pool, poll_seconds
        loop = get_current_settings().server.services.scheduler.loop_seconds
        self.patience = patience if patience is not None else timedelta(seconds=2 * loop + 30)
        self.echo = echo or _loud
        self.seen: dict[str, datetime] = {}  # problem key -> first seen
        self.announced: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="gridline-watchdog", daemon=True)

    def start(self) -> "Watchdog":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def poll(self, now: datetime | None = None) -> None:
        """One look: announce what has lasted long enough, and what has cleared."""
        now = now or datetime.now(UTC)
        problems = {p.key: p for p in self._look(now)}
        for key, problem in problems.items():
            first = self.seen.setdefault(key, now)
            wait = self.patience if key.startswith("schedule:") else timedelta(0)
            if key not in self.announced and now - first >= wait:
                self.echo(f"!!! 警告 | WARNING: {problem.text}", alarm=True)
                self.announced.add(key)
        for key in set(self.seen) - set(problems):
            del self.seen[key]
            if key in self.announced:
                self.announced.discard(key)
                self.echo(f"已恢复 | recovered: {key}", alarm=False)

    def _look(self, now: datetime) -> list[Problem]:
        try:
            with temporary_settings({PREFECT_API_URL: self.api_url}), \
                    get_client(sync_client=True) as client:
                return check(client, self.pool, now)
        except Exception as error:  # whatever it is, the console hears of it
            return [Problem("api", f"看门狗无法查询 Prefect 服务 | the watchdog cannot ask the "
                                   f"Prefect API: {error}")]

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            self.poll()


def _loud(line: str, *, alarm: bool) -> None:
    typer.secho(line, err=True, fg="red" if alarm else "green", bold=alarm)
