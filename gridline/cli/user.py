"""gridline user: portal logins (staff with a password). A password is asked for twice, hidden,
or read from standard input with --password-stdin (for scripts); never an argument, which
every user of the machine could read in `ps`."""

import sys
from datetime import UTC, datetime

import typer
from sqlalchemy import select

from models.core.enums import StaffRole
from models.core.errors import InputError, parse_enum
from models.org.organisation import Department, Staff
from models.org.passwords import check_password
from models.tickets.intake import normalise_phone
from tasks.core.db import session_scope
from tasks.org.passwords import hash_password
from tasks.org.sessions import disable_staff, find_staff, set_password

app = typer.Typer(help="Portal users.", no_args_is_help=True)

FROM_STDIN = typer.Option(False, "--password-stdin",
                          help="read the password from the first line of standard input")


def read_password(from_stdin: bool, prompt: str = "密码 | password") -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt(prompt, hide_input=True, confirmation_prompt=True)


@app.command()
def add(
    code: str = typer.Argument(..., help="employee number, also the login"),
    name: str = typer.Option(...),
    role: str = typer.Option(..., help="agent|handler|head|supervisor|admin"),
    department: str = typer.Option(..., help="department code, e.g. D3201-marketing"),
    phone: str = typer.Option(...),
    email: str | None = typer.Option(None),
    password_stdin: bool = FROM_STDIN,
) -> None:
    """Create a staff member who can log into the portal (the password is asked for)."""
    staff_role = parse_enum("role", StaffRole, role)
    phone = normalise_phone(phone)
    with session_scope() as session:
        unit = session.scalar(select(Department).where(Department.code == department))
        if unit is None:
            raise InputError("department", "部门不存在", f"no department {department!r}")
        if session.scalar(select(Staff.id).where(Staff.code == code)) is not None:
            raise InputError("code", "工号已存在", f"staff {code!r} already exists")
        password = read_password(password_stdin)
        check_password(password, code)
        session.add(Staff(code=code, name=name, role=staff_role, phone=phone, email=email,
                          department=unit, password_hash=hash_password(password)))
    typer.echo(f"已创建用户 {code}（{staff_role.label}，{unit.name}）| user {code} created")


@app.command()
def passwd(code: str = typer.Argument(..., help="employee number"),
           password_stdin: bool = FROM_STDIN) -> None:
    """Set a staff member's password (a reset by an admin); their portal sessions all end."""
    with session_scope() as session:
        staff = find_staff(session, code)
        ended = set_password(session, staff, read_password(password_stdin, "新密码 | new password"),
                             datetime.now(UTC))
    typer.echo(f"已修改 {code} 的密码，结束 {ended} 个登录会话 | password of {code} set, "
               f"{ended} session(s) ended")


@app.command()
def disable(code: str = typer.Argument(..., help="employee number")) -> None:
    """No more portal logins for a staff member; their open sessions end now. Their steps and
    timeline entries stay."""
    with session_scope() as session:
        ended = disable_staff(session, find_staff(session, code), datetime.now(UTC))
    typer.echo(f"已停用用户 {code}，结束 {ended} 个登录会话 | user {code} disabled, "
               f"{ended} session(s) ended")
