"""Errors a person can act on: said in Chinese and English, naming the field.

Validators raise `InputError` (in a field validator its field may be ""; the translator names the
field from where pydantic met it); `input_error` and `problems` turn pydantic's `ValidationError`
into them, with Chinese from one table of pydantic's error types (`ZH`); `parse_enum` reads raw
text into an enum member; `line_of` finds the line of a field in a YAML file.
"""

import re
from enum import Enum
from types import UnionType
from typing import Literal, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError


class InputError(ValueError):
    """A bad input, said in Chinese and in English, naming the field."""

    def __init__(self, field: str, zh: str, en: str):
        super().__init__(f"{field}: {en}" if field else en)
        self.field, self.zh, self.en = field, zh, en

    def one_line(self) -> str:
        return f"错误：字段 {self.field}：{self.zh} | error: field {self.field}: {self.en}"


class StepFormError(InputError):
    """A filled form that does not validate; `errors` maps each bad field to a Chinese message."""

    def __init__(self, errors: dict[str, str]):
        fields = ", ".join(errors)
        super().__init__(fields, "；".join(f"{k}：{v}" for k, v in errors.items()),
                         f"invalid form data in {fields}")
        self.errors = errors


# pydantic's error types in Chinese; {name} is filled from the error's context.
ZH = {
    "missing": "必填",
    "literal_error": "取值无效，可选：{expected}",
    "enum": "取值无效，可选：{expected}",
    "string_too_short": "不能为空",
    "string_too_long": "太长，最多 {max_length} 个字",
    "string_type": "须为文本",
    "string_pattern_mismatch": "格式无效",
    "too_short": "至少 {min_length} 项",
    "int_parsing": "须为整数",
    "int_from_float": "须为整数",
    "int_type": "须为整数",
    "float_parsing": "须为数字",
    "float_type": "须为数字",
    "decimal_parsing": "须为数字",
    "greater_than": "须大于 {gt}",
    "greater_than_equal": "不能小于 {ge}",
    "less_than": "须小于 {lt}",
    "less_than_equal": "不能大于 {le}",
    "bool_parsing": "请选择“是”或“否”",
    "bool_type": "请选择“是”或“否”",
    "datetime_parsing": "时间格式无效",
    "datetime_from_date_parsing": "时间格式无效",
    "datetime_type": "时间格式无效",
    "date_parsing": "日期格式无效",
    "date_from_datetime_parsing": "日期格式无效",
    "date_type": "日期格式无效",
    "time_parsing": "时刻格式无效",
    "time_type": "时刻格式无效",
    "dict_type": "须为键值对",
    "list_type": "须为列表",
    "model_type": "须为键值对",
    "extra_forbidden": "不支持的字段",
}
VAGUE = "输入无效"  # a validator's plain ValueError: its English says why
_PREFIXES = ("Value error, ", "Assertion failed, ")


def problems(exc: ValidationError, model: type[BaseModel] | None = None) -> list[InputError]:
    """Every error of a validation, each naming its field (a dotted path; "input" for the whole).
    Given the model, a choice of a labelled enum or a Literal lists its allowed values."""
    return [_problem(error, model) for error in exc.errors()]


def input_error(exc: ValidationError, model: type[BaseModel] | None = None) -> InputError:
    """The first bad field of a validation, as one bilingual line."""
    return problems(exc, model)[0]


def field_messages(exc: ValidationError, model: type[BaseModel] | None = None) -> dict[str, str]:
    """The Chinese message of each bad field (the first one where a field has several)."""
    messages: dict[str, str] = {}
    for problem in problems(exc, model):
        messages.setdefault(problem.field, problem.zh)
    return messages


def _problem(error: dict, model: type[BaseModel] | None) -> InputError:
    field = ".".join(str(p) for p in error["loc"])
    ctx = error.get("ctx") or {}
    cause = ctx.get("error")
    if isinstance(cause, InputError):  # our own validator said it in both languages
        return InputError(field or cause.field or "input", cause.zh, cause.en)
    en = error["msg"]
    for prefix in _PREFIXES:
        en = en.removeprefix(prefix)
    kind = error["type"]
    if kind == "string_too_short" and ctx.get("min_length", 1) > 1:
        kind = "too_short"
    if "expected" in ctx:
        ctx = {**ctx, "expected": _choices(model, error["loc"]) or _listed(ctx["expected"])}
    template = ZH.get(kind)
    zh = template.format_map(_Blank(ctx)) if template else VAGUE
    return InputError(field or "input", zh, en)


def _listed(expected: str) -> str:
    """pydantic's "'a', 'b' or 'c'" as a Chinese list."""
    return "、".join(re.findall(r"'([^']*)'", expected)) or expected


def _choices(model: type[BaseModel] | None, loc: tuple) -> str:
    """The allowed values of the field `loc` reaches in `model`, labels beside the codes."""
    annotation = _annotation_at(model, loc)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return enum_choices(annotation)
    if get_origin(annotation) is Literal:
        return "、".join(map(str, get_args(annotation)))
    return ""


def _annotation_at(annotation, loc: tuple):
    """The type of a field, through nested models, lists and optional values; None if unknown."""
    for part in loc:
        if get_origin(annotation) is list and isinstance(part, int):
            annotation = get_args(annotation)[0]
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel) \
                and part in annotation.model_fields:
            annotation = _required(annotation.model_fields[part].annotation)
        else:
            return None
    return annotation


def _required(annotation):
    """`X` of `X | None`."""
    if get_origin(annotation) in (Union, UnionType):
        inner = [a for a in get_args(annotation) if a is not type(None)]
        return inner[0] if len(inner) == 1 else annotation
    return annotation


class _Blank(dict):
    def __missing__(self, key):
        return ""


def zh_of(kind: str, ctx: dict | None = None) -> str:
    """The Chinese message of one pydantic error type (FastAPI's request errors are not a
    ValidationError, but carry the same types)."""
    template = ZH.get(kind)
    return template.format_map(_Blank(ctx or {})) if template else VAGUE


def enum_choices(enum_cls: type[Enum]) -> str:
    """"urban（城市）、rural（农村）": codes with their Chinese labels where they have one."""
    return "、".join(f"{m.value}（{m.label}）" if hasattr(m, "label") else str(m.value)
                    for m in enum_cls)


E = TypeVar("E", bound=Enum)


def parse_enum(field: str, enum_cls: type[E], raw: str) -> E:
    """The member named by its code (or its Chinese label), or an InputError listing the choices."""
    text = raw.strip()
    for member in enum_cls:
        if text in (member.value, getattr(member, "label", None)):
            return member
    raise InputError(field, f"取值无效，可选：{enum_choices(enum_cls)}",
                     f"{raw!r} is not one of {', '.join(m.value for m in enum_cls)}")


def line_of(node: yaml.Node | None, loc: tuple) -> int:
    """The 1-based line of the deepest YAML node `loc` (keys and list indexes) reaches."""
    line = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if found is None:
                break
            line, node = found[0].start_mark.line + 1, found[1]
        elif isinstance(node, yaml.SequenceNode) and str(part).isdigit() \
                and int(part) < len(node.value):
            node = node.value[int(part)]
            line = node.start_mark.line + 1
        else:
            break
    return line
