import os
import queue
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from gridline.local_postgres import LocalPostgres
from tasks.core.db import session_scope, upgrade_schema
from tasks.tickets.rule_store import ensure_default_rules


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[LocalPostgres | str]:
    """A real PostgreSQL: GRIDLINE_TEST_POSTGRES_URL if given, else a cluster started here."""
    if os.environ.get("GRIDLINE_TEST_POSTGRES_URL"):
        yield os.environ["GRIDLINE_TEST_POSTGRES_URL"]
        return
    # Not under pytest's tmp dir: that is private to root, and the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="gridline-pg-"))
    cluster = LocalPostgres(root, durable=False)
    cluster.start()
    yield cluster
    cluster.stop()
    shutil.rmtree(root, ignore_errors=True)


def _fresh_postgres_database(server: LocalPostgres | str) -> str:
    admin_url = server if isinstance(server, str) else server.url()
    name = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_url(request, tmp_path) -> str:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gridline.db'}"
    return _fresh_postgres_database(request.getfixturevalue("postgres_server"))


@pytest.fixture
def db_url(empty_db_url, monkeypatch) -> str:
    """A migrated database with the default deadline rules, set as GRIDLINE_DATABASE_URL."""
    upgrade_schema(empty_db_url)
    with session_scope(empty_db_url) as session:
        ensure_default_rules(session)
    monkeypatch.setenv("GRIDLINE_DATABASE_URL", empty_db_url)
    return empty_db_url


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory):
    """A temporary Prefect server for flows called in-process, shared by the whole session.

    Prefect's own prefect_test_harness, but its teardown's drain of the log and event workers has
    no time limit: once in CI it waited more than 30 minutes. Here the drain is bounded."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.configuration import setup_logging
    from prefect.logging.handlers import APILogWorker
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_SERVER_DATABASE_CONNECTION_URL,
        temporary_settings,
    )

    from gridline.local_postgres import free_port

    # Prefect's console handler keeps the stderr of whichever test first imported a flow; that
    # capture is closed by now, so bind the handlers afresh to this session's stderr.
    setup_logging(incremental=False)
    database = tmp_path_factory.mktemp("prefect") / "prefect.db"
    server = SubprocessASGIServer(port=free_port())
    # Flows that look for "the" ephemeral server find this one, not a second one of their own.
    SubprocessASGIServer._instances[None] = server
    with temporary_settings({PREFECT_SERVER_DATABASE_CONNECTION_URL:
                             f"sqlite+aiosqlite:///{database}"}):
        # Its start migrates a fresh SQLite database: on this shared machine at load 9 that once
        # took over 60 s (three tests errored at setup).
        server.start(timeout=180)
        try:
            with temporary_settings({PREFECT_API_URL: server.api_url}):
                yield
            APILogWorker.drain_all(timeout=30)
            EventsWorker.drain_all(timeout=30)
        finally:
            server.stop()
            SubprocessASGIServer._instances.pop(None, None)


@pytest.fixture
def portal(centre):
    """The portal on a loopback port, over the module's own `centre` fixture."""
    from tests.portal import portal_app, serve

    with serve(portal_app()) as base_url:
        yield base_url


def pytest_sessionfinish(session, exitstatus):
    """Drop the events and log lines Prefect's client still queues for the tests' servers: they
    are all stopped by now, and at exit each item would be retried for about a minute (CI spent
    12 minutes after the last test there)."""
    from prefect._internal.concurrency import services

    for service in list(services._active_services):
        _drop_pending(service._queue)


def _drop_pending(items: queue.Queue) -> None:
    stop = False
    while True:
        try:
            item = items.get_nowait()
        except queue.Empty:
            break
        stop = stop or item is None
        items.task_done()
    if stop:  # a stopping service still waits for its end marker
        items.put_nowait(None)
