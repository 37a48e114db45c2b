"""gridline user: portal logins (staff with a password)."""

import typer
from sqlalchemy import select

from models.core.enums import StaffRole
from models.core.errors import InputError, parse_enum
from models.org.organisation import Department, Staff
from models.tickets.intake import normalise_phone
from tasks.core.db import session_scope
from tasks.core.settings import get_settings
from tasks.org.passwords import hash_password

app = typer.Typer(help="Portal users.", no_args_is_help=True)


@app.command()
def add(
    code: str = typer.Argument(..., help="employee number, also the login"),
    name: str = typer.Option(...),
    role: str = typer.Option(..., help="agent|handler|head|supervisor|admin"),
    department: str = typer.Option(..., help="department code, e.g. D3201-marketing"),
    phone: str = typer.Option(...),
    email: str | None = typer.Option(None),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True,
                                 help="asked for when not given"),
) -> None:
    """Create a staff member who can log into the portal."""
    staff_role = parse_enum("role", StaffRole, role)
    phone = normalise_phone(phone)
    minimum = get_settings().portal.password_min_length
    if len(password) < minimum:
        raise InputError("password", f"密码至少 {minimum} 位", f"at least {minimum} characters")
    with session_scope() as session:
        unit = session.scalar(select(Department).where(Department.code == department))
        if unit is None:
            raise InputError("department", "部门不存在", f"no department {department!r}")
        if session.scalar(select(Staff.id).where(Staff.code == code)) is not None:
            raise InputError("code", "工号已存在", f"staff {code!r} already exists")
        session.add(Staff(code=code, name=name, role=staff_role, phone=phone, email=email,
                          department=unit, password_hash=hash_password(password)))
    typer.echo(f"已创建用户 {code}（{staff_role.label}，{unit.name}）| user {code} created")
