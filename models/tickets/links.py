"""Ticket association (工单关联): a member ticket linked to its master (same problem, duplicate,
master and member), one level deep, and the rules of a link and of a suggested one. Pure.

The known-fault check's link of a fault call to the first ticket of its fault is a same-problem
link written by the system."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.core.base import Base, UTCDateTime, enum_column
from models.core.enums import Labelled


class LinkKind(Labelled):
    same_problem = "same_problem", "同一问题"
    duplicate = "duplicate", "重复工单"
    member = "member", "主从工单"


class TicketLink(Base):
    __tablename__ = "ticket_links"
    # A ticket has one master at most: one level, no ticket pulled two ways.
    __table_args__ = (UniqueConstraint("member_id", name="uq_ticket_links_member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    master_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"),
                                           index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[LinkKind] = enum_column(LinkKind)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(50))  # a staff code, or 系统 (the fault check)


def link_problem(master_id: int, member_id: int, masters: set[int], members: set[int]) -> str | None:
    """Why `member` may not be linked under `master`, or None. `masters`: tickets that have
    members; `members`: tickets linked under a master. One level: a master is no one's member and
    a member has no members, so no chain and no cycle can form."""
    if master_id == member_id:
        return "工单不能关联自身"
    if member_id in members:
        return "该工单已关联到其他主单"
    if master_id in members:
        return "主单本身是其他工单的从单，关联只允许一层"
    if member_id in masters:
        return "该工单已是主单，不能再作为从单"
    return None


def bigrams(text: str) -> set[str]:
    """Chinese has no spaces: neighbouring characters stand in for words."""
    letters = [c for c in text if c.isalnum()]
    return {a + b for a, b in zip(letters, letters[1:], strict=False)}


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the two texts' character pairs, 0..1."""
    left, right = bigrams(a), bigrams(b)
    return len(left & right) / len(left | right) if left and right else 0.0
