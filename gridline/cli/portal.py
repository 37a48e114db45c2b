"""gridline portal: the portal on its own, with its worker processes, until Ctrl-C."""

import socket

import typer
import uvicorn
from uvicorn.supervisors import Multiprocess

from tasks.core.schema import require_latest_schema
from tasks.core.settings import get_settings


def portal(log_level: str = typer.Option("info", help="uvicorn's log level")) -> None:
    """Serve the portal on GRIDLINE_PORTAL__HOST:__PORT with GRIDLINE_PORTAL__WORKERS processes."""
    require_latest_schema(get_settings().database_url)  # before any worker process starts
    settings = get_settings().portal
    config = uvicorn.Config("gridline.web.app:served_app", factory=True, host=settings.host,
                            port=settings.port, workers=settings.workers, log_level=log_level,
                            # Client addresses: GRIDLINE_PORTAL__TRUSTED_PROXIES alone decides
                            # (uvicorn would believe any X-Forwarded-For from 127.0.0.1).
                            proxy_headers=False)
    listener = config.bind_socket()
    # uvicorn binds its socket without naming TCP (Kludex/uvicorn#3149), so asyncio leaves Nagle's
    # algorithm on every connection and each keep-alive request after the first waits ~40 ms for
    # the browser's delayed ACK. The same socket, declared TCP, gets TCP_NODELAY on its connections.
    listener = socket.socket(listener.family, listener.type, socket.IPPROTO_TCP,
                             fileno=listener.detach())
    if settings.workers > 1:
        Multiprocess(config, sockets=[listener]).run()
    else:
        uvicorn.Server(config).run(sockets=[listener])
