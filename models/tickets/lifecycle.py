"""Lifecycle declarations: one YAML page per ticket type (flows/lifecycles/<type>.yaml).

A page lists the ticket's steps in order. Each step has a kind, the department kind it goes to
(resolved against the ticket's region), the form the human fills, the clock its due time comes
from, who is notified on entry and on completion, and its transitions: `when` maps an outcome (the
form's `result`, or "完成" for a form without one) to the next step; any other outcome follows
`next` (default: the step below). A transition may meet clocks, and may be taken at most N times
before it goes elsewhere (an unsatisfied customer reopens a complaint twice, then it escalates).
The target "back" is the handoff step the ticket last went through (return, send back, reopen).
The page's own `notify: {start: [...]}` tells the customer once, when the ticket's run starts.
A page is checked against what it names outside itself (`References`, from its loader): the
clocks the deadline rules define for its type, and the templates of each notice's channel.
"""

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import ClassVar, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from models.core.enums import DepartmentKind, TicketStatus, TicketType
from models.core.errors import input_error, line_of
from models.tickets.forms import (
    DEFAULT_FOLDER,
    FORMS_FILE,
    FormDecl,
    LifecycleFileError,
    dump_forms,
    read_forms,
)

DONE = "完成"  # the outcome of a form without a `result` field
BACK = "back"


class StepKind(StrEnum):
    handoff = "handoff"      # a department handles it
    review = "review"        # the centre (or its supervisor) decides
    callback = "callback"    # an agent calls the customer
    notify = "notify"        # messages only, no one waits
    branch = "branch"        # the system checks something and picks the way
    close = "close"          # archive


HUMAN_KINDS = {StepKind.handoff, StepKind.review, StepKind.callback}


class Audience(StrEnum):
    customer = "customer"
    department = "department"
    supervisor = "supervisor"


class Notice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: Audience
    template: str = Field(pattern=r"^[a-z0-9_]+$")
    channel: Literal["sms", "email"] = "sms"


class Transition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: str
    meets: list[str] = []      # clocks this transition stops
    at_most: int | None = Field(None, ge=0)  # how often it may be taken ...
    then: str | None = None    # ... before it goes here instead
    # The step is tried again (after the centre's interval, up to its number of tries) before
    # the transition is taken: a customer not reached at callback is called again.
    retry: bool = False

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value):
        return {"to": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _limit_needs_fallback(self):
        if (self.at_most is None) != (self.then is None):
            raise ValueError("at_most and then go together")
        return self


class Checks(StrEnum):
    known_fault = "known_fault"  # another open fault ticket in the same area, recently


CHECK_OUTCOMES = {Checks.known_fault: ("known", "unknown")}


class StepSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z_]+$")
    kind: StepKind
    title: str
    to: DepartmentKind | Literal["supervisor"] | None = None
    form: str | None = None
    check: Checks | None = None
    clock: str | None = None
    status: TicketStatus | None = None
    notify: dict[Literal["entry", "done"], list[Notice]] = {}
    when: dict[str, Transition] = {}  # not `on`: YAML 1.1 reads that key as true
    next: Transition | None = None
    _results: tuple[str, ...] | None = PrivateAttr(None)  # its form's `result` choices

    @model_validator(mode="after")
    def _kind_needs(self):
        human = self.kind in HUMAN_KINDS
        if human and (self.to is None or self.form is None):
            raise ValueError(f"a {self.kind} step needs `to` and `form`")
        if not human and self.form is not None:
            raise ValueError(f"a {self.kind} step has no form")
        if (self.kind == StepKind.branch) != (self.check is not None):
            raise ValueError("a branch step, and only a branch step, names a `check`")
        return self

    def outcomes(self) -> tuple[str, ...]:
        """Every outcome this step can end with."""
        if self.check is not None:
            return CHECK_OUTCOMES[self.check]
        return self._results or (DONE,)

    def ticket_status(self) -> TicketStatus:
        if self.status is not None:
            return self.status
        return {StepKind.callback: TicketStatus.awaiting_callback,
                StepKind.close: TicketStatus.closed}.get(self.kind, TicketStatus.in_progress)


