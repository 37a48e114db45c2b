"""The case pages in force (GRIDLINE_LIFECYCLES_DIR/cases), each naming a known subject, and the
versions cases are pinned to: a page changed while cases wait never strands them."""

from datetime import datetime
from functools import cache
from pathlib import Path

import pendulum
import yaml
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.cases.case import Case, CaseVersion
from models.cases.lifecycle import CASES_FOLDER, CaseSpec, load_case_pages, read_case_page
from models.core.errors import line_of
from models.org.organisation import Staff
from models.tickets.forms import LifecycleFileError, parse_forms
from models.tickets.lifecycle import parse_lifecycle
from tasks.cases.store import open_case
from tasks.cases.subjects import SUBJECTS
from tasks.core.settings import get_settings


def cases_folder() -> Path:
    return get_settings().lifecycles_dir / CASES_FOLDER


def case_pages(folder: Path | None = None) -> dict[str, CaseSpec]:
    """Every case page, checked; read again when a file of the folder (or its forms) changed."""
    folder = folder or cases_folder()
    files = sorted([*folder.glob("*.yaml"), *folder.parent.glob("forms.yaml")])
    return _load(folder, tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files))


@cache
def _load(folder: Path, stamp: tuple) -> dict[str, CaseSpec]:
    specs = load_case_pages(folder)
    for spec in specs.values():
        known_subject(folder / f"{spec.subject}.yaml", spec)
    return specs


def known_subject(path: Path, spec: CaseSpec) -> CaseSpec:
    """The page, if its subject has an adapter; else its file, line and field."""
    if spec.subject not in SUBJECTS:
        raise LifecycleFileError(path, line_of(yaml.compose(spec.texts()[0]), ("subject",)),
                                 "subject", f"no subject adapter {spec.subject!r} "
                                 f"(tasks/cases/subjects.py); known: {', '.join(SUBJECTS)}")
    return spec


def case_pages_named(path: Path) -> CaseSpec:
    """One case page checked in full (`gridline lifecycle check`)."""
    return known_subject(path, read_case_page(path))


def case_page(kind: str) -> CaseSpec:
    try:
        return case_pages()[kind]
    except KeyError:
        raise LookupError(f"no case page {kind}.yaml in {cases_folder()}") from None


def record_case_version(session: Session, spec: CaseSpec) -> str:
    """Store the page's text under its hash, once."""
    if session.get(CaseVersion, spec.version) is None:
        page, forms = spec.texts()
        savepoint = session.begin_nested()
        session.add(CaseVersion(version=spec.version, kind=spec.subject, page=page, forms=forms,
                                first_seen_at=pendulum.now("UTC")))
        try:
            savepoint.commit()
        except IntegrityError:  # another process stored it a moment before
            savepoint.rollback()
    return spec.version


@cache
def _parsed(version: str, kind: str, page: str, forms: str) -> CaseSpec:
    return parse_lifecycle(page, Path(f"{kind}.yaml"), None,
                           parse_forms(forms, Path(f"{version}/forms.yaml")), model=CaseSpec)


def case_spec(session: Session, case: Case) -> CaseSpec:
    """The page the case runs on: its pinned version, else the current one."""
    current = case_page(case.kind)
    if case.lifecycle_version in (None, current.version):
        return current
    row = session.get(CaseVersion, case.lifecycle_version)
    return current if row is None else _parsed(row.version, row.kind, row.page, row.forms)


def pin_case(session: Session, case: Case) -> CaseSpec:
    """The case's run starts (or starts again): it keeps the version it first started on."""
    if case.lifecycle_version is None:
        case.lifecycle_version = record_case_version(session, case_page(case.kind))
        session.flush()
    return case_spec(session, case)


def open_case_on_page(session: Session, kind: str, ref_id: int, region_id: int, title: str, *,
                      opened_by: Staff | None, now: datetime) -> Case:
    """The case row, pinned to its kind's page as it is now (an unknown kind is refused before
    anything is written); its run is started by flows.cases."""
    spec = case_page(kind)
    case = open_case(session, kind, ref_id, region_id, title, opened_by=opened_by, now=now)
    case.lifecycle_version = record_case_version(session, spec)
    return case
