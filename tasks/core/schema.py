"""Is the database at the latest migration? Asked at start-up, so a portal on an old or missing
schema stops with one line instead of failing on its first page."""

from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from models.core.paths import MIGRATIONS_DIR
from tasks.core.db import engine_for


def latest_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


def schema_problem(url: str) -> str | None:
    """What is wrong with the database's schema, in one bilingual line, or None."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") \
            and "uri" not in parsed.query and not Path(parsed.database).exists():
        return (f"数据库文件不存在：{parsed.database}，请先运行 gridline db upgrade | "
                f"no database file at {parsed.database}: run gridline db upgrade")
    try:
        with engine_for(url).connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except DBAPIError as exc:
        return f"无法连接数据库 | cannot reach the database: {str(exc.orig).strip()}"
    latest = latest_revision()
    if current != latest:
        return (f"数据库结构版本为 {current or '空'}，应为 {latest}，请先运行 gridline db upgrade"
                f" | database schema at {current or 'none'}, expected {latest}: run gridline db "
                "upgrade")
    return None


def require_latest_schema(url: str) -> None:
    problem = schema_problem(url)
    if problem:
        raise SystemExit(f"错误：{problem}")
