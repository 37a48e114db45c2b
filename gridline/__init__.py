"""Gridline: ticket orchestration for 95598 power-supply service centres."""

from pathlib import Path

# Gridline runs from its checkout (editable install): migrations/, templates/ and prefect.yaml
# sit beside the packages.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
