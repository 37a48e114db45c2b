"""The daily rollup: each closed local day's figures summed per indicator, breakdown, unit and
dimension value, so a month at the province reads about thirty small rows per unit instead of
scanning the month's tickets. A day's rows stand for its facts only while the day is not stale;
any write to a ticket of that day marks it stale (tasks/statistics/rollup.py), and the figures
read its facts live again until the day is rolled anew."""

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.core.base import Base, UTCDateTime


class RollupDay(Base):
    """One local day of the rollup; `stale` until its rows are (again) what its facts say."""

    __tablename__ = "stat_rollup_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    stale: Mapped[bool] = mapped_column(default=True)
    rolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the rows were counted by (the indicators, the facts' revision, the timezone, the
    # service level's threshold): rows of another version are not read, and are rolled again.
    version: Mapped[str | None] = mapped_column(String(16))


class RollupRow(Base):
    """A day's sum of one indicator's facts at one unit and dimension value. `counts_from`: a
    deadline clock still open when the day was rolled counts (as not on time) only from its due
    time on, as the live figure counts it once it is due."""

    __tablename__ = "stat_rollup"
    __table_args__ = (Index("ix_stat_rollup_read", "indicator", "dimension", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(ForeignKey("stat_rollup_days.day", ondelete="CASCADE"))
    indicator: Mapped[str] = mapped_column(String(50))
    dimension: Mapped[str] = mapped_column(String(20))  # "" for no breakdown
    region_id: Mapped[int | None]
    department_id: Mapped[int | None]
    dim: Mapped[str | None] = mapped_column(String(100))
    counts_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    num: Mapped[float]
    den: Mapped[float]
