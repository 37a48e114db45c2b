"""An inspection result's life: scored → a pass is published; a fail is pre-published (预公布) to
the agent, who may appeal (申诉) within a window of working days → a reviewer who is not the
inspector upholds (维持) or amends (改判: a new version; the old one stays as it was) → published;
a window that lapses publishes the result as it stands. A published result never changes.
The rules are one pure function, `transition`, so the lifecycle engine can take it over."""

from enum import StrEnum

from models.core.enums import Labelled
from models.core.errors import InputError


class ResultStatus(Labelled):
    prepublished = "prepublished", "预公布"
    appealed = "appealed", "申诉中"
    published = "published", "已公布"
    amended = "amended", "已改判"  # closed: a newer version replaces it


class Action(StrEnum):
    score = "score"    # the inspector scores a sampled ticket
    appeal = "appeal"  # the agent, within the window, with a reason
    uphold = "uphold"  # 维持: the reviewer keeps the result
    amend = "amend"    # 改判: the reviewer replaces it with a new version
    lapse = "lapse"    # the window ended without an appeal


ACTION_LABELS = {Action.score: "评分", Action.appeal: "申诉", Action.uphold: "维持原判",
                 Action.amend: "改判", Action.lapse: "申诉期满公布"}


def transition(status: ResultStatus | None, action: Action, *, passed: bool = False,
               is_agent: bool = False, is_inspector: bool = False, may_review: bool = False,
               window_open: bool = False, reason: str = "") -> ResultStatus:
    """The status after `action`, or one InputError saying why not.

    status None: not scored yet. passed: the (new) score passes. is_agent: the actor is the agent
    inspected; is_inspector: the actor scored this result; may_review: the actor reviews appeals;
    window_open: the appeal window has not ended."""
    if status in (ResultStatus.published, ResultStatus.amended):
        raise _no(f"结果{status.label}，不能再修改", f"a {status} result never changes")
    if action == Action.score:
        if status is not None:
            raise _no("该抽检已评分", "already scored")
        return ResultStatus.published if passed else ResultStatus.prepublished
    if status is None:
        raise _no("尚未评分", "not scored yet")
    if action == Action.appeal:
        if status != ResultStatus.prepublished:
            raise _no(f"结果{status.label}，不能申诉", f"cannot appeal when {status}")
        if not is_agent:
            raise _no("只有被质检的坐席本人可以申诉", "only the agent inspected appeals")
        if not window_open:
            raise _no("申诉期已过", "the appeal window has ended")
        if not reason.strip():
            raise _no("申诉须填写理由", "an appeal needs a reason")
        return ResultStatus.appealed
    if action == Action.lapse:
        if status != ResultStatus.prepublished or window_open:
            raise _no("申诉期未满，不能公布", "the window is still open")
        return ResultStatus.published
    if status != ResultStatus.appealed:
        raise _no(f"结果{status.label}，没有待复核的申诉", f"no appeal to review when {status}")
    if is_inspector:
        raise _no("复核人不能是原质检员", "the reviewer must not be the inspector")
    if not may_review:
        raise _no("只有质检复核人员可以复核申诉", "only reviewers review appeals")
    if not reason.strip():
        raise _no("复核须填写意见", "a review needs a note")
    return ResultStatus.published if action == Action.uphold else ResultStatus.amended


def _no(zh: str, en: str) -> InputError:
    return InputError("action", zh, en)
