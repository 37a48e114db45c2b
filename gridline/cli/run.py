"""gridline up: the embedded centre on one machine, until Ctrl-C."""

import os
import signal
import subprocess
import sys
import time

import httpx
import typer
from prefect.settings import PREFECT_API_URL, temporary_settings

from flows.lifecycle import lifecycles
from gridline.cli.demo import seed_if_empty, summary
from gridline.local_postgres import LocalPostgres, find_bindir
from gridline.local_prefect import WORKER_TYPES, LocalPrefect, stop_together
from gridline.sinks import Sinks
from gridline.watchdog import Watchdog
from tasks.core.db import session_scope, upgrade_schema
from tasks.core.settings import get_settings
from tasks.messaging.templates import load_templates
from tasks.tickets.lifecycle_versions import record_versions
from tasks.tickets.rule_store import ensure_default_rules


def up(seed: bool = typer.Option(True, help="load the demo centre into an empty database")) -> None:
    """Migrate, load the demo, run a Prefect server, the deployments, a worker and the portal;
    Ctrl-C stops all."""
    settings = get_settings()
    load_templates(settings.timezone)  # a broken template stops start-up, not a 3 a.m. reminder
    upgrade_schema(settings.database_url)
    with session_scope() as session:
        ensure_default_rules(session)
        record_versions(session, lifecycles(session))  # each page's text, before any run needs it
    sinks = None
    if _is_local_sink(settings):
        sinks = Sinks(settings.var_dir / "sinks", settings.smtp.port, _port(settings.sms.url)).start()
        typer.echo(f"本地邮件/短信收件箱 | local mail and SMS sinks: {settings.var_dir / 'sinks'}")
    # Ctrl-C and a service stop alike. Set here, not inherited: started in the background, the
    # shell gave us (and the children) an ignored SIGINT, and the children would not stop.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    portal, watchdogs, postgres, prefect = None, [], None, None
    try:
        postgres = _prefect_postgres(settings)
        prefect = LocalPrefect(settings.var_dir / "prefect", settings.prefect_port,
                               log_dir=settings.var_dir,
                               server_database_url=postgres and postgres.url("prefect", "asyncpg"))
        prefect.start_server()
        typer.echo(f"Prefect 界面 | Prefect UI: http://127.0.0.1:{settings.prefect_port}")
        prefect.deploy()
        prefect.start_workers()
        # Each pool's watchdog says so when its runs stop coming (scheduler, worker, backlog).
        watchdogs = [Watchdog(prefect.api_url, pool).start() for pool in WORKER_TYPES]
        typer.echo("已部署工单流程并启动执行器 | deployments applied, workers started; "
                   f"logs in {settings.var_dir}")
        with temporary_settings({PREFECT_API_URL: prefect.api_url}):  # the demo's runs start too
            if seed and (counts := seed_if_empty(workforce=True)):
                typer.echo(summary(counts))
        portal = subprocess.Popen(  # with Prefect's environment: it starts and resumes runs
            [sys.executable, "-m", "gridline.cli", "portal"], env=prefect.env,
            start_new_session=True)  # stopped with its worker processes, as one group
        typer.echo(f"工单门户 | portal: http://{settings.portal.host}:{settings.portal.port} "
                   f"({settings.portal.workers} 个进程 | worker processes)")
        typer.echo(f"export PREFECT_API_URL={prefect.api_url}  # 让 gridline ticket create 启动流程")
        typer.echo("按 Ctrl-C 停止 | press Ctrl-C to stop")
        while True:
            for pool in prefect.restart_drained():  # a lifecycle worker at its bound exits 0
                typer.echo(f"执行器已重启 | the {pool} worker was restarted after its bound")
            if not (prefect.alive() and portal.poll() is None):
                break
            time.sleep(1)
        typer.echo("Prefect 或门户进程已退出 | a Prefect or portal process exited; see the logs",
                   err=True)
    except KeyboardInterrupt:
        pass
    finally:
        for watchdog in watchdogs:
            watchdog.stop()
        # Killed if it has not stopped in time (still loading its search dictionary, say): a
        # slow portal once left the Prefect server, the workers and the cluster running.
        stop_together([portal])
        if prefect is not None:
            prefect.stop()
        if postgres is not None:
            postgres.stop()
        if sinks is not None:
            sinks.stop()


def _prefect_postgres(settings) -> LocalPostgres | None:
    """Prefect's own cluster under var/, started, when the settings choose PostgreSQL for it."""
    if os.environ.get("PREFECT_SERVER_DATABASE_CONNECTION_URL"):
        return None  # a server database of the centre's own
    choice = settings.prefect_database
    if choice == "auto":
        root = settings.var_dir / "prefect-postgres"
        # An install whose Prefect state is already in SQLite keeps it: its waiting runs live there.
        had_sqlite = (settings.var_dir / "prefect" / "prefect.db").exists() and not root.exists()
        choice = "postgresql" if find_bindir() and not had_sqlite else "sqlite"
    if choice == "postgresql":
        try:
            postgres = LocalPostgres(settings.var_dir / "prefect-postgres")
            postgres.start()
            postgres.ensure_database("prefect")
            typer.echo(f"Prefect 状态库 | Prefect's database: PostgreSQL ({postgres.datadir})")
            return postgres
        except RuntimeError as error:  # not installed, or its user cannot reach var/
            if settings.prefect_database == "postgresql":
                raise
            typer.echo(f"PostgreSQL 无法启动 | could not start PostgreSQL: {error}", err=True)
    typer.echo("Prefect 状态库 | Prefect's database: SQLite "
               f"({settings.var_dir / 'prefect'}); 负载大时请装 PostgreSQL | install PostgreSQL "
               "for load")
    return None


def _port(url: str) -> int:
    return httpx.URL(url).port or 80


def _is_local_sink(settings) -> bool:
    """Start the sinks only where the channels point at this machine (the embedded default)."""
    return settings.smtp.host in ("127.0.0.1", "localhost") and \
        httpx.URL(settings.sms.url).host in ("127.0.0.1", "localhost")
