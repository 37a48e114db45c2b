"""Text a person typed, checked before it is stored: no control characters (a NUL byte breaks
PostgreSQL, others hide text from the reader), and no longer than its column."""

from models.core.errors import InputError

FREE_TEXT_MAX = 2000  # characters of a free-text field (ticket content, a reply, a note)
_LINE_BREAKS = frozenset("\t\n\r")


def has_control_characters(value: str, multiline: bool = False) -> bool:
    allowed = _LINE_BREAKS if multiline else frozenset()
    return any((ord(ch) < 32 or 127 <= ord(ch) < 160) and ch not in allowed for ch in value)


def text_problem(value: str, max_length: int, multiline: bool = False) -> tuple[str, str] | None:
    """(Chinese, English) of what is wrong with the text, or None."""
    if has_control_characters(value, multiline):
        return "不能包含控制字符", "control characters are not allowed"
    if len(value) > max_length:
        return f"太长，最多 {max_length} 个字", f"too long: at most {max_length} characters"
    return None


def check_text(field: str, value: str, max_length: int, multiline: bool = False) -> str:
    problem = text_problem(value, max_length, multiline)
    if problem:
        raise InputError(field, *problem)
    return value
