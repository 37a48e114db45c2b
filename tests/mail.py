"""What the loopback SMTP sink (gridline/sinks.py) received, as the tests read it."""

from email import message_from_bytes, policy
from pathlib import Path


def read_mail(folder: Path) -> list:
    return [message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in sorted(folder.glob("*.eml"))]
