"""Where Gridline's files live: it runs from its checkout (editable install), so migrations/,
templates/ and prefect.yaml sit beside the packages."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATES_DIR = PROJECT_ROOT / "templates"
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