class Declaration(BaseModel):
    """What a ticket page and a case page (models.cases.lifecycle) share: steps, the forms they
    fill, the stored text and its hash, and where an outcome leads."""

    model_config = ConfigDict(extra="forbid")

    title: str
    steps: list[StepSpec] = Field(min_length=1)
    _forms: dict[str, FormDecl] = PrivateAttr(default_factory=dict)  # the forms its steps fill
    _text: str = PrivateAttr("")  # the page as written, and its forms: what a version stores
    _forms_text: str = PrivateAttr("")
    NAME_KEY: ClassVar[str] = "type"  # the key naming the page, which its file name repeats

    @property
    def name(self) -> str:
        raise NotImplementedError

    def own_errors(self) -> list[tuple[tuple, str]]:
        """What only this kind of page checks."""
        return []

    @property
    def forms(self) -> dict[str, FormDecl]:
        return self._forms

    @property
    def version(self) -> str:
        """The content hash of the page and the forms it uses."""
        return declaration_hash(self._text, self._forms_text)

    def texts(self) -> tuple[str, str]:
        return self._text, self._forms_text

    def step(self, key: str) -> StepSpec:
        return next(s for s in self.steps if s.key == key)

    def transition(self, step: StepSpec, outcome: str) -> Transition | None:
        """Where `outcome` leads from `step` (None after a close step)."""
        if step.kind == StepKind.close:
            return None
        if outcome in step.when:
            return step.when[outcome]
        if step.next is not None:
            return step.next
        index = self.steps.index(step)
        return Transition(to=self.steps[index + 1].key) if index + 1 < len(self.steps) else None


class LifecycleSpec(Declaration):
    type: TicketType
    notify: dict[Literal["start"], list[Notice]] = {}  # told once, when the ticket's run starts

    @property
    def name(self) -> str:
        return self.type.value


@dataclass(frozen=True)
class References:
    """What a page may name outside itself, passed in by its loader: the clocks the deadline
    rules define, by ticket type, and the message templates, by channel."""

    clocks: frozenset[tuple[TicketType, str]]
    templates: frozenset[tuple[str, str]]  # (channel, name)

    def clocks_of(self, ticket_type: TicketType) -> list[str]:
        return sorted(name for kind, name in self.clocks if kind == ticket_type)


def reference_errors(spec: Declaration, refs: References | None,
                     forms: dict[str, FormDecl]) -> list[tuple[tuple, str]]:
    """Transitions to unknown steps, outcomes a step cannot have, forms not declared, a page
    without a close; with `refs`: clocks no deadline rule of the type defines, templates missing
    for their channel."""
    keys = [s.key for s in spec.steps]
    errors = _notice_errors(("notify",), spec.notify, refs, has_department=False) if refs else []
    errors += spec.own_errors()
    for i, step in enumerate(spec.steps):
        if refs is not None:
            errors += _clock_errors(spec, step, i, refs)
            errors += _notice_errors(("steps", i, "notify"), step.notify, refs,
                                     has_department=step.to is not None)
        if step.form is not None and step.form not in forms:
            errors.append((("steps", i, "form"), f"unknown form {step.form!r}; {FORMS_FILE} "
                                                 f"declares {', '.join(forms) or 'none'}"))
        if keys.count(step.key) > 1:
            errors.append((("steps", i, "key"), f"step key {step.key!r} is used twice"))
        for loc, transition in _transitions(step, i):
            for target in (transition.to, transition.then):
                if target is not None and target != BACK and target not in keys:
                    errors.append((loc, f"unknown step {target!r}"))
        for outcome in step.when:
            if outcome not in step.outcomes():
                errors.append((("steps", i, "when", outcome),
                               f"{step.key} cannot end with {outcome!r}; it ends with "
                               f"{', '.join(step.outcomes())}"))
        if step.kind != StepKind.close and i == len(spec.steps) - 1 and step.next is None \
                and set(step.outcomes()) - set(step.when):
            errors.append((("steps", i), "the last step must be a close step or lead elsewhere"))
    if not any(s.kind == StepKind.close for s in spec.steps):
        errors.append((("steps",), "no close step"))
    return errors


