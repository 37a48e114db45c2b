"""The forms people fill at each lifecycle step, declared in YAML (flows/lifecycles/forms.yaml)
and built into pydantic models here.

One built model is the Prefect resume form (wrapped as a RunInput by the flow), the portal's form
and the schema `gridline step complete --data` is checked against. A form's `result` field, when
it has one, is the outcome the lifecycle declaration's transitions are keyed on.

`department` and `staff` fields depend on the ticket: the declaration says which kinds of
department; `form_model(decl, choices)` builds the step's model with the names of the right
departments (or people) as an enum, and the stored form data keeps their codes.
"""

from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, model_validator

from models.core.enums import DepartmentKind
from models.core.errors import InputError, StepFormError, field_messages, input_error, line_of
from models.core.paths import PROJECT_ROOT
from models.core.text import FREE_TEXT_MAX

FORMS_FILE = "forms.yaml"
DEFAULT_FOLDER = PROJECT_ROOT / "flows" / "lifecycles"
SHORT_TEXT = 200  # characters of a one-line text field unless its declaration says otherwise
PICKED = ("department", "staff")  # fields whose choices come from the ticket


class FieldDecl(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["text", "long_text", "choice", "number", "date", "datetime", "yesno",
                  "department", "staff"]
    title: str = Field(min_length=1)
    help: str = ""
    required: bool = True
    required_when: dict[str, str] = {}  # {other field: value}: then this one must be filled
    choices: list[str] = []
    min: int | float | date | datetime | None = None
    max: int | float | date | datetime | None = None
    kinds: list[DepartmentKind] = []  # a department field: which kinds (default: all)

    @model_validator(mode="after")
    def _consistent(self):
        if self.type == "choice" and not self.choices:
            raise ValueError("a choice field needs `choices`")
        if self.type != "choice" and self.choices:
            raise ValueError(f"a {self.type} field has no `choices`")
        if self.kinds and self.type != "department":
            raise ValueError("only a department field names `kinds`")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is greater than max {self.max}")
        if self.type in ("text", "long_text") and any(
                v is not None and (not isinstance(v, int) or v < 0) for v in (self.min, self.max)):
            raise ValueError("min and max of a text field are lengths (whole numbers)")
        return self


class FormDecl(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1)
    intro: str = ""
    fields: dict[str, FieldDecl] = Field(min_length=1)

    @model_validator(mode="after")
    def _rules_name_fields(self):
        for name, decl in self.fields.items():
            for other, value in decl.required_when.items():
                target = self.fields.get(other)
                if target is None:
                    raise ValueError(f"{name}.required_when names no field {other!r}")
                if target.choices and value not in target.choices:
                    raise ValueError(f"{name}.required_when: {value!r} is not a choice of {other}")
        return self

    def results(self) -> tuple[str, ...] | None:
        """The choices of the `result` field: the outcomes a step with this form can end with."""
        result = self.fields.get("result")
        return tuple(result.choices) if result is not None and result.choices else None

    def picked(self) -> dict[str, FieldDecl]:
        return {n: f for n, f in self.fields.items() if f.type in PICKED}


class LifecycleFileError(ValueError):
    """A bad declaration (a page or the forms file), naming the file, the line and the field."""

    def __init__(self, path: Path, line: int, field: str, message: str):
        super().__init__(f"{path}:{line}: {field}: {message}")
        self.path, self.line, self.field = path, line, field


def parse_forms(text: str, path: Path) -> dict[str, FormDecl]:
    """The declarations of a forms file, or LifecycleFileError naming file, line and field."""
    try:
        root, data = yaml.compose(text), yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        raise LifecycleFileError(path, line, "yaml", str(exc.problem)) from exc
    if not isinstance(data, dict) or not isinstance(data.get("forms"), dict):
        raise LifecycleFileError(path, 1, "forms", "the file holds `forms:`, a form per name")
    forms = {}
    for name, body in data["forms"].items():
        try:
            forms[name] = FormDecl.model_validate(body)
        except ValidationError as exc:
            loc = ("forms", name, *_declared(exc.errors()[0]["loc"]))
            raise LifecycleFileError(path, line_of(root, loc), ".".join(map(str, loc[1:])),
                                 input_error(exc).en) from exc
    return forms


def _declared(loc: tuple) -> tuple:
    """pydantic's location without the union members it tried (`int`, `date`, ...)."""
    return tuple(p for p in loc if not (isinstance(p, str) and (
        p in ("int", "float", "date", "datetime") or p.startswith(("function-", "literal[")))))


def read_forms(folder: Path) -> dict[str, FormDecl]:
    path = folder / FORMS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LifecycleFileError(path, 1, "file", str(exc)) from exc
    return parse_forms(text, path)


def dump_forms(forms: dict[str, FormDecl]) -> str:
    """The declarations as a forms file (what a version stores: only the forms a page uses)."""
    plain = {name: decl.model_dump(mode="json", exclude_defaults=True)
             for name, decl in sorted(forms.items())}
    return yaml.safe_dump({"forms": plain}, allow_unicode=True, sort_keys=True)


def _annotation(decl: FieldDecl, picked: list[str] | None):
    if decl.type == "choice":
        return Literal[tuple(decl.choices)]
    if decl.type in PICKED:
        return Literal[tuple(picked)] if picked else str
    return {"text": str, "long_text": str, "yesno": bool, "date": date, "datetime": datetime,
            "number": int if all(isinstance(v, int) for v in (decl.min, decl.max) if v is not None)
            and (decl.min is not None or decl.max is not None) else float}[decl.type]


def _field(decl: FieldDecl, picked: list[str] | None) -> tuple[Any, Any]:
    annotation = _annotation(decl, picked)
    text = decl.type in ("text", "long_text")
    bounds: dict[str, Any] = {}
    if text:
        bounds["max_length"] = decl.max if decl.max is not None else \
            (SHORT_TEXT if decl.type == "text" else FREE_TEXT_MAX)
        minimum = decl.min if decl.min is not None else (1 if decl.required else 0)
        if minimum:
            bounds["min_length"] = minimum
    elif decl.type in PICKED:  # without the ticket's list (FORMS), at least not blank
        bounds = {"min_length": 1} if decl.required and not picked else {}
    else:
        bounds = {k: v for k, v in (("ge", decl.min), ("le", decl.max)) if v is not None}
    extra = {"widget": "textarea" if decl.type == "long_text" else "text"} if text else None
    default = ... if decl.required else ("" if text else None)
    if not decl.required and not text:
        annotation = annotation | None
    return annotation, Field(default, title=decl.title, description=decl.help or None,
                             json_schema_extra=extra, **bounds)


class Form(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def form_model(name: str, decl: FormDecl,
               picked: dict[str, list[str]] | None = None) -> type[BaseModel]:
    """The pydantic model of a declaration; `picked` gives the names a department or staff field
    offers (without them the field takes any text, as the static FORMS do)."""
    picked = picked or {}
    fields = {field: _field(d, picked.get(field)) for field, d in decl.fields.items()}
    rules = {field: d for field, d in decl.fields.items() if d.required_when}

    def _required_when(self):
        for field, d in rules.items():
            for other, value in d.required_when.items():
                if getattr(self, other) == value and not getattr(self, field):
                    raise InputError(field, f"{value}时须填写{d.title}",
                                     f"required when {other} is {value}")
        return self

    validators = {"_required_when": model_validator(mode="after")(_required_when)} if rules else {}
    model = create_model(_class_name(name), __base__=Form, __doc__=decl.intro or None,
                         __validators__=validators, **fields)
    model.model_config["title"] = decl.title
    return model


def _class_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


# The shipped declarations' models, for what needs no ticket (demo history, tests, defaults).
FORMS: dict[str, type[BaseModel]] = {
    name: form_model(name, decl) for name, decl in read_forms(DEFAULT_FOLDER).items()}


def validate_model(model: type[BaseModel], data: dict) -> BaseModel:
    """The filled form, or a StepFormError naming every bad field in Chinese."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise StepFormError(field_messages(exc, model)) from exc


def validate_form(form: str, data: dict) -> BaseModel:
    """A shipped form filled in (department and staff fields taking any text)."""
    return validate_model(FORMS[form], data)
