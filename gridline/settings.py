"""Configuration from GRIDLINE_* environment variables (and an optional .env file)."""

from datetime import time
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from gridline import PROJECT_ROOT


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRIDLINE_", env_file=".env", extra="ignore")

    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'gridline.db'}"
    timezone: str = "Asia/Shanghai"
    # Working hours of a working day; the default counts the whole day, as 95598 norms do.
    workday_start: time = time(0, 0)
    workday_end: time | None = None  # None means midnight at the end of the day
    var_dir: Path = PROJECT_ROOT / "var"
    prefect_port: int = 4200
    # Targets, shift templates, rest rules and alert levels; None: models/data/workforce.yaml.
    workforce_file: Path | None = None


def get_settings() -> Settings:
    """Read the settings afresh, so that a changed environment (tests, CLI) is always honoured."""
    return Settings()
