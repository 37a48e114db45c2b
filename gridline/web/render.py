"""How the pages look: times, deadlines and urgency in Asia/Shanghai and Chinese, and the renderer
every route answers with."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates

from flows.lifecycle import lifecycles
from gridline.web.auth import LoginThrottle, client_address, csrf_token, trusted_networks
from models.audit.assessment import AuditStage, stage_of
from models.core.enums import DepartmentKind, StepStatus, TicketType
from models.core.formatting import local_time, mask_phone, span_text
from models.core.paths import TEMPLATES_DIR
from models.tickets.lifecycle import StepKind
from models.tickets.ticket import Ticket
from tasks.core.settings import Settings
from tasks.org.scope import Scope

TEMPLATES = TEMPLATES_DIR / "portal"
COLOURS = {None: "green", AuditStage.about_to_expire: "amber", AuditStage.overdue: "red"}


@dataclass(frozen=True)
class Signal:
    """A deadline's colour and words, the one rule every page and the search export use:
    green, amber (about to expire) or red (overdue) by the audit's own stages and the clock's own
    warning window; grey "met" once met, grey "none" without a deadline (never green)."""

    colour: str
    text: str


def signal(due: datetime | None, now: datetime, warn: timedelta,
           met_at: datetime | None = None) -> Signal:
    if met_at is not None:
        return Signal("met", "已完成")
    if due is None:
        return Signal("none", "无期限")
    return Signal(COLOURS[stage_of(due, warn, now)], time_left(due, now))


def time_left(due: datetime, now: datetime) -> str:
    """As the reminders say it (span_text), so the portal and the SMS agree."""
    return f"已超期 {span_text(now - due)}" if due <= now else f"剩余 {span_text(due - now)}"


def step_warning(step, default: timedelta) -> timedelta:
    """A step runs against the ticket's clock due when it is: that clock's warning window, so a
    step and its clock show one colour; the portal's default for a step without one."""
    for clock in step.ticket.clocks:
        if clock.met_at is None and clock.due_at == step.due_at:
            return timedelta(minutes=clock.warn_minutes)
    return default


def make_templates(settings: Settings, directory: Path = TEMPLATES) -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(directory))
    templates.env.auto_reload = False  # pages ship with the release: no file stat per render
    templates.env.filters["local_time"] = lambda value: local_time(value, settings.timezone)
    templates.env.filters["mask_phone"] = mask_phone
    warning = timedelta(hours=settings.portal.expiry_warning_hours)
    templates.env.globals["warning"] = warning
    templates.env.globals["minutes"] = lambda count: timedelta(minutes=count)
    templates.env.globals["signal"] = signal
    templates.env.globals["step_signal"] = lambda step, now: signal(
        step.due_at, now, step_warning(step, warning),
        step.completed_at if step.status != StepStatus.open else None)
    return templates


class Portal:
    """One portal app's settings, clock and templates: what its routes render pages with; and its
    login limiter and trusted proxies (read once: a bad proxy setting stops the start)."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime]):
        self.settings, self.clock = settings, clock
        self.templates = make_templates(settings)
        config = settings.portal
        self.throttle = LoginThrottle(config.login_max_failures,
                                      config.login_max_failures_per_address,
                                      config.login_window_seconds, clock)
        self.proxies = trusted_networks(config.trusted_proxies)
        # Looked up for every inbox row: from the declarations once, not the settings each time.
        self.titles = {(ticket_type, step.key): step.title
                       for ticket_type, spec in lifecycles().items() for step in spec.steps}
        # Steps whose handler must reach the customer: a callback, a repair crew on its way.
        self.calls_customer = {(ticket_type, step.key) for ticket_type, spec in lifecycles().items()
                               for step in spec.steps
                               if step.kind == StepKind.callback or step.to == DepartmentKind.repair}
        self.templates.env.globals["step_title"] = self.step_title
        self.templates.env.globals["may_call_back"] = self.may_call_back

    def step_title(self, ticket_type: TicketType, step_key: str) -> str:
        """The step's title in its lifecycle (a step a newer declaration dropped keeps its key)."""
        return self.titles.get((ticket_type, step_key), step_key)

    def may_call_back(self, scope: Scope, ticket: Ticket) -> bool:
        """May see the caller's full number: the centre (agents, supervisors, admins), and the
        handler of an open step of the ticket that needs the customer."""
        return scope.calls_back or any(
            step.status == StepStatus.open and scope.acts_on(step)
            and (ticket.type, step.step_key) in self.calls_customer for step in ticket.steps)

    def client(self, request: Request) -> str:
        """The client's address, as the login limiter counts it."""
        return client_address(request, self.proxies)

    def page(self, request: Request, name: str, scope: Scope | None = None,
             status_code: int = 200, **context):
        return self.templates.TemplateResponse(request, name, {
            "me": scope.staff if scope else None, "scope": scope, "csrf": csrf_token(request),
            "flash": request.session.pop("flash", None), "now": self.clock(), **context,
        }, status_code=status_code)
