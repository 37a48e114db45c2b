"""Message templates (jinja2 files under templates/): every one is parsed when they are loaded, so a
broken template stops start-up, not a reminder at 3 a.m."""

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateError,
    select_autoescape,
)

from models.core.formatting import local_time, mask_phone
from models.core.paths import TEMPLATES_DIR
from models.messaging.outbox import MessageChannel


class TemplateProblem(ValueError):
    pass


CLAUSE_END = "。，、；：！？.,;:!? \n"


def shorten(text: str, width: int = 40) -> str:
    """A customer's words cut to fit a message; the template adds its own punctuation after them,
    so theirs is dropped from the end (no "两个小时。，请于")."""
    text = text.strip().rstrip(CLAUSE_END)
    return text if len(text) <= width else text[:width] + "…"


@lru_cache(maxsize=4)
def load_templates(timezone: str, folder: Path = TEMPLATES_DIR) -> Environment:
    env = Environment(
        loader=FileSystemLoader(folder),
        undefined=StrictUndefined,  # a missing variable is an error, never an empty hole
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,  # loaded once and checked at start-up; no stat() per message
    )
    env.filters["mask_phone"] = mask_phone
    env.filters["local_time"] = lambda value: local_time(value, timezone)
    env.filters["shorten"] = shorten
    for name in env.list_templates(extensions=["txt", "html"]):
        try:
            env.get_template(name)
        except TemplateError as exc:
            raise TemplateProblem(f"template {name}: {exc}") from exc
    return env


@lru_cache(maxsize=4)
def template_names(folder: Path = TEMPLATES_DIR) -> frozenset[tuple[str, str]]:
    """(channel, name) of every message template: sms/<name>.txt and email/<name>.txt."""
    return frozenset((channel.value, path.stem) for channel in MessageChannel
                     for path in (folder / channel.value).glob("*.txt"))


@lru_cache(maxsize=64)
def _html_template(env: Environment, template: str) -> Template:
    """Chosen once per template: a missing file costs a failed look-up on disk every time."""
    return env.select_template([f"email/{template}.html", "email/layout.html"])


def render(env: Environment, channel: MessageChannel, template: str,
           context: dict[str, Any]) -> tuple[str | None, str, str | None]:
    """(subject, text, html) of one message.

    An e-mail is `email/<template>.txt`, whose subject is its `{% set subject %}`; its HTML part is
    `email/<template>.html` where one exists, else the text in the common `email/layout.html`.
    A `ticket_url` in the context ends the text with the link (the layout shows it as one).
    """
    try:
        if channel == MessageChannel.sms:
            return None, env.get_template(f"sms/{template}.txt").render(context).strip(), None
        module = env.get_template(f"email/{template}.txt").make_module(context)  # rendered once
        text, subject = str(module).strip(), str(module.subject).strip()
        if context.get("ticket_url"):
            text = f"{text}\n\n查看工单：{context['ticket_url']}"
        html = _html_template(env, template).render(
            {**context, "subject": subject, "text": text}).strip()
        return subject, text, html
    except TemplateError as exc:
        raise TemplateProblem(f"template {channel.value}/{template}: {exc}") from exc
