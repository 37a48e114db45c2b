"""gridline up: the embedded centre on one machine, until Ctrl-C."""

import os
import signal
import subprocess
import sys
import time

import httpx
import typer

from gridline.cli.demo import seed_if_empty
from gridline.sinks import Sinks
from tasks.db import session_scope, upgrade_schema
from tasks.settings import get_settings
from tasks.rule_store import ensure_default_rules
from tasks.templates import load_templates


def prefect_env(settings) -> dict[str, str]:
    """A Prefect home of our own under var/, unless the admin configured one."""
    env = dict(os.environ)
    env.setdefault("PREFECT_HOME", str(settings.var_dir / "prefect"))
    env.setdefault("PREFECT_API_URL", f"http://127.0.0.1:{settings.prefect_port}/api")
    env.setdefault("PREFECT_UI_API_URL", env["PREFECT_API_URL"])
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    return env


def up(seed: bool = typer.Option(True, help="load the demo centre into an empty database")) -> None:
    """Migrate the database, load the demo, start a local Prefect server and the portal; Ctrl-C
    stops it all."""
    settings = get_settings()
    load_templates(settings.timezone)  # a broken template stops start-up, not a 3 a.m. reminder
    upgrade_schema(settings.database_url)
    with session_scope() as session:
        ensure_default_rules(session)
    if seed and (counts := seed_if_empty()):
        typer.echo("已载入演示数据 | demo loaded: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    sinks = None
    if _is_local_sink(settings):
        sinks = Sinks(settings.var_dir / "sinks", settings.smtp.port, _port(settings.sms.url)).start()
        typer.echo(f"本地邮件/短信收件箱 | local mail and SMS sinks: {settings.var_dir / 'sinks'}")
    env = prefect_env(settings)
    children = [subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
         "--port", str(settings.prefect_port)], env=env)]
    typer.echo(f"Prefect 界面 | Prefect UI: http://127.0.0.1:{settings.prefect_port}")
    children.append(subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "gridline.web.app:create_app",
         "--host", settings.portal.host, "--port", str(settings.portal.port)], env=env))
    typer.echo(f"工单门户 | portal: http://{settings.portal.host}:{settings.portal.port}")
    typer.echo("按 Ctrl-C 停止 | press Ctrl-C to stop")
    try:
        while all(child.poll() is None for child in children):
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for child in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
        if sinks is not None:
            sinks.stop()


def _port(url: str) -> int:
    return httpx.URL(url).port or 80


def _is_local_sink(settings) -> bool:
    """Start the sinks only where the channels point at this machine (the embedded default)."""
    return settings.smtp.host in ("127.0.0.1", "localhost") and \
        httpx.URL(settings.sms.url).host in ("127.0.0.1", "localhost")
