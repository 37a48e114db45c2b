"""The organisation: regions (province > city > county), departments and staff."""

from sqlalchemy import ForeignKey, String, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.core.base import Base, enum_column
from models.core.enums import AreaKind, DepartmentKind, RegionLevel, StaffRole


class Region(Base):
    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[RegionLevel] = enum_column(RegionLevel)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    # Most customers of a county are rural, of a city district urban; a customer may say otherwise.
    area_kind: Mapped[AreaKind] = enum_column(AreaKind, default=AreaKind.urban)

    parent: Mapped["Region | None"] = relationship(remote_side=[id])


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[DepartmentKind] = enum_column(DepartmentKind, index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)

    region: Mapped[Region] = relationship()


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # employee number, also the login
    name: Mapped[str] = mapped_column(String(50))
    role: Mapped[StaffRole] = enum_column(StaffRole)
    phone: Mapped[str] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(200))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True, server_default=true())  # False: no login
    # The call queue an agent answers (业务组); None: the centre's pool, rostered for every group
    # without agents of its own.
    business_group: Mapped[str | None] = mapped_column(String(50))

    department: Mapped[Department] = relationship()
    supervisor: Mapped["Staff | None"] = relationship(remote_side=[id])
