"""Watch tickets kept in the marketing system: pick up the newest export dropped in a folder."""

import shutil

import pendulum
from prefect import flow, get_run_logger, task

from tasks.core.db import session_scope
from tasks.core.settings import get_settings
from tasks.tickets.marketing_import import import_export, read_mapping


@task
def import_newest_export() -> dict:
    settings = get_settings()
    folder = settings.import_dir
    exports = sorted((p for p in folder.glob("*") if p.suffix.lower() in (".xlsx", ".csv")),
                     key=lambda p: p.stat().st_mtime) if folder.exists() else []
    if not exports:
        return {"file": None}
    newest = exports[-1]
    with session_scope() as session:
        report = import_export(session, newest, mapping=read_mapping(settings.import_mapping),
                               now=pendulum.now("UTC"), timezone=settings.timezone)
    done = folder / "processed"
    done.mkdir(exist_ok=True)
    stamp = pendulum.now("UTC").format("YYYYMMDDHHmmss")
    for path in exports:  # older exports are superseded by the newest one
        shutil.move(path, done / f"{stamp}-{path.name}")
    return {"file": newest.name, **report.as_dict()}


@flow(name="marketing-sync")
def marketing_sync() -> dict:
    result = import_newest_export()
    logger = get_run_logger()
    for error in result.get("errors", []):
        logger.warning("row %s rejected: %s", error["row"], error["reason"])
    logger.info("marketing export: %s", {k: v for k, v in result.items() if k != "errors"})
    return result
