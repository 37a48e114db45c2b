"""The password policy, one rule for the CLI and the portal: long enough, not the login itself,
not one of the passwords every guessing list starts with."""

from functools import cache

from models.core.errors import InputError
from models.core.paths import PROJECT_ROOT

MIN_LENGTH = 10
MAX_LENGTH = 128  # argon2 takes any length; a megabyte "password" is an attack, not a secret
COMMON_PASSWORDS = PROJECT_ROOT / "models" / "data" / "common_passwords.txt"


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines
                     if line.strip() and not line.startswith("#"))


def check_password(password: str, code: str, field: str = "password") -> None:
    """Raise an InputError naming `field` when the password breaks the policy."""
    if len(password) < MIN_LENGTH:
        raise InputError(field, f"密码至少 {MIN_LENGTH} 位",
                         f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise InputError(field, f"密码最多 {MAX_LENGTH} 位",
                         f"a password has at most {MAX_LENGTH} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in password):
        raise InputError(field, "密码不能含控制字符", "no control characters in a password")
    lowered = password.lower()
    if code and code.lower() in lowered:
        raise InputError(field, "密码不能包含工号", "a password must not contain the staff code")
    if lowered in common_passwords() or len(set(password)) <= 2:
        raise InputError(field, "密码过于常见，请换一个不易猜到的密码",
                         "a common password: choose one that is harder to guess")
