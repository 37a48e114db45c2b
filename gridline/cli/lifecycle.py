"""gridline lifecycle: check a folder of declarations before it is deployed, and see what it
changes against the versions in force."""

import sys
from pathlib import Path

import typer

from models.cases.lifecycle import CASES_FOLDER
from models.core.enums import TicketType
from models.tickets.forms import FORMS_FILE, LifecycleFileError, read_forms
from models.tickets.lifecycle import load_lifecycles, read_lifecycle
from models.tickets.lifecycle_diff import changes
from tasks.cases.pages import case_pages_named
from tasks.core.db import session_scope
from tasks.tickets.lifecycle_store import lifecycle_references
from tasks.tickets.lifecycle_versions import newest_versions, waiting_by_version

app = typer.Typer(help="Lifecycle declarations.", no_args_is_help=True)


@app.command()
def check(folder: Path = typer.Argument(..., help="a folder of <type>.yaml pages and forms.yaml")):
    """Validate every page and the forms (exit 1 naming file:line of each bad one), then show what
    the folder changes against the versions stored, and how many open tickets stay on an older
    version (they finish on it)."""
    with session_scope() as session:
        refs = lifecycle_references(session)
        errors = _errors(folder, refs)
        if errors:
            for line in errors:
                print(f"错误 | error: {line}", file=sys.stderr)
            raise typer.Exit(1)
        specs = load_lifecycles(folder, refs)
        stored, waiting = newest_versions(session), waiting_by_version(session)
    for ticket_type in TicketType:
        spec = specs[ticket_type]
        lines = changes(stored.get(ticket_type), spec)
        old = sum(n for (kind, version), n in waiting.items()
                  if kind == ticket_type and version not in (None, spec.version))
        state = "new" if ticket_type not in stored else "changed" if lines else "unchanged"
        print(f"{ticket_type.value} {spec.version}: {state}"
              + (f"; {old} open ticket(s) stay on an older version" if old else ""))
        for line in lines:
            print(f"  {line}")


def _errors(folder: Path, refs) -> list[str]:
    """Every bad file's first error, so one run lists them all."""
    try:
        forms = read_forms(folder) if (folder / FORMS_FILE).exists() else None
    except LifecycleFileError as exc:
        return [str(exc)]
    errors = []
    for path in sorted(folder.glob("*.yaml")):
        if path.name == FORMS_FILE:
            continue
        try:
            read_lifecycle(path, refs, forms)
        except LifecycleFileError as exc:
            errors.append(str(exc))
    if not errors:
        try:
            load_lifecycles(folder, refs)
        except LifecycleFileError as exc:
            errors.append(str(exc))
    for path in sorted((folder / CASES_FOLDER).glob("*.yaml")):  # the case pages, each alone
        if path.name != FORMS_FILE:
            try:
                case_pages_named(path)
            except LifecycleFileError as exc:
                errors.append(str(exc))
    return errors
