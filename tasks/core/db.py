"""Engine and session factory for the configured database."""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from models.core.paths import MIGRATIONS_DIR
from tasks.core.settings import get_settings
from tasks.statistics.rollup import forget_on_rollback, mark_before_commit, note_flush

# Every session, wherever it is made: a write marks the rollup's days its facts fall on stale.
event.listen(Session, "after_flush", note_flush)
event.listen(Session, "before_commit", mark_before_commit)
event.listen(Session, "after_soft_rollback", forget_on_rollback)


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    if url.startswith("sqlite"):
        # A SQLite connection is a file handle, cheap to keep: one for each of the portal's
        # worker threads (anyio's 40), not the default 5 with the rest opened, each re-reading
        # the schema, and closed again for every request under load.
        engine = create_engine(url, connect_args={"timeout": 30}, pool_size=40)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def get_engine() -> Engine:
    return engine_for(get_settings().database_url)


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back whole on any error."""
    engine = engine_for(url) if url else get_engine()
    session = sessionmaker(engine, expire_on_commit=False)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def upgrade_schema(url: str, revision: str = "head") -> None:
    """Create or migrate the schema with alembic, the only way it changes."""
    from alembic import command
    from alembic.config import Config

    database = make_url(url).database
    if url.startswith("sqlite") and database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, revision)