def _transitions(step: StepSpec, i: int) -> list[tuple[tuple, Transition]]:
    """The step's declared transitions, each with where it stands in the page."""
    found = [(("steps", i, "when", o), t) for o, t in step.when.items()]
    return found + ([(("steps", i, "next"), step.next)] if step.next is not None else [])


def _clock_errors(spec: LifecycleSpec, step: StepSpec, i: int,
                  refs: References) -> list[tuple[tuple, str]]:
    known = refs.clocks_of(spec.type)
    named = [(("steps", i, "clock"), step.clock)] if step.clock else []
    named += [((*loc, "meets", j), clock) for loc, t in _transitions(step, i)
              for j, clock in enumerate(t.meets)]
    return [(loc, f"no deadline rule of {spec.type.value} defines the clock {clock!r}; its clocks: "
                  f"{', '.join(known) or 'none'}") for loc, clock in named if clock not in known]


def _notice_errors(loc: tuple, notify: dict[str, list[Notice]], refs: References, *,
                   has_department: bool) -> list[tuple[tuple, str]]:
    errors = []
    for stage, notices in notify.items():
        for j, notice in enumerate(notices):
            if (notice.channel, notice.template) not in refs.templates:
                errors.append(((*loc, stage, j, "template"),
                               f"no template {notice.channel}/{notice.template}.txt"))
            if notice.to == Audience.department and not has_department:
                errors.append(((*loc, stage, j, "to"), "this step goes to no department"))
            if stage == "start" and notice.to != Audience.customer:
                errors.append(((*loc, stage, j, "to"),
                               "at the start only the customer is told: no one holds it yet"))
    return errors


def declaration_hash(page: str, forms: str) -> str:
    return hashlib.sha256(f"{page}\n\0\n{forms}".encode()).hexdigest()[:16]


