"""Scorecards (质检评分表) as versioned data: items with weights and criteria, veto items
(一票否决), a pass mark, valid from a date. A card's revision is the hash of its text, so a result
names exactly the card it was scored against; `score` is pure."""

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from models.core.errors import InputError, input_error, line_of


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str = Field(min_length=1)
    weight: float = Field(ge=0)  # a veto item may weigh nothing: it only fails the whole
    criteria: str = Field(min_length=1)
    veto: bool = False


class Scorecard(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str = Field(min_length=1)
    pass_mark: float = Field(ge=0, le=100)
    valid_from: date
    items: list[Item] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_keys(self) -> "Scorecard":
        keys = [item.key for item in self.items]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise InputError("items", f"评分项重复：{'、'.join(twice)}", f"duplicate items {twice}")
        if not sum(item.weight for item in self.items):
            raise InputError("items", "评分项权重之和须大于0", "the weights sum to zero")
        return self


@dataclass(frozen=True)
class CardText:
    """A scorecard with the text it was read from and that text's hash (its revision)."""

    card: Scorecard
    text: str
    revision: str


def revision_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def parse_scorecard(text: str, name: str = "scorecard") -> CardText:
    """The card of one YAML text, or one InputError naming the file and line of the bad field."""
    try:
        node = yaml.compose(text)
        card = Scorecard.model_validate(yaml.safe_load(text))
    except yaml.YAMLError as exc:
        raise InputError(name, "评分表无法读取", str(exc)) from None
    except ValidationError as exc:
        error = input_error(exc, Scorecard)
        loc = tuple(error.field.split(".")) if error.field != "input" else ()
        raise InputError(f"{name}:{line_of(node, loc)}: {error.field}",
                         f"评分表无效（{error.zh}）", error.en) from None
    return CardText(card, text, revision_of(text))


def read_scorecards(folder: Path) -> dict[str, list[CardText]]:
    """Every card of the folder by key, each key's revisions ordered by valid_from."""
    cards: dict[str, list[CardText]] = {}
    for path in sorted(folder.glob("*.yaml")):
        found = parse_scorecard(path.read_text("utf-8"), path.name)
        cards.setdefault(found.card.key, []).append(found)
    for revisions in cards.values():
        revisions.sort(key=lambda c: c.card.valid_from)
    return cards


def in_force(revisions: list[CardText], day: date) -> CardText:
    """The revision valid on `day`: the latest whose valid_from is not after it."""
    valid = [c for c in revisions if c.card.valid_from <= day]
    if not valid:
        raise InputError("scorecard", f"{day} 没有生效的评分表", f"no revision valid on {day}")
    return valid[-1]


@dataclass(frozen=True)
class Score:
    total: float        # weighted, 0..100, one decimal
    vetoed: list[str]   # the veto items not met: each fails the whole
    passed: bool


def score(card: Scorecard, answers: dict[str, bool]) -> Score:
    """answers: item key -> met. One answer per item, none missing, none unknown."""
    keys = {item.key for item in card.items}
    missing = [item.title for item in card.items if item.key not in answers]
    if missing:
        raise InputError("answers", f"请为每一项评分，未评：{'、'.join(missing)}",
                         f"unanswered items: {missing}")
    unknown = sorted(set(answers) - keys)
    if unknown:
        raise InputError("answers", "评分表没有这些项", f"unknown items {unknown}")
    weights = sum(item.weight for item in card.items)
    met = sum(item.weight for item in card.items if answers[item.key])
    total = round(100 * met / weights, 1)
    vetoed = [item.key for item in card.items if item.veto and not answers[item.key]]
    return Score(total, vetoed, not vetoed and total >= card.pass_mark)
