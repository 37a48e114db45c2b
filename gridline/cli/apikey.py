"""gridline apikey: keys for the centre's other systems to call the API (docs/api.md). A key is
printed once, when it is made; the database keeps only its hash."""

import pendulum
import typer

from gridline.cli.common import echo_json, local_iso
from models.integrations.tables import SCOPES
from tasks.core.db import session_scope
from tasks.integrations.api_keys import add_key, list_keys, revoke_key

app = typer.Typer(help="API keys.", no_args_is_help=True)
SCOPE_HELP = f"repeatable: {', '.join(SCOPES)}"


@app.command()
def add(name: str = typer.Argument(..., help="the integrated system, e.g. cti-ivr"),
        scope: list[str] = typer.Option(..., "--scope", help=SCOPE_HELP),
        unit: str = typer.Option(..., help="region code: the key sees this unit and below")):
    """Make a key; its token is shown now and never again."""
    with session_scope() as session:
        key, token = add_key(session, name=name, scopes=scope, unit=unit, now=pendulum.now("UTC"))
        typer.echo(f"已创建密钥 {key.name}（编号 {key.id}，单位 {key.region.code}，权限 "
                   f"{' '.join(key.scopes)}）| key created; the token is shown only once:")
        typer.echo(token)


@app.command("list")
def list_(as_json: bool = typer.Option(False, "--json")):
    """Every key: name, unit, scopes, when last used, revoked or not (never the token)."""
    with session_scope() as session:
        rows = [{"id": k.id, "name": k.name, "prefix": k.prefix, "unit": k.region.code,
                 "scopes": k.scopes, "created_at": local_iso(k.created_at),
                 "last_used_at": local_iso(k.last_used_at) if k.last_used_at else None,
                 "revoked": k.revoked_at is not None} for k in list_keys(session)]
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        state = "已吊销 revoked" if row["revoked"] else "有效 active"
        typer.echo(f"{row['id']:>4}  {row['name']:<24} {row['prefix']}…  {row['unit']:<8} "
                   f"{' '.join(row['scopes']):<40} {state}  last used {row['last_used_at'] or '-'}")


@app.command()
def revoke(key: str = typer.Argument(..., help="the key's name or number")):
    """Revoke a key at once: its next request is refused (401)."""
    with session_scope() as session:
        found = revoke_key(session, key, now=pendulum.now("UTC"))
        typer.echo(f"已吊销密钥 {found.name} | revoked {found.name}")