def read_lifecycle(path: Path, refs: References | None,
                   forms: dict[str, FormDecl] | None = None) -> LifecycleSpec:
    """Parse and check one declaration (its forms: the folder's forms.yaml, else the shipped
    one's), or raise LifecycleFileError naming file, line and field."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LifecycleFileError(path, 1, "file", str(exc)) from exc
    return parse_lifecycle(text, path, refs, read_forms(DEFAULT_FOLDER) if forms is None else forms)


def parse_lifecycle(text: str, path: Path, refs: References | None,
                    forms: dict[str, FormDecl], model: type[Declaration] = LifecycleSpec):
    """A page's text (a ticket page, or `model`'s) checked against its forms and (unless None: a
    stored version, checked when it was current) what it names outside itself."""
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        raise LifecycleFileError(path, line, "yaml", str(exc.problem)) from exc
    except yaml.YAMLError as exc:
        raise LifecycleFileError(path, 1, "file", str(exc)) from exc
    try:
        spec = model.model_validate(data)
    except ValidationError as exc:
        loc = tuple(p for p in exc.errors()[0]["loc"]
                    if not (isinstance(p, str) and p in _UNION_TAGS))
        raise LifecycleFileError(path, line_of(root, loc), _field(loc), input_error(exc).en) from exc
    used = {s.form: forms[s.form] for s in spec.steps if s.form in forms}
    for step in spec.steps:
        step._results = used[step.form].results() if step.form in used else None
    spec._forms, spec._text, spec._forms_text = used, text, dump_forms(used)
    for loc, message in reference_errors(spec, refs, forms):
        raise LifecycleFileError(path, line_of(root, loc), _field(loc), message)
    if path.stem != spec.name:
        raise LifecycleFileError(path, line_of(root, (spec.NAME_KEY,)), spec.NAME_KEY,
                                 f"the file of {spec.NAME_KEY} {spec.name!r} must be named "
                                 f"{spec.name}.yaml")
    return spec


_UNION_TAGS = {"function-after[_limit_needs_fallback(), Transition]", "literal['supervisor']",
               "DepartmentKind"}


def _field(loc: tuple) -> str:
    return ".".join(str(p) for p in loc) or "document"


def load_lifecycles(folder: Path, refs: References) -> dict[TicketType, LifecycleSpec]:
    """Every declaration in `folder`, each checked against the folder's forms.yaml (the shipped
    one where the folder has none) and `refs`; every ticket type must have one."""
    forms = read_forms(folder if (folder / FORMS_FILE).exists() else DEFAULT_FOLDER)
    specs = {spec.type: spec for spec in (read_lifecycle(path, refs, forms)
                                          for path in sorted(folder.glob("*.yaml"))
                                          if path.name != FORMS_FILE)}
    missing = [t.value for t in TicketType if t not in specs]
    if missing:
        raise LifecycleFileError(folder, 0, "type", f"no declaration for {', '.join(missing)}")
    return specs


def step_keys(specs: dict[TicketType, LifecycleSpec]) -> set[str]:
    """Every step key some declaration uses, for settings that name steps."""
    return {step.key for spec in specs.values() for step in spec.steps}


class Walk:
    """Where a ticket is in its declaration, rebuilt the same way on every re-run from the step
    rows: how often each step was entered (its attempt), where "back" leads, which department a
    re-dispatch chose, and how often each limited transition was taken. `tries` is how often a
    step whose transition says `retry` is tried in all."""

    def __init__(self, spec: LifecycleSpec, tries: int = 1):
        self.spec, self.tries = spec, tries
        self.key: str | None = spec.steps[0].key
        self.attempts: dict[str, int] = {}
        self.taken: dict[tuple[str, str], int] = {}
        self.back: str | None = None
        self.chosen_department: dict[str, str] = {}  # handoff step -> department code
        self.note = ""  # why the next step opens, for its timeline entry
        self.retrying = False  # the next step is the last one tried again

    def enter(self) -> tuple[StepSpec, int]:
        step = self.spec.step(self.key)
        self.attempts[step.key] = self.attempts.get(step.key, 0) + 1
        if step.kind == StepKind.handoff:
            self.back = step.key
        return step, self.attempts[step.key]

    def leave(self, step: StepSpec, outcome: str, data: dict) -> None:
        """Follow the transition of `outcome`; `key` becomes None after the close step."""
        transition = self.spec.transition(step, outcome)
        self.note, self.retrying = "", False
        if transition is None:
            self.key = None
            return
        if transition.retry:
            tried = self.attempts[step.key]
            if tried < self.tries:
                self.key, self.retrying = step.key, True
                self.note = f"第{tried}次{step.title}{outcome}，第{tried + 1}次{step.title}。"
                return
            self.note = f"{step.title}{tried}次均{outcome}，按{outcome}办结。"
        target = transition.to
        if transition.at_most is not None:
            taken = self.taken[step.key, outcome] = self.taken.get((step.key, outcome), 0) + 1
            if taken > transition.at_most:
                target, self.note = transition.then, f"第{taken}次{outcome}，升级处理。"
            else:
                self.note = f"{outcome}，第{taken}次重新处理。"
        if step.form == "redispatch":
            self.chosen_department[self.back] = data["department"]
            self.note = f"{step.title}。"  # the entry names the department it went to
        elif target == BACK:
            self.note = self.note or f"{step.title}{outcome}。"
        self.key = self.back if target == BACK else target
