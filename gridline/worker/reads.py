"""What the in-process worker need not ask the server again at each execution of a run.

Prefect's base worker reads a run's deployment twice and its flow once per submission, and
every resume is a submission. Here a deployment read serves for `seconds`, but never for a run
created after it was read (a new run always sees the deployment as it is now; a resume may see a
change `seconds` late); a flow, which never changes, is read once.
"""

import time
from contextvars import ContextVar
from uuid import UUID

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.objects import Flow, FlowRun
from prefect.client.schemas.responses import DeploymentResponse

SUBMITTING: ContextVar[FlowRun | None] = ContextVar("gridline_submitting", default=None)


class RememberedReads:
    def __init__(self, client: PrefectClient, seconds: float):
        self.seconds = seconds
        self._read_deployment, self._read_flow = client.read_deployment, client.read_flow
        self._deployments: dict[UUID, tuple[float, DeploymentResponse]] = {}
        self._flows: dict[UUID, Flow] = {}
        client.read_deployment, client.read_flow = self.read_deployment, self.read_flow

    async def read_deployment(self, deployment_id: UUID) -> DeploymentResponse:
        run, now = SUBMITTING.get(), time.time()
        seen = self._deployments.get(deployment_id)
        fresh = seen is not None and now - seen[0] < self.seconds and (
            run is None or run.created is None or seen[0] > run.created.timestamp())
        if not fresh:
            seen = self._deployments[deployment_id] = (now, await self._read_deployment(
                deployment_id))
        return seen[1].model_copy(deep=True)  # the base worker merges job variables into it

    async def read_flow(self, flow_id: UUID) -> Flow:
        if flow_id not in self._flows:
            self._flows[flow_id] = await self._read_flow(flow_id)
        return self._flows[flow_id]
