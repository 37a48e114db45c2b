"""Customers of the supply company, recognised by account number or phone, and who looked them up."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.core.base import Base, UTCDateTime, enum_column
from models.core.enums import AreaKind
from models.org.organisation import Region


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_no: Mapped[str | None] = mapped_column(String(32), unique=True)  # 户号
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    alt_phone: Mapped[str | None] = mapped_column(String(20), index=True)
    address: Mapped[str] = mapped_column(String(300))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    area_kind: Mapped[AreaKind] = enum_column(AreaKind)
    important: Mapped[bool] = mapped_column(default=False, server_default=false())  # 重要客户

    region: Mapped[Region] = relationship()


class CustomerLookup(Base):
    """An agent looked a calling number up at intake (personal data: who asked for whom, when).
    Refused lookups (over the rate limit) are kept too: they count against the limit."""

    __tablename__ = "customer_lookups"
    __table_args__ = (
        # "How many lookups by this agent since ...": one index range scan.
        Index("ix_customer_lookups_staff_at", "staff_id", "looked_up_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    phone: Mapped[str] = mapped_column(String(20))
    looked_up_at: Mapped[datetime] = mapped_column(UTCDateTime())
    found: Mapped[bool] = mapped_column(default=False)  # a customer in the agent's scope
    refused: Mapped[bool] = mapped_column(default=False)  # over the limit: nothing was shown
