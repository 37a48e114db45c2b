"""Who takes part in quality inspection: inspectors (质检员, or anyone of a 质量管理部) score and
review; the centre's supervisors and admins review too. Never the inspector of the same result."""

from models.core.enums import DepartmentKind, StaffRole
from models.org.organisation import Staff

REVIEWER_ROLES = {StaffRole.inspector, StaffRole.supervisor, StaffRole.admin}


def inspects(staff: Staff) -> bool:
    return staff.role == StaffRole.inspector or staff.department.kind == DepartmentKind.quality


def reviews(staff: Staff) -> bool:
    return staff.role in REVIEWER_ROLES or inspects(staff)
