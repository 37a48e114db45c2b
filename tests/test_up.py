"""`gridline up` as a user starts it on a fresh install, in the background of a shell (which leaves
it an ignored Ctrl-C): Prefect keeps its state in a PostgreSQL cluster of its own under var/ (on
SQLite the demo's load locked it, issue 16), the scheduler fills it, a service stop (SIGTERM)
stops every process `up` started, the cluster too, and started again it finds its state there."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
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

    def post(self, path: str, body: dict | None = None) -> list | int:
        return httpx.post(f"{self.api}{path}", json=body or {}, timeout=30).json()

    def leftovers(self) -> list[str]:
        """Processes still running with this install's environment (server, workers, cluster)."""
        mark = f"GRIDLINE_VAR_DIR={self.var}".encode()
        found = []
        for proc in Path("/proc").iterdir():
            try:
                if proc.name.isdigit() and mark in (proc / "environ").read_bytes().split(b"\0"):
                    found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
            except OSError:
                continue
        return found

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
    subprocess.run(["pkill", "-9", "-f", str(var)], capture_output=True)
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

    deadline = time.monotonic() + 120  # the scheduler, not the test, makes the runs
    while not (runs := up.post("/flow_runs/count")):
        assert time.monotonic() < deadline, "the scheduler made no run"
        time.sleep(2)
    assert up.prefect_tables("SELECT count(*) FROM flow_run") >= runs

    up.stop()
    assert up.leftovers() == []
    assert not (up.var / "prefect-postgres" / "data" / "postmaster.pid").exists()

    out = up.start()  # the same install again: the cluster and its state are there
    assert {d["id"] for d in up.post("/deployments/filter", {"limit": 200})} == deployments
    assert up.post("/flow_runs/count") >= runs
    up.stop()
    assert up.leftovers() == []
