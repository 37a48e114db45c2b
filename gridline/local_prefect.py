"""A local Prefect: server, two work pools with their deployments and a worker for each, as child
processes that stop together. `gridline up` runs one; the tests run one per session."""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import yaml

from models.core.paths import PROJECT_ROOT
from models.tickets.diagram import description
from models.tickets.forms import DEFAULT_FOLDER as LIFECYCLES_DIR
from models.tickets.forms import FORMS_FILE, read_forms
from models.tickets.lifecycle import read_lifecycle

POOL = "gridline"  # the scheduled flows: a process per run
LIFECYCLE_POOL = "gridline-lifecycles"  # lifecycle runs and resumes, in threads (gridline/worker)
WORKER_TYPES = {POOL: "process", LIFECYCLE_POOL: "gridline-inprocess"}
# How often each pool's worker asks for work: a resumed step should go on within seconds, while a
# scheduled audit may start a few seconds late. Each poll is a write on Prefect's SQLite database.
QUERY_SECONDS = {POOL: "10", LIFECYCLE_POOL: "2"}
# Scheduled flows a process each: at most this many at once, so that the quarter-hour, when half
# of them fall due together, does not start a process per flow beside a storm of lifecycle runs.
SCHEDULED_AT_ONCE = 2
AUTOMATIONS = PROJECT_ROOT / "flows" / "automations.yaml"


