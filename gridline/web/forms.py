"""A web form generated from a step's pydantic model, and the submission read back into it.

Widgets follow the field's type: Literal or enum -> choice, bool -> yes/no, datetime -> date-time,
date -> date, int/float/Decimal -> number, str -> one line when it is short (max_length up to
SHORT_TEXT) and a text area otherwise. Title and description (help text) come from `Field`.
"""

import types
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from inspect import isclass
from typing import Literal, Union, get_args, get_origin

import pendulum
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from models.core.errors import InputError, field_messages
from models.core.text import FREE_TEXT_MAX, text_problem

SHORT_TEXT = 200  # characters: a longer (or unbounded) text field gets a text area


@dataclass
class Widget:
    name: str
    title: str
    help: str
    kind: str  # text | textarea | choice | yesno | datetime | date | number
    required: bool
    choices: list[tuple[str, str]] = field(default_factory=list)  # (value, label)
    step: str = "any"  # for numbers: "1" for integers
    value: str = ""  # what the input shows: the typed text after a refused submit
    error: str = ""


def _unwrap_optional(annotation):
    if get_origin(annotation) in (Union, types.UnionType):
        inner = [a for a in get_args(annotation) if a is not type(None)]
        if len(inner) == 1:
            return inner[0]
    return annotation


def _widget(name: str, info: FieldInfo) -> Widget:
    annotation = _unwrap_optional(info.annotation)
    widget = Widget(name=name, title=info.title or name, help=info.description or "",
                    kind="text", required=info.is_required())
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    if get_origin(annotation) is Literal:
        widget.kind = "choice"
        widget.choices = [(str(v), str(v)) for v in get_args(annotation)]
    elif isclass(annotation) and issubclass(annotation, Enum):
        widget.kind = "choice"
        widget.choices = [(str(m.value), getattr(m, "label", str(m.value))) for m in annotation]
    elif annotation is bool:
        widget.kind = "yesno"
    elif annotation is datetime:
        widget.kind = "datetime"
    elif annotation is date:
        widget.kind = "date"
    elif annotation in (int, float, Decimal):
        widget.kind = "number"
        widget.step = "1" if annotation is int else "any"
    elif extra.get("widget") in ("text", "textarea"):
        widget.kind = extra["widget"]
    else:
        max_length = _max_length(info)
        widget.kind = "text" if max_length is not None and max_length <= SHORT_TEXT else "textarea"
    return widget


def widgets(model: type[BaseModel], values: dict[str, str] | None = None,
            errors: dict[str, str] | None = None) -> list[Widget]:
    """The form's inputs, with what was typed and the error beside each field."""
    values, errors = values or {}, errors or {}
    result = []
    for name, info in model.model_fields.items():
        widget = _widget(name, info)
        widget.value = values.get(name, "")
        widget.error = errors.get(name, "")
        result.append(widget)
    return result


@dataclass
class Refused:
    """A submitted value refused before the model sees it (a file, a NUL byte, too long)."""

    message: str


def form_text(form, name: str, max_length: int, multiline: bool = False) -> str:
    """One text value of a posted form, or an InputError naming the field: never a file (its
    repr would be stored as text), never control characters, never longer than its column."""
    value = form.get(name, "")
    if not isinstance(value, str):
        raise InputError(name, "须为文字，不能上传文件", "a text value, not a file upload")
    problem = text_problem(value, max_length, multiline)
    if problem:
        raise InputError(name, *problem)
    return value


def read_submission(model: type[BaseModel], form, timezone: str) -> tuple[dict, dict[str, str]]:
    """(data for the model, raw texts to show again). Empty inputs are left out: a default or a
    'required' error applies. A date-time typed in the page is local time of the centre."""
    data, typed = {}, {}
    for name, info in model.model_fields.items():
        try:
            raw = form_text(form, name, _max_length(info) or FREE_TEXT_MAX, multiline=True)
        except InputError as exc:  # shown again as typed (escaped), a file as nothing
            value = form.get(name, "")
            data[name], typed[name] = Refused(exc.zh), value if isinstance(value, str) else ""
            continue
        typed[name] = raw
        if not raw.strip():
            continue
        if _unwrap_optional(info.annotation) is datetime:
            data[name] = _local_datetime(raw.strip(), timezone)
        else:
            data[name] = raw
    return data, typed


def _max_length(info: FieldInfo) -> int | None:
    return next((m.max_length for m in info.metadata
                 if getattr(m, "max_length", None) is not None), None)


def _local_datetime(text: str, timezone: str) -> str:
    try:
        naive = datetime.fromisoformat(text)
    except ValueError:
        return text  # pydantic reports it beside the field
    if naive.tzinfo is not None:
        return naive.isoformat()
    return pendulum.instance(naive, tz=timezone).isoformat()


def validate(model: type[BaseModel], data: dict) -> tuple[BaseModel | None, dict[str, str]]:
    """The filled form, or the Chinese message beside each bad field."""
    refused = {name: value.message for name, value in data.items() if isinstance(value, Refused)}
    try:
        filled = model.model_validate({k: v for k, v in data.items() if k not in refused})
    except ValidationError as exc:
        return None, field_errors(model, exc) | refused
    return (None, refused) if refused else (filled, {})


def field_errors(model: type[BaseModel], exc: ValidationError) -> dict[str, str]:
    """The message beside each field; "" holds what belongs to no one field."""
    errors: dict[str, str] = {}
    for name, message in field_messages(exc, model).items():
        top = name.split(".")[0]
        errors.setdefault(top if top in model.model_fields else "", message)
    return errors
