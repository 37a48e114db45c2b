"""Alembic environment: the URL comes from the caller (gridline db upgrade) or GRIDLINE_DATABASE_URL."""

from alembic import context
from sqlalchemy import create_engine

import models  # noqa: F401  (registers every table on the metadata)
from models.core.base import Base

config = context.config
url = config.get_main_option("sqlalchemy.url")
if not url:
    from tasks.core.settings import get_settings

    url = get_settings().database_url


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        engine = create_engine(url)
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connection)


def _run(connection) -> None:
    # Batch mode lets ALTER TABLE work on SQLite too.
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
