"""A PostgreSQL cluster of our own from Debian's binaries: `gridline up` keeps Prefect's state in
one under var/ (Prefect's SQLite locks under a demo's load), the tests start a throwaway one."""

import glob
import os
import shutil
import socket
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, text


def find_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalPostgres:
    """`durable=False` (the tests) trades crash safety for speed; a durable cluster loses at most
    the last moment's commits in a crash, never its files."""

    def __init__(self, root: Path, *, durable: bool = True):
        bindir = find_bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql")
        self.bindir, self.datadir, self.durable = bindir, root / "data", durable
        self.port = free_port()  # the port is not kept in the cluster: any free one serves
        root.mkdir(parents=True, exist_ok=True)
        # initdb refuses to run as root: run the server as Debian's postgres user then.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(root, "postgres")
            os.chmod(root, 0o700)

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self.as_user, *args], capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{Path(args[0]).name} failed: {done.stderr.strip() or done.stdout}")

    def start(self) -> None:
        if not (self.datadir / "PG_VERSION").exists():
            self._run(str(self.bindir / "initdb"), "-D", str(self.datadir), "-A", "trust",
                      "-U", "postgres", "-E", "UTF8", "--locale", "C")
        elif (self.datadir / "postmaster.pid").exists():
            self.stop()  # left running by a `gridline up` that was killed: start it afresh here
        speed = ("-c synchronous_commit=off" if self.durable else
                 "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        options = (f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1 {speed} "
                   "-c max_connections=200")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-o", options,
                  "-l", str(self.datadir / "server.log"), "-w", "start")

    def stop(self) -> None:
        mode = "fast" if self.durable else "immediate"
        subprocess.run([*self.as_user, str(self.bindir / "pg_ctl"), "-D", str(self.datadir),
                        "-m", mode, "stop"], capture_output=True)

    def url(self, database: str = "postgres", driver: str = "psycopg") -> str:
        return f"postgresql+{driver}://postgres@127.0.0.1:{self.port}/{database}"

    def ensure_database(self, name: str) -> None:
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}) is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
