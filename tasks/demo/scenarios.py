"""Where the demo's tickets stand: first the ones that make the centre's day (a handful about to
expire or overdue, a fault cluster, re-dispatches, work in every department's inbox), then as
many more as asked, mostly closed. Choices are the outcomes chosen at each step, in order (a
fault's first is its known-fault check); the step after the last one waits."""

from dataclasses import dataclass

from models.core.enums import TicketType
from models.tickets.lifecycle import DONE
from tasks.demo.history import Stage

C, F, R = TicketType.complaint, TicketType.fault_repair, TicketType.report
OP, S, B, Q = TicketType.opinion, TicketType.suggestion, TicketType.business, TicketType.consultation
TO_DEPT, HANDLED, PASSED = "转责任部门", "已处理", "通过"


@dataclass(frozen=True)
class Scenario:
    type: TicketType
    region: str  # the county the caller lives in
    stage: Stage
    subtype: str | None = None
    follows: bool = False  # a neighbour's call shortly after the fault ticket before it


def redispatched(code: str) -> tuple:
    """Returned by the county's department, re-dispatched by the centre to `code`."""
    return ("退单", {"department": code})


CORE = [
    # The first audit's handful: each clock held by a named person of a different department.
    Scenario(C, "320102", Stage((), "soon")),                     # contact, the centre's agent
    Scenario(F, "320213", Stage((), "soon")),                     # arrival, 梁溪 repair crew
    Scenario(OP, "320581", Stage((), "soon")),                     # reply, 常熟 service centre
    Scenario(C, "320508", Stage((TO_DEPT,), "late")),             # reply, 姑苏 service centre
    Scenario(F, "320281", Stage(("unknown", DONE), "late")),      # restoration, 江阴 crew
    Scenario(R, "320509", Stage((), "late")),                     # reply, 苏州 discipline
    # A fault in 江宁 and three neighbours' calls linked to it.
    Scenario(F, "320115", Stage(("unknown", DONE))),
    *[Scenario(F, "320115", Stage(("known",), "closed"), follows=True)] * 3,
    # Re-dispatched to the cities' marketing departments and metering centres.
    Scenario(C, "320115", Stage((TO_DEPT, *redispatched("D3201-marketing")))),
    Scenario(OP, "320282", Stage(redispatched("D3202-marketing"))),
    Scenario(S, "320509", Stage(redispatched("D3205-marketing"))),
    Scenario(B, "320102", Stage(redispatched("D3201-metering")), "meter_calibration"),
    Scenario(B, "320213", Stage(redispatched("D3202-metering")), "meter_calibration"),
    Scenario(B, "320508", Stage(redispatched("D3205-metering")), "meter_calibration"),
    # Discipline inspection in the other cities.
    Scenario(R, "320118", Stage(())),
    Scenario(C, "320282", Stage(("转纪检监察",))),
    # Every county's repair crew.
    Scenario(F, "320102", Stage(())),
    Scenario(F, "320118", Stage(("unknown", DONE))),
    Scenario(F, "320282", Stage(())),
    Scenario(F, "320508", Stage(("unknown", DONE))),
    Scenario(F, "320581", Stage(())),
    Scenario(F, "320509", Stage(("unknown", DONE))),
    # Every county's service centre.
    Scenario(B, "320102", Stage(()), "low_voltage_connection"),
    Scenario(C, "320115", Stage((TO_DEPT,))),
    Scenario(OP, "320118", Stage(())),
    Scenario(S, "320213", Stage(())),
    Scenario(B, "320281", Stage(()), "meter_calibration"),
    Scenario(C, "320282", Stage((TO_DEPT,))),
    Scenario(OP, "320509", Stage(())),
    # The centre: review, callback, replies, and a twice-reopened complaint with the supervisor.
    Scenario(C, "320213", Stage((TO_DEPT, HANDLED))),
    Scenario(B, "320115", Stage((HANDLED,)), "low_voltage_connection"),
    Scenario(OP, "320508", Stage((HANDLED,))),
    Scenario(R, "320118", Stage((HANDLED, PASSED))),
    Scenario(C, "320102", Stage((TO_DEPT, *[HANDLED, PASSED, "不满意"] * 3))),
]

CLOSED: dict[TicketType, tuple] = {
    C: (TO_DEPT, HANDLED, PASSED, "满意"),
    R: (HANDLED, PASSED, DONE),
    OP: (HANDLED, DONE),
    S: (HANDLED, DONE),
    B: (HANDLED, "满意"),
    Q: ("已答复",),
    F: ("unknown", DONE, DONE, "满意"),
}

OPEN: dict[TicketType, list[tuple]] = {
    C: [(), (TO_DEPT,), ("转纪检监察",), (TO_DEPT, HANDLED), (TO_DEPT, HANDLED, PASSED)],
    R: [(), (HANDLED,), (HANDLED, PASSED)],
    OP: [(), (HANDLED,)],
    S: [(), (HANDLED,)],
    B: [(), (HANDLED,)],
    Q: [(), ("转部门",), ("转部门", HANDLED)],
    F: [(), ("unknown", DONE), ("unknown", DONE, DONE)],
}
