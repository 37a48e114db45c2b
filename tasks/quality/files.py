"""The quality data files (flows/quality_data: scorecards, plans, indicator appeal rules) as read,
and a scorecard revision stored the first time a result is scored against it."""

from datetime import date, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from models.core.paths import PROJECT_ROOT
from models.quality.indicator_rules import IndicatorRule, read_rules
from models.quality.sampling import Plan, read_plans
from models.quality.scorecard import CardText, in_force, read_scorecards
from models.quality.tables import ScorecardRevision

QUALITY_DIR = PROJECT_ROOT / "flows" / "quality_data"


def plans(folder: Path = QUALITY_DIR) -> dict[str, Plan]:
    return read_plans(folder / "plans.yaml")


def plan(key: str, folder: Path = QUALITY_DIR) -> Plan:
    found = plans(folder).get(key)
    if found is None:
        raise LookupError(key)
    return found


def indicator_rules(folder: Path = QUALITY_DIR) -> dict[str, IndicatorRule]:
    return read_rules(folder / "indicator_appeals.yaml")


def card_in_force(session: Session, key: str, day: date, now: datetime,
                  folder: Path = QUALITY_DIR) -> CardText:
    """The revision of card `key` valid on `day`, stored if this is its first use."""
    revisions = read_scorecards(folder / "scorecards").get(key)
    if not revisions:
        raise LookupError(key)
    found = in_force(revisions, day)
    if session.get(ScorecardRevision, found.revision) is None:
        session.add(ScorecardRevision(revision=found.revision, key=found.card.key,
                                      title=found.card.title, valid_from=found.card.valid_from,
                                      text=found.text, first_seen_at=now))
        session.flush()
    return found
