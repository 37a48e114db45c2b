"""The subjects cases run over, by kind: what the engine asks of each. One adapter per kind,
listed in SUBJECTS; a case page's `subject:` must name one of them.

- prefix: the case numbers' letters ("SP" + local date + a four-digit sequence);
- transition(session, case, status, by, data, now): the subject's own rule for a page's
  `status:` (on entry, or on an outcome); it raises InputError (Chinese) to refuse, and then the
  step stays open and nothing is written;
- person(session, case, name): the Staff a step's `assignee: <name>` names (`opener` is built in);
- describe(session, case): Markdown lines about the subject, shown above the Prefect UI's form;
- link(session, case): the portal page where the subject's steps are done (the inbox links it);
- due(session, case, step_key): when the step's lapse window ends, if the subject fixes it (a
  quality result's appeal window counts from its scoring, by its plan's days); None: the page's
  `lapse.working_days` from the step's entry.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from models.cases.case import Case
from models.org.organisation import Staff
from tasks.knowledge import review_case
from tasks.quality import result_case
from tasks.statistics import approval_case

Transition = Callable[[Session, Case, str, Staff | None, dict, datetime], None]


@dataclass(frozen=True)
class Subject:
    prefix: str
    transition: Transition | None = None
    person: Callable[[Session, Case, str], Staff | None] | None = None
    describe: Callable[[Session, Case], str] | None = None
    link: Callable[[Session, Case], str] | None = None
    due: Callable[[Session, Case, str], datetime | None] | None = None


SUBJECTS: dict[str, Subject] = {
    "report_submission": Subject("SP", approval_case.transition, describe=approval_case.describe,
                                 link=approval_case.link),
    "quality_result": Subject("ZJ", result_case.transition, result_case.person,
                              result_case.describe, result_case.link, result_case.due),
    "knowledge_review": Subject("KR", review_case.transition, review_case.person,
                                review_case.describe, review_case.link),
}


def subject_of(kind: str) -> Subject:
    try:
        return SUBJECTS[kind]
    except KeyError:
        raise LookupError(f"no subject adapter for case kind {kind!r}; "
                          f"known: {', '.join(SUBJECTS)}") from None
