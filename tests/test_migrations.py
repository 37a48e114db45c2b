"""alembic is the only way the schema changes: it must build exactly the models, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from models.core.base import Base
from tasks.core.db import upgrade_schema


def test_migrations_build_exactly_the_models(empty_db_url):
    upgrade_schema(empty_db_url)
    engine = create_engine(empty_db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        tables = set(inspect(conn).get_table_names())
    engine.dispose()
    assert diff == []
    assert {"tickets", "ticket_clocks", "steps", "events", "deadline_rules"} <= tables

