"""The `gridline-inprocess` worker: each run and resume of a work pool's flows executes in a thread
of this long-lived process, instead of a new `python -m prefect.engine` process per execution.

    prefect worker start --type gridline-inprocess --pool gridline-lifecycles [--limit K]

- At most K executions at once (`--limit`, else GRIDLINE_WORKER__THREADS): a run beyond that
  stays Scheduled for this or another worker of the pool; Prefect lets one worker claim a run.
- The flow is loaded once per deployment and loaded again when the deployment is updated (its
  `updated` time or version changes). Modules the flow imports stay loaded: new Python code needs
  a worker restart (which the execution bound below brings regularly).
- Heartbeats every PREFECT_FLOWS_HEARTBEAT_FREQUENCY seconds (the pool's or deployment's `env`)
  for each executing run, from the worker's event loop, as the engine would send them.
- A run Prefect marks Cancelling is stopped in its thread and ends Cancelled.
- An execution ends in the state Prefect recorded (Completed, Failed, Crashed, Cancelled, or
  Suspended/Paused while it waits: a normal end); an exception never reaches the worker.
- Fewer requests per execution than Prefect's base worker: deployment and flow reads remembered
  (gridline/worker/reads.py), no CSRF token probe per run when the server has CSRF protection
  off, no second Pending ("Submitting") proposal, the worker's labels given to a run once.
- A run of the pool left Pending by a worker killed between claiming and starting it is
  scheduled again after GRIDLINE_WORKER__PENDING_TIMEOUT_SECONDS (checked at start-up and then
  about once a minute, by every worker of the pool).
- After GRIDLINE_WORKER__MAX_EXECUTIONS executions, or above GRIDLINE_WORKER__MAX_RSS_MIB, the
  worker takes no new run, lets the running ones end and exits 0, for its supervisor to restart.

Only this worker's own environment applies to the runs (one process, one environment): of the
job variables' `env`, the worker reads the heartbeat frequency and nothing else.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from uuid import UUID

import anyio
import anyio.abc
import httpx
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
    WorkPoolFilter,
    WorkPoolFilterName,
)
from prefect.client.schemas.objects import StateType
from prefect.context import SettingsContext, get_settings_context
from prefect.events import emit_event
from prefect.flows import load_flow_from_flow_run
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_CLIENT_CSRF_SUPPORT_ENABLED,
    PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
    PREFECT_WORKER_ENABLE_CANCELLATION,
    get_current_settings,
    temporary_settings,
)
from prefect.states import Scheduled, State
from prefect.workers.base import (
    BaseJobConfiguration,
    BaseVariables,
    BaseWorker,
    BaseWorkerResult,
)
from pydantic import Field, PrivateAttr

from gridline.worker.execution import CancelRequested, Execution
from gridline.worker.reads import SUBMITTING, RememberedReads

if TYPE_CHECKING:
    from prefect.client.schemas.objects import Flow as APIFlow
    from prefect.client.schemas.objects import FlowRun, WorkPool
    from prefect.client.schemas.responses import DeploymentResponse
    from prefect.flows import Flow

HEARTBEAT_ENV = "PREFECT_FLOWS_HEARTBEAT_FREQUENCY"
MINIMUM_HEARTBEAT_SECONDS = 30  # the engine's own floor


class InProcessJobConfiguration(BaseJobConfiguration):
    _deployment_version: tuple | None = PrivateAttr(default=None)

    def prepare_for_flow_run(self, flow_run: FlowRun,
                             deployment: DeploymentResponse | None = None,
                             flow: APIFlow | None = None, work_pool: WorkPool | None = None,
                             worker_name: str | None = None,
                             worker_id: UUID | None = None) -> None:
        super().prepare_for_flow_run(flow_run, deployment, flow, work_pool, worker_name,
                                     worker_id=worker_id)
        # What the worker's flow cache is keyed on: a changed deployment loads its flow again.
        self._deployment_version = (deployment.updated, deployment.version) if deployment else None

    @property
    def deployment_version(self) -> tuple | None:
        return self._deployment_version

    def heartbeat_seconds(self) -> int | None:
        value = self.env.get(HEARTBEAT_ENV) or get_current_settings().flows.heartbeat_frequency
        return max(int(value), MINIMUM_HEARTBEAT_SECONDS) if value else None


class InProcessVariables(BaseVariables):
    env: dict[str, str | None] = Field(
        default_factory=dict, title="Environment Variables",
        description="执行器进程内只读取 PREFECT_FLOWS_HEARTBEAT_FREQUENCY（心跳秒数）| only the "
                    "heartbeat frequency applies: runs share the worker's own environment")


class InProcessResult(BaseWorkerResult):
    """How an execution ended: 0 when Prefect recorded its state, 1 when the run broke outside the
    engine (the base worker then proposes Crashed)."""


class InProcessWorker(BaseWorker[InProcessJobConfiguration, InProcessVariables, InProcessResult]):
    type = "gridline-inprocess"
    job_configuration = InProcessJobConfiguration
    job_configuration_variables = InProcessVariables
    _display_name = "Gridline in-process"
    _description = ("在执行器进程的线程内运行工单流程及其恢复 | Executes flow runs and resumes in "
                    "threads of one long-lived worker process (Gridline's lifecycles).")
    _documentation_url = "https://github.com/gridline"

    def __init__(self, work_pool_name: str, *args: Any, limit: int | None = None, **kwargs: Any):
        from tasks.core.settings import get_settings  # not at import: Prefect imports plugins

        self.config = get_settings().worker
        super().__init__(work_pool_name, *args, limit=limit or self.config.threads, **kwargs)
        self._flows: dict[UUID, tuple[tuple | None, Flow]] = {}
        self._flow_locks: dict[UUID, asyncio.Lock] = {}
        self._executing: dict[UUID, Execution] = {}
        self._held: set[UUID] = set()  # runs whose slot this worker has not released yet
        self._executions = 0
        self._draining = False
        self._stop_scope: anyio.CancelScope | None = None
        self._identifier = f"{socket.gethostname()}:{os.getpid()}"
        self._labelled: set[UUID] = set()  # runs given this worker's labels (recent ones)
        self._pending_checked = 0.0
        # Heartbeats come from the worker (below): the engine's own heartbeat thread would hold
        # every execution up to a second while it joins.
        self._run_settings = get_current_settings().copy_with_update(
            restore_defaults={PREFECT_FLOWS_HEARTBEAT_FREQUENCY})

    async def setup(self) -> None:
        await super().setup()
        RememberedReads(self._client, self.config.deployment_cache_seconds)
        if not await csrf_protected():  # else each run's new client probes /csrf-token (422)
            self._run_settings = self._run_settings.copy_with_update(
                updates={PREFECT_CLIENT_CSRF_SUPPORT_ENABLED: False})

    async def start(self, *args: Any, **kwargs: Any) -> None:
        with anyio.CancelScope() as self._stop_scope:  # cancelled once drained (memory bound)
            await super().start(*args, **kwargs)

    async def get_and_submit_flow_runs(self) -> list[FlowRun]:
        if self._draining:
            if not self._executing and self.limiter.borrowed_tokens == 0:
                self._logger.info("执行器已排空，退出以便重启 | drained, exiting to be restarted")
                self._stop_scope.cancel()
            return []
        if time.monotonic() - self._pending_checked >= min(60, self.config.pending_timeout_seconds):
            self._pending_checked = time.monotonic()
            await self._reschedule_stuck()
        return await super().get_and_submit_flow_runs()

    async def _reschedule_stuck(self) -> None:
        """Schedule again the pool's runs Pending for longer than the timeout: their worker died
        between claiming and starting them (a claim is Pending for a second or two)."""
        cutoff = datetime.now(timezone.utc) - timedelta(seconds=self.config.pending_timeout_seconds)
        try:
            runs = await self.client.read_flow_runs(
                flow_run_filter=FlowRunFilter(state=FlowRunFilterState(
                    type=FlowRunFilterStateType(any_=[StateType.PENDING]))),
                work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(
                    any_=[self._work_pool_name])), limit=200)
        except httpx.HTTPError as exc:
            self._logger.warning("Could not look for stuck Pending runs: %s", exc)
            return
        for run in runs:
            if run.id in self._held or run.state is None or run.state.timestamp > cutoff:
                continue
            self._logger.warning("流程运行 %s 停在 Pending，重新排队 | run %s was left Pending by a "
                                 "dead worker: scheduled again", run.name, run.id)
            await self.client.set_flow_run_state(run.id, Scheduled(
                message="认领它的执行器已退出，重新排队 | its worker died before starting it"),
                force=True)

    async def _submit_scheduled_flow_runs(self, flow_run_response: list) -> list[FlowRun]:
        # A run resumed the moment it suspended is Scheduled again while this worker still
        # holds its slot (the execution is settling): the base class would try to take a second
        # slot for the same run, and anyio refuses that with an error that stops the worker.
        # Leave it for the next poll, once the slot is free.
        fresh = [entry for entry in flow_run_response if entry.flow_run.id not in self._held]
        return await super()._submit_scheduled_flow_runs(fresh)

    def _release_limit_slot(self, flow_run_id: UUID) -> None:
        super()._release_limit_slot(flow_run_id)
        self._held.discard(flow_run_id)

    async def run(self, flow_run: FlowRun, configuration: InProcessJobConfiguration,
                  task_status: anyio.abc.TaskStatus[str] | None = None) -> InProcessResult:
        flow = await self._flow_for(flow_run, configuration)  # a load error: Crashed, by the base
        loop = asyncio.get_running_loop()
        execution = Execution(flow, flow_run, loop.create_future(), loop)
        self._executing[flow_run.id] = execution
        self._held.add(flow_run.id)  # until the base class releases its slot
        try:
            execution.start(name=f"run {flow_run.name}",
                            settings=SettingsContext(profile=get_settings_context().profile,
                                                     settings=self._run_settings))
            if task_status is not None:
                task_status.started(self._identifier)
            async with anyio.create_task_group() as beats:
                if seconds := configuration.heartbeat_seconds():
                    beats.start_soon(self._beat, flow_run, configuration, seconds)
                with anyio.CancelScope(shield=True):  # a stopping worker lets the run end
                    outcome = await execution.done
                beats.cancel_scope.cancel()
        finally:
            self._executing.pop(flow_run.id, None)
            if self._cancelling_observer is not None:
                self._cancelling_observer.remove_in_flight_flow_run_id(flow_run.id)
        status = await self._settle(flow_run, outcome)
        self._count_execution()
        return InProcessResult(identifier=self._identifier, status_code=status)

    async def _settle(self, flow_run: FlowRun, outcome: Any) -> int:
        logger = self.get_flow_run_logger(flow_run)
        if isinstance(outcome, CancelRequested):  # stopped outside the engine: record it here
            await self._mark_flow_run_as_cancelled(
                flow_run, state_updates={"message": "流程运行已取消 | cancelled by the worker"})
            return 0
        if isinstance(outcome, BaseException):
            logger.error("Execution of flow run %s broke outside the engine", flow_run.id,
                         exc_info=outcome)
            return 1
        if isinstance(outcome, State):
            logger.debug("Execution of flow run %s ended %s", flow_run.id, outcome.type.value)
        return 0

    def _count_execution(self) -> None:
        self._executions += 1
        rss = resident_mib()
        if self._draining or (self._executions < self.config.max_executions
                              and rss < self.config.max_rss_mib):
            return
        self._draining = True
        self._logger.info("已执行%d次，内存%.0f MiB：不再接新运行，结束后退出 | %d executions, %.0f "
                          "MiB resident: draining", self._executions, rss, self._executions, rss)

    async def _flow_for(self, flow_run: FlowRun, configuration: InProcessJobConfiguration) -> Flow:
        """The deployment's flow, loaded (pull steps, then the entrypoint) once per version."""
        key = flow_run.deployment_id
        async with self._flow_locks.setdefault(key, asyncio.Lock()):
            cached = self._flows.get(key)
            if cached is not None and cached[0] == configuration.deployment_version:
                return cached[1]
            flow = await load_flow_from_flow_run(flow_run)  # its own client
            self._flows[key] = (configuration.deployment_version, flow)
            self._logger.info("Loaded flow %r for deployment %s (%s)", flow.name, key,
                              "reloaded" if cached else "first use")
            return flow

    async def _beat(self, flow_run: FlowRun, configuration: InProcessJobConfiguration,
                    seconds: int) -> None:
        """The run's heartbeat every `seconds` while it executes. Not at once, as the engine does:
        most executions re-run to their next step and suspend within a second, and a beat that
        reaches the server after the Suspended event would arm the crashed-run automation
        (flows/automations.yaml), which then marked the waiting run Crashed 90 s later."""
        resource = {"prefect.resource.id": f"prefect.flow-run.{flow_run.id}",
                    "prefect.resource.name": flow_run.name or ""}
        related = self._event_related_resources(configuration=configuration)
        while True:
            await anyio.sleep(seconds)
            emit_event(event="prefect.flow-run.heartbeat", resource=resource, related=related)

    async def _submit_run(self, flow_run: FlowRun) -> None:
        SUBMITTING.set(flow_run)  # for the remembered reads, in this submission's tasks
        await super()._submit_run(flow_run)
        # The base stops watching a run for Cancelling once it started; this worker still runs
        # it, so it keeps watching until the execution ends.
        if flow_run.id in self._executing and self._cancelling_observer is not None:
            self._cancelling_observer.add_in_flight_flow_run_id(flow_run.id)

    async def _propose_submitting_state(self, flow_run: FlowRun) -> None:
        """Not proposed: Pending again under another name, one request per execution."""

    async def _give_worker_labels_to_flow_run(self, flow_run_id: UUID) -> None:
        run = SUBMITTING.get()
        if flow_run_id in self._labelled or (run is not None and run.id == flow_run_id and
                                             run.labels.get("prefect.worker.name") == self.name):
            return  # a resume of a run this worker labelled already
        if len(self._labelled) > 10_000:
            self._labelled.clear()
        self._labelled.add(flow_run_id)
        await super()._give_worker_labels_to_flow_run(flow_run_id)

    async def _setup_cancellation_observer(self) -> None:
        # Prefect watches for Cancelling only when asked (it then stops runs still pending): this
        # worker always does, to stop the runs it executes.
        with temporary_settings({PREFECT_WORKER_ENABLE_CANCELLATION: True}):
            await super()._setup_cancellation_observer()

    async def _cancel_run(self, flow_run_id: UUID) -> None:
        execution = self._executing.get(flow_run_id)
        if execution is None:
            await super()._cancel_run(flow_run_id)  # a run not started yet
            return
        if execution.cancel():
            self._logger.info("Cancelling flow run %s in its thread", flow_run_id)


async def csrf_protected() -> bool:
    """Whether the server hands out CSRF tokens (PREFECT_SERVER_CSRF_PROTECTION_ENABLED)."""
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            answer = await http.get(f"{PREFECT_API_URL.value()}/csrf-token",
                                    params={"client": "gridline-worker-probe"})
    except httpx.HTTPError:
        return True  # cannot tell: leave Prefect's client to find out
    return not (answer.status_code == 422 and "CSRF protection is disabled" in answer.text)


def resident_mib() -> float:
    """This process's resident memory now (Linux), else its peak."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
