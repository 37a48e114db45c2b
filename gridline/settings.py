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
    # The portal (gridline/web), served by `gridline up` beside the Prefect UI.
    portal_host: str = "127.0.0.1"
    portal_port: int = 8000
    portal_secret: str | None = None  # signs session cookies; None: generated once under var/
    portal_secure_cookies: bool = False  # True when the portal is served over HTTPS
    portal_session_hours: int = 12
    portal_page_size: int = 50
    login_max_failures: int = 5  # failed logins per account within the window, then refused
    login_max_failures_per_ip: int = 20
    login_window_seconds: int = 300
    password_min_length: int = 8
    # A step or deadline due within this many hours is "about to expire" (即将超期, seed 000).
    expiry_warning_hours: float = 24
    demo_password: str = "gridline-demo"  # every demo staff member's password after `demo seed`

    @property
    def prefect_ui_url(self) -> str:
        return f"http://127.0.0.1:{self.prefect_port}"


def get_settings() -> Settings:
    """Read the settings afresh, so that a changed environment (tests, CLI) is always honoured."""
    return Settings()
