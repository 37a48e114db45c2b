"""Configuration, shared by the CLI, flows and portal: GRIDLINE_* environment variables or .env."""

import os
from datetime import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.audit.assessment import AuditPolicy
from models.core.paths import PROJECT_ROOT
from models.messaging.outbox import DeliveryPolicy, SmsConfig, SmtpConfig


class PortalConfig(BaseModel):
    """The portal (gridline/web), served by `gridline up` beside the Prefect UI."""

    host: str = "127.0.0.1"
    port: int = 8000
    # uvicorn worker processes: one request's CPU is the bottleneck, so one per core by default
    # (sessions, CSRF and the login limiter hold no state in a process).
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    secret: str | None = None  # signs session cookies; None: generated once under var/
    secure_cookies: bool = False  # True when the portal is served over HTTPS
    session_hours: int = 12
    page_size: int = 25  # rows of a list page (inbox, supervision)
    wallboard_seconds: float = 5  # how often the wallboard's event stream sends the board again
    login_max_failures: int = 5  # failed logins per account within the window, then refused
    login_max_failures_per_address: int = 20
    login_window_seconds: int = 300
    # Proxies (addresses or networks, comma-separated) whose X-Forwarded-For is believed for the
    # client's address; from anyone else the header is ignored. "" = no proxy in front.
    trusted_proxies: str = ""
    lookups_per_minute: int = Field(default=30, ge=1)  # customer lookups per agent at intake
    intake_form_hours: int = Field(default=12, ge=1)  # how long a rendered intake form stays valid
    # A step due within this many hours is "about to expire" in the inbox (即将超期, seed 000);
    # deadlines (ticket clocks) use their own rule's `warn` window, as the audit does.
    expiry_warning_hours: float = 24
    prefect_ui_url: str = ""  # where staff's browsers reach the Prefect UI; "" = the local server
    # Where staff's browsers reach this portal, for the links sent to them (tickets in e-mails,
    # password set-up); "" = http://<host>:<port>.
    base_url: str = ""
    setup_link_hours: int = Field(default=72, ge=1)  # how long a password set-up link works

    def link_base(self) -> str:
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")
    demo_password: str = "gridline-demo"  # every demo staff member's password after `demo seed`


class ApiConfig(BaseModel):
    """The HTTP API under /api/v1 (gridline/api) for the centre's other systems."""

    requests_per_minute: int = Field(default=600, ge=1)  # per API key, a fixed one-minute window
    max_page_size: int = Field(default=100, ge=1)


class WorkerConfig(BaseModel):
    """The in-process lifecycle worker (gridline/worker, `gridline-inprocess`)."""

    threads: int = Field(default=4, ge=1)  # executions at once; `prefect worker start --limit`
    # Bounds after which the worker drains and exits 0 for its supervisor to restart it.
    max_executions: int = Field(default=5000, ge=1)
    max_rss_mib: int = Field(default=1024, ge=64)
    # A deployment read serves this long for resumes (never for a run created after the read).
    deployment_cache_seconds: float = Field(default=10, ge=0)
    # A run of the pool Pending longer than this was claimed by a worker that died before starting
    # it: any worker of the pool schedules it again.
    pending_timeout_seconds: int = Field(default=120, ge=1)


class CallbackPolicy(BaseModel):
    """A customer not reached at callback (联系不上) is called again: 95598 practice is three
    tries at different times of day."""

    tries: int = Field(default=3, ge=1)  # calls in all before the ticket closes as unreachable
    retry_minutes: float = Field(default=120, gt=0)  # between one try and the next


class SurveyConfig(BaseModel):
    """Satisfaction surveys by SMS (tasks/surveys): the campaigns, and the SMS platform's uplink."""

    campaigns_file: Path | None = None  # None: models/data/surveys.yaml
    # Shared with the SMS platform: it signs each uplink (X-Gridline-Signature, as our webhooks
    # are signed). None: the uplink endpoint refuses every request.
    uplink_secret: str | None = None
    uplink_max_skew_seconds: int = Field(default=300, ge=1)  # a signed request older is refused


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRIDLINE_", env_file=".env", extra="ignore",
                                      env_nested_delimiter="__")

    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'gridline.db'}"
    timezone: str = "Asia/Shanghai"
    # Working hours of a working day; the default counts the whole day, as 95598 norms do.
    workday_start: time = time(0, 0)
    workday_end: time | None = None  # None means midnight at the end of the day
    var_dir: Path = PROJECT_ROOT / "var"
    prefect_port: int = 4200
    # Where `gridline up`'s Prefect server keeps its state: "auto" is a PostgreSQL cluster of its
    # own under var/ when Debian's PostgreSQL is installed (Prefect's SQLite locks under load),
    # else SQLite; "postgresql" insists on the cluster, "sqlite" on SQLite. A server of the
    # centre's own: set PREFECT_SERVER_DATABASE_CONNECTION_URL, which wins.
    prefect_database: Literal["auto", "postgresql", "sqlite"] = "auto"
    # The lifecycle declarations, one YAML page per ticket type; a centre may keep its own.
    lifecycles_dir: Path = PROJECT_ROOT / "flows" / "lifecycles"
    # Lifecycles: a fault ticket of the same area within this window is the same known fault.
    known_fault_window_minutes: int = 120
    callback: CallbackPolicy = CallbackPolicy()  # GRIDLINE_CALLBACK__TRIES, __RETRY_MINUTES
    # A suspended lifecycle run fails after this long; deadlines are the audit's, not this timeout.
    step_wait_days: int = 365
    # How long `step complete` waits for a run that has not reached its wait yet.
    resume_wait_seconds: int = 60
    # The ticket's story in the Prefect UI (log lines, tags, artifact); off only to measure it.
    story: bool = True
    # Nested settings read as GRIDLINE_SMTP__HOST, GRIDLINE_SMS__URL, GRIDLINE_OUTBOX__MAX_ATTEMPTS...
    smtp: SmtpConfig = SmtpConfig()
    sms: SmsConfig = SmsConfig()
    outbox: DeliveryPolicy = DeliveryPolicy()
    audit: AuditPolicy = AuditPolicy()
    audit_dir: Path = PROJECT_ROOT / "var" / "audit"  # the daily statistics workbooks
    import_dir: Path = PROJECT_ROOT / "var" / "inbox"  # marketing-system exports picked up here
    import_mapping: Path | None = None  # YAML of the export's column headers, if not the default
    # Targets, shift templates, rest rules and alert levels; None: models/data/workforce.yaml.
    workforce_file: Path | None = None
    portal: PortalConfig = PortalConfig()
    api: ApiConfig = ApiConfig()
    worker: WorkerConfig = WorkerConfig()
    surveys: SurveyConfig = SurveyConfig()  # GRIDLINE_SURVEYS__UPLINK_SECRET, __CAMPAIGNS_FILE


def get_settings() -> Settings:
    """Read the settings afresh, so that a changed environment (tests, CLI) is always honoured."""
    return Settings()
