"""Who is mailed a scheduled report beyond (or instead of) its roles in reports.yaml: an admin
adds a staff member of their scope (subscribed) or takes one of the roles off (not subscribed)."""

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.core.base import Base
from models.org.organisation import Staff


class ReportSubscription(Base):
    __tablename__ = "report_subscriptions"
    __table_args__ = (UniqueConstraint("report", "staff_id", name="uq_report_subscriptions_staff"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report: Mapped[str] = mapped_column(String(50))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    subscribed: Mapped[bool]

    staff: Mapped[Staff] = relationship()
