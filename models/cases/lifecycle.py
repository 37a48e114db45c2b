"""Case pages: one YAML page per case kind (flows/lifecycles/cases/<kind>.yaml, `subject: <kind>`),
the ticket pages' step schema plus what a case needs:

- `assignee: opener` (or a name the subject's adapter resolves): the step goes to that person, in
  their department, instead of (or as well as) a department kind `to:` of the case's unit chain;
- `not_by: <step key>`: whoever completed that earlier step may not complete this one;
- `lapse: {working_days: N, outcome: <outcome>}`: past N working days (China's calendar) from entry
  the system completes the step with that outcome;
- `status: <name>` or `status: {<outcome>: <name>}`: the subject's own transition to call on entry
  or on that outcome (see tasks/cases/subjects.py).
Clocks and customer notices are the tickets' own: a case step names neither.
"""

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.core.enums import DepartmentKind
from models.tickets.forms import (
    DEFAULT_FOLDER,
    FORMS_FILE,
    FormDecl,
    LifecycleFileError,
    read_forms,
)
from models.tickets.lifecycle import HUMAN_KINDS, Declaration, StepSpec, parse_lifecycle

OPENER = "opener"  # the person who opened the case
CASES_FOLDER = "cases"  # under the lifecycles folder


class Lapse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    working_days: int = Field(ge=1)
    outcome: str


class CaseStepSpec(StepSpec):
    to: DepartmentKind | Literal["supervisor"] | None = None
    assignee: str | None = Field(None, pattern=r"^[a-z_]+$")
    not_by: str | None = None
    lapse: Lapse | None = None
    status: str | dict[str, str] | None = None

    @model_validator(mode="after")
    def _kind_needs(self):
        human = self.kind in HUMAN_KINDS
        if human and (self.form is None or (self.to is None and self.assignee is None)):
            raise ValueError(f"a {self.kind} step needs `form`, and `to` or `assignee`")
        if not human and (self.form or self.assignee or self.not_by or self.lapse):
            raise ValueError(f"a {self.kind} step has no form, assignee, not_by nor lapse")
        if self.check is not None:
            raise ValueError("a case step checks nothing: its subject's adapter decides")
        return self

    def entry_status(self) -> str | None:
        return self.status if isinstance(self.status, str) else None

    def outcome_status(self, outcome: str) -> str | None:
        return self.status.get(outcome) if isinstance(self.status, dict) else None


class CaseSpec(Declaration):
    subject: str = Field(pattern=r"^[a-z_]+$")
    steps: list[CaseStepSpec] = Field(min_length=1)
    NAME_KEY: ClassVar[str] = "subject"

    @property
    def name(self) -> str:
        return self.subject

    def own_errors(self) -> list[tuple[tuple, str]]:
        errors = []
        for i, step in enumerate(self.steps):
            if step.clock or step.notify:
                errors.append((("steps", i, "clock" if step.clock else "notify"),
                               "a case step has no clock nor notice; a time limit is a `lapse`"))
            earlier = [s.key for s in self.steps[:i] if s.kind in HUMAN_KINDS]
            if step.not_by is not None and step.not_by not in earlier:
                errors.append((("steps", i, "not_by"), f"not_by names no earlier person's step; "
                                                       f"earlier: {', '.join(earlier) or 'none'}"))
            if step.lapse is not None and step.lapse.outcome not in step.outcomes():
                errors.append((("steps", i, "lapse", "outcome"),
                               f"{step.key} cannot end with {step.lapse.outcome!r}; it ends with "
                               f"{', '.join(step.outcomes())}"))
            for outcome in step.status if isinstance(step.status, dict) else {}:
                if outcome not in step.outcomes():
                    errors.append((("steps", i, "status", outcome),
                                   f"{step.key} cannot end with {outcome!r}; it ends with "
                                   f"{', '.join(step.outcomes())}"))
        return errors


def case_forms(folder: Path) -> dict[str, FormDecl]:
    """The forms of the case pages in `folder`: its own forms.yaml, else its parent's (the ticket
    pages'), else the shipped one."""
    for place in (folder, folder.parent):
        if (place / FORMS_FILE).exists():
            return read_forms(place)
    return read_forms(DEFAULT_FOLDER)


def read_case_page(path: Path, forms: dict[str, FormDecl] | None = None) -> CaseSpec:
    """Parse and check one case page, or raise LifecycleFileError naming file, line and field."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LifecycleFileError(path, 1, "file", str(exc)) from exc
    return parse_lifecycle(text, path, None, case_forms(path.parent) if forms is None else forms,
                           model=CaseSpec)


def load_case_pages(folder: Path) -> dict[str, CaseSpec]:
    """Every case page in `folder` (none when it does not exist), by subject."""
    if not folder.is_dir():
        return {}
    forms = case_forms(folder)
    return {spec.subject: spec for spec in (read_case_page(path, forms)
                                            for path in sorted(folder.glob("*.yaml"))
                                            if path.name != FORMS_FILE)}
