"""Declarative base and column types shared by every table."""

from datetime import UTC, datetime

from sqlalchemy import DateTime, Double, Enum, MetaData
from sqlalchemy.orm import DeclarativeBase, mapped_column
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so alembic migrations read the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    # The migrations say Double (SQLAlchemy 2.1's default for float): the same on 2.0.
    type_annotation_map = {float: Double}


class UTCDateTime(TypeDecorator):
    """A timezone-aware instant, stored as UTC. SQLite keeps no offset, so it is put back on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: times must carry an offset")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_column(enum_cls, **kwargs):
    """Enums are stored by value as plain strings, so a new member needs no schema change."""
    return mapped_column(
        Enum(enum_cls, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e],
             validate_strings=True),
        **kwargs,
    )
