"""gridline db: create or migrate the schema."""

import typer

from tasks.core.db import session_scope, upgrade_schema
from tasks.core.settings import get_settings
from tasks.tickets.rule_store import ensure_default_rules

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command()
def upgrade(revision: str = typer.Argument("head", help="alembic revision to reach")) -> None:
    """Create or migrate the schema (SQLite or PostgreSQL), then load the default deadline rules."""
    url = get_settings().database_url
    upgrade_schema(url, revision)
    with session_scope() as session:
        ensure_default_rules(session)
    typer.echo(f"数据库已就绪 | schema at {revision}")
