"""Customers of the supply company, recognised by account number or phone."""

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.core.base import Base, enum_column
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

    region: Mapped[Region] = relationship()
