"""Kept at this path for the migrations, which name models.base.UTCDateTime."""

from models.core.base import Base, UTCDateTime

__all__ = ["Base", "UTCDateTime"]