class LocalPrefect:
    def __init__(self, home: Path, port: int, *, server_database_url: str | None = None,
                 env: dict[str, str] | None = None, log_dir: Path | None = None):
        self.port, self.log_dir = port, log_dir
        self.api_url = f"http://127.0.0.1:{port}/api"
        self.env = dict(os.environ) | (env or {})
        self.env.setdefault("PREFECT_HOME", str(home))
        self.env["PREFECT_API_URL"] = self.api_url
        self.env.setdefault("PREFECT_UI_API_URL", self.api_url)
        self.env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        if self.env.get("PREFECT_SERVER_CSRF_PROTECTION_ENABLED", "").lower() not in ("1", "true"):
            # No token to fetch: else every new client (each run, each resume) first probes
            # /csrf-token and is told 422.
            self.env.setdefault("PREFECT_CLIENT_CSRF_SUPPORT_ENABLED", "false")
        self.env["GRIDLINE_HOME"] = str(PROJECT_ROOT)  # prefect.yaml's working directory
        self.env["GRIDLINE_PYTHON"] = sys.executable  # and the Python its runs start in
        if server_database_url:
            self.env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = server_database_url
        self.server: subprocess.Popen | None = None
        self.workers: list[tuple[str, subprocess.Popen]] = []  # (pool, process)

    def _spawn(self, name: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "ab") if self.log_dir else None
        return subprocess.Popen([sys.executable, "-m", "prefect", *args],
                                env=self.env | (env or {}),
                                cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT if log else None,
                                start_new_session=True)

    def start_server(self, timeout: float = 120) -> None:
        self.server = self._spawn("server", "server", "start", "--host", "127.0.0.1",
                                  "--port", str(self.port))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError(f"Prefect server exited with {self.server.returncode}")
            try:
                if httpx.get(f"{self.api_url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"Prefect server not healthy after {timeout} s")

    def deploy(self, *names: str) -> None:
        """Create the work pools, apply prefect.yaml (all deployments, or those named) and the
        automations the runs rely on."""
        self.create_pools()
        selection = [arg for name in names for arg in ("--name", name)] or ["--all"]
        self._run("--no-prompt", "deploy", *selection)
        self.describe_lifecycles()
        self.apply_automations()

    def describe_lifecycles(self) -> None:
        """Each lifecycle deployment's description: the page's flowchart as Mermaid markdown."""
        from prefect.client.schemas.actions import DeploymentUpdate
        from prefect.exceptions import ObjectNotFound

        folder = Path(self.env.get("GRIDLINE_LIFECYCLES_DIR") or LIFECYCLES_DIR)
        forms = read_forms(folder if (folder / FORMS_FILE).exists() else LIFECYCLES_DIR)
        with self.client() as client:
            for path in sorted(folder.glob("*.yaml")):
                if path.name == FORMS_FILE:
                    continue
                spec = read_lifecycle(path, None, forms)
                try:
                    deployment = client.read_deployment_by_name(f"lifecycle/{spec.type.value}")
                except ObjectNotFound:  # not among the deployments applied
                    continue
                client.update_deployment(deployment.id,
                                         DeploymentUpdate(description=description(spec)))

    def create_pools(self) -> None:
        """Each pool with its worker type's base job template (the one the UI's pool page shows);
        an existing pool gets the template afresh."""
        from prefect.client.schemas.actions import WorkPoolCreate
        from prefect.workers.base import BaseWorker

        with self.client() as client:
            for name, worker_type in WORKER_TYPES.items():
                template = BaseWorker.get_worker_class_from_type(worker_type) \
                    .get_default_base_job_template()
                limit = SCHEDULED_AT_ONCE if name == POOL else None
                client.create_work_pool(WorkPoolCreate(name=name, type=worker_type,
                                                       base_job_template=template,
                                                       concurrency_limit=limit), overwrite=True)

    def apply_automations(self) -> None:
        """Create or update flows/automations.yaml's automations, matched by name, so that applying
        them again (every `gridline up`) changes them instead of doubling them."""
        from prefect.events.schemas.automations import AutomationCore

        specs = yaml.safe_load(AUTOMATIONS.read_text(encoding="utf-8"))["automations"]
        with self.client() as client:
            for spec in specs:
                automation = AutomationCore.model_validate(spec)
                existing = client.read_automations_by_name(automation.name)
                if existing:
                    client.update_automation(existing[0].id, automation)
                else:
                    client.create_automation(automation)

    @contextmanager
    def client(self):
        """A Prefect client of this server, for this process."""
        from prefect.client.orchestration import get_client
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings({PREFECT_API_URL: self.api_url}), \
                get_client(sync_client=True) as client:
            yield client

    def _run(self, *args: str) -> None:
        done = subprocess.run([sys.executable, "-m", "prefect", *args], env=self.env,
                              cwd=PROJECT_ROOT, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"prefect {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")

    def start_workers(self) -> None:
        """One worker per pool: the process worker and the in-process lifecycle worker."""
        for pool in WORKER_TYPES:
            self.start_worker(pool)

    def start_worker(self, pool: str = LIFECYCLE_POOL, name: str | None = None,
                     env: dict[str, str] | None = None) -> subprocess.Popen:
        """One more worker on the pool (a second lifecycle worker shares its runs)."""
        args = ["worker", "start", "--pool", pool, "--type", WORKER_TYPES[pool]]
        # The caller's PREFECT_WORKER_QUERY_SECONDS (in self.env) holds for every pool.
        polling = {"PREFECT_WORKER_QUERY_SECONDS":
                   self.env.get("PREFECT_WORKER_QUERY_SECONDS", QUERY_SECONDS[pool])}
        worker = self._spawn(f"worker-{pool}", *args, *(["--name", name] if name else []),
                             env=polling | (env or {}))
        self.workers.append((pool, worker))
        return worker

    def kill_worker(self, pool: str = LIFECYCLE_POOL) -> None:
        """Kill the pool's workers outright, as a crash or a reboot would."""
        for worker in [w for p, w in self.workers if p == pool]:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        self.workers = [(p, w) for p, w in self.workers if p != pool]

    def restart_drained(self) -> list[str]:
        """Start again each worker that exited 0 (a lifecycle worker at its execution or memory
        bound does); return their pools."""
        drained = [(p, w) for p, w in self.workers if w.poll() == 0]
        for pool, worker in drained:
            self.workers.remove((pool, worker))
            self.start_worker(pool)
        return [pool for pool, _ in drained]

    def stop(self) -> None:
        """Stop the workers together, then the server (a worker whose server is gone retries for
        long)."""
        stop_together([w for _, w in self.workers])
        stop_together([self.server])

    def alive(self) -> bool:
        return all(p is not None and p.poll() is None
                   for p in [self.server] + [w for _, w in self.workers])


def stop_together(children: list[subprocess.Popen | None], timeout: float = 20) -> None:
    """Ctrl-C each child's process group at once, then kill what still runs after the timeout."""
    running = [c for c in children if c is not None and c.poll() is None]
    for child in running:
        os.killpg(child.pid, signal.SIGINT)
    deadline = time.monotonic() + timeout
    for child in running:
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
