"""`gridline up` as a user starts it on a fresh install, in the background of a shell (which leaves
it an ignored Ctrl-C): Prefect keeps its state in a PostgreSQL cluster of its own under var/ (on
SQLite the demo's load locked it, issue 16), the scheduler fills it, a service stop (SIGTERM)
stops every process `up` started, the cluster too, and started again it finds its state there."""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import create_engine, text

from gridline.local_postgres import find_bindir, free_port
from models.core.paths import PROJECT_ROOT

pytestmark = pytest.mark.skipif(find_bindir() is None, reason="needs Debian's PostgreSQL")
READY = "按 Ctrl-C 停止"


def ignore_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # what `cmd &` in a script does


class Up:
    def __init__(self, var: Path):
        self.var, self.prefect_port, portal_port = var, free_port(), free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("GRIDLINE_", "PREFECT_"))}
        self.env |= {"GRIDLINE_VAR_DIR": str(var), "GRIDLINE_DATABASE_URL": f"sqlite:///{var}/g.db",
                     "GRIDLINE_PREFECT_PORT": str(self.prefect_port),
                     "GRIDLINE_PORTAL__PORT": str(portal_port), "GRIDLINE_PORTAL__WORKERS": "1",
                     "GRIDLINE_SMTP__PORT": str(free_port()),
                     "GRIDLINE_SMS__URL": f"http://127.0.0.1:{free_port()}/sms",
                     # the scheduler's first look soon after start, not within its usual minute
                     "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "5"}
        self.api = f"http://127.0.0.1:{self.prefect_port}/api"

    def start(self, timeout: float = 400) -> str:
        self.log = open(self.var / "up.out", "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gridline.cli", "up", "--no-seed"], env=self.env,
            stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=ignore_ctrl_c,
            start_new_session=True)
        deadline = time.monotonic() + timeout
        while READY not in (out := (self.var / "up.out").read_text()):
            assert self.process.poll() is None, out
            assert time.monotonic() < deadline, out
            time.sleep(1)
        return out

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=120)  # its children get 20 s each round before they are killed
        self.log.close()

    def wait_for_scheduled_runs(self, timeout: float = 120) -> None:
        """Until the scheduler, not the test, has made a run."""
        deadline = time.monotonic() + timeout
        while not self.prefect_tables("SELECT count(*) FROM flow_run WHERE auto_scheduled"):
            assert time.monotonic() < deadline, "the scheduler made no run"
            time.sleep(2)

    def post(self, path: str, body: dict | None = None) -> list | int:
        return httpx.post(f"{self.api}{path}", json=body or {}, timeout=30).json()

    def leftover_pids(self) -> dict[int, str]:
        """Processes still running with this install's environment (server, workers, cluster):
        {pid: command line}."""
        mark = f"GRIDLINE_VAR_DIR={self.var}".encode()
        found = {}
        for proc in Path("/proc").iterdir():
            try:
                if proc.name.isdigit() and mark in (proc / "environ").read_bytes().split(b"\0"):
                    found[int(proc.name)] = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
        return found

    def leftovers(self) -> list[str]:
        return list(self.leftover_pids().values())

    def prefect_tables(self, sql: str) -> int:
        """A count from the cluster's `prefect` database, on the port the running server has."""
        port = (self.var / "prefect-postgres" / "data" / "postmaster.pid").read_text().split("\n")[3]
        engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/prefect")
        with engine.connect() as conn:
            count = conn.scalar(text(sql))
        engine.dispose()
        return count


@pytest.fixture
def up():
    var = Path(tempfile.mkdtemp(prefix="gridline-up-"))
    var.chmod(0o755)  # the cluster runs as Debian's postgres user, who must reach var/
    centre = Up(var)
    yield centre
    if getattr(centre, "process", None) and centre.process.poll() is None:
        os.killpg(centre.process.pid, signal.SIGKILL)
    # A failed test's server and workers may outlive `up` in sessions of their own.
    for pid in centre.leftover_pids():
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    subprocess.run(["pkill", "-9", "-f", str(var)], capture_output=True)  # the cluster
    shutil.rmtree(var, ignore_errors=True)


def test_up_keeps_prefect_on_its_own_postgres_and_a_service_stop_stops_everything(up):
    out = up.start()
    assert "Prefect 状态库 | Prefect's database: PostgreSQL" in out
    listed = up.post("/deployments/filter", {"limit": 200})
    deployments = {d["id"] for d in listed}
    declared = yaml.safe_load((PROJECT_ROOT / "prefect.yaml").read_text())["deployments"]
    assert sorted(d["name"] for d in listed) == sorted(d["name"] for d in declared)
    assert up.prefect_tables("SELECT count(*) FROM deployment") == len(deployments)
    assert not (up.var / "prefect" / "prefect.db").exists()  # nothing went to SQLite

    up.wait_for_scheduled_runs()
    # A run an admin scheduled by hand for tomorrow. A restart re-applies the deployments, which
    # replaces the scheduler's own future runs (Prefect deletes them), never a person's.
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    audit = next(d for d in listed if d["schedules"])
    by_hand = up.post(f"/deployments/{audit['id']}/create_flow_run",
                      {"state": {"type": "SCHEDULED", "state_details": {"scheduled_time": tomorrow}}})
    assert by_hand.get("state", {}).get("type") == "SCHEDULED", by_hand

    up.stop()
    assert up.leftovers() == []
    assert not (up.var / "prefect-postgres" / "data" / "postmaster.pid").exists()

    out = up.start()  # the same install again: the cluster and its state are there
    assert {d["id"] for d in up.post("/deployments/filter", {"limit": 200})} == deployments
    kept = httpx.get(f"{up.api}/flow_runs/{by_hand['id']}", timeout=30).json()
    assert kept["state"]["type"] == "SCHEDULED" and kept["deployment_id"] == audit["id"]
    up.wait_for_scheduled_runs()
    up.stop()
    assert up.leftovers() == []
