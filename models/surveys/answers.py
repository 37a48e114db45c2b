"""What a customer's reply means, what becomes of a survey, and the one definition of the
satisfaction rate: (满意 + 基本满意) / surveys answered; 无应答 is shown beside it, never counted
as satisfied."""

import unicodedata
from datetime import datetime, timedelta

from models.core.enums import Labelled


class Answer(Labelled):
    satisfied = "satisfied", "满意"
    fairly = "fairly", "基本满意"
    unsatisfied = "unsatisfied", "不满意"


SATISFIED = frozenset({Answer.satisfied, Answer.fairly})
# As the SMS asks ("回复1满意 2基本满意 3不满意"); the words themselves are understood too.
REPLIES = {"1": Answer.satisfied, "2": Answer.fairly, "3": Answer.unsatisfied,
           "满意": Answer.satisfied, "基本满意": Answer.fairly, "不满意": Answer.unsatisfied}
CLUTTER = " \t\r\n。.！!，,"


class SurveyStatus(Labelled):
    awaiting = "awaiting", "待回复"
    answered = "answered", "已回复"
    no_answer = "no_answer", "无应答"
    undelivered = "undelivered", "未送达"
    skipped = "skipped", "近期已调查"  # drawn, but the phone was surveyed within repeat_days


class ReplyOutcome(Labelled):
    counted = "counted", "已计入"
    late = "late", "超过有效期"
    unknown = "unknown", "未匹配到调查"
    garbage = "garbage", "无法识别"  # the first unreadable reply: asked once more
    invalid = "invalid", "无效回复"  # unreadable again: nothing more is sent
    repeat = "repeat", "重复回复"


def read_answer(text: str) -> Answer | None:
    """The answer a reply gives ("1", "１", " 3。", "不满意"), or None for anything else."""
    cleaned = unicodedata.normalize("NFKC", text).strip(CLUTTER)
    return REPLIES.get(cleaned)


def expires_at(sent_at: datetime, valid_hours: float) -> datetime:
    return sent_at + timedelta(hours=valid_hours)


def satisfaction_rate(satisfied: int, answered: int) -> float | None:
    return satisfied / answered if answered else None
