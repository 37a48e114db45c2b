"""the BI view of steps counts tickets' steps only: since 0021 a case's steps (quality appeals,
approvals, knowledge reviews) share the table, and the dashboard's handling figures leave them out

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04 19:15:00
"""

import importlib.util
from pathlib import Path

from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

COMPLETED = "WHERE s.completed_at IS NOT NULL"


def _view_of_0020() -> str:
    """stat_steps_daily as revision 0020 made it (loaded from its file: it is not a package)."""
    [path] = Path(__file__).parent.glob("0020_*.py")
    spec = importlib.util.spec_from_file_location("revision_0020", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.views(op.get_bind().dialect.name)["stat_steps_daily"]


def upgrade() -> None:
    before = _view_of_0020()
    assert COMPLETED in before
    op.execute("DROP VIEW stat_steps_daily")
    op.execute("CREATE VIEW stat_steps_daily AS "
               + before.replace(COMPLETED, f"{COMPLETED} AND s.ticket_id IS NOT NULL"))


def downgrade() -> None:
    op.execute("DROP VIEW stat_steps_daily")
    op.execute(f"CREATE VIEW stat_steps_daily AS {_view_of_0020()}")
