"""Survey campaigns as data (models/data/surveys.yaml or GRIDLINE_SURVEYS__CAMPAIGNS_FILE): which
closed tickets are sampled, at what rate per stratum, when the SMS goes out and how long a reply
counts. The draw is a seeded hash of the ticket's number, so the stored seed redraws the same
sample whenever it is asked."""

import hashlib
from datetime import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.core.enums import Channel, TicketType
from models.core.paths import PROJECT_ROOT
from models.core.yaml_files import read_model_file

DEFAULT_FILE = PROJECT_ROOT / "models" / "data" / "surveys.yaml"


class Stratum(BaseModel):
    """A part of the population with its own rate: tickets of these types and/or units."""

    model_config = ConfigDict(extra="forbid")

    types: list[TicketType] = []
    units: list[str] = []  # region codes; a ticket of a region under one of them belongs
    rate: float = Field(ge=0, le=1)


class FollowUp(BaseModel):
    """The ticket an unsatisfied answer opens: a complaint review or a re-visit."""

    model_config = ConfigDict(extra="forbid")

    type: TicketType = TicketType.complaint
    subtype: str = Field("满意度复核", max_length=50)


class Campaign(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z0-9_-]{1,40}$")
    name: str = Field(min_length=1, max_length=50)
    types: list[TicketType] = []  # empty: every type
    units: list[str] = []  # region codes; empty: every unit
    channels: list[Channel] = []  # how the ticket came in; empty: every channel
    rate: float = Field(ge=0, le=1)  # for a ticket no stratum claims
    strata: list[Stratum] = []  # the first that matches gives the rate
    delay_hours: float = Field(2, ge=0)  # after closing, before the SMS
    window_days: int = Field(7, ge=1)  # tickets closed longer ago than this are not drawn
    valid_hours: float = Field(48, gt=0)  # a reply later than this after sending is late
    quiet_start: time = time(21, 0)  # no survey SMS between these (Asia/Shanghai): postponed
    quiet_end: time = time(8, 0)
    repeat_days: int = Field(30, ge=0)  # nobody (by phone) surveyed twice within this many days
    seed: int = Field(ge=0)
    follow_up: FollowUp = FollowUp()

    def covers(self, ticket_type: TicketType, channel: Channel, units: frozenset[str]) -> bool:
        """`units`: the codes of the ticket's region and every region above it."""
        return ((not self.types or ticket_type in self.types)
                and (not self.channels or channel in self.channels)
                and (not self.units or bool(units & set(self.units))))

    def rate_for(self, ticket_type: TicketType, units: frozenset[str]) -> float:
        for stratum in self.strata:
            if (not stratum.types or ticket_type in stratum.types) \
                    and (not stratum.units or units & set(stratum.units)):
                return stratum.rate
        return self.rate


class CampaignSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    campaigns: list[Campaign] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self):
        keys = [c.key for c in self.campaigns]
        if len(keys) != len(set(keys)):
            raise ValueError("campaign keys must be unique")
        return self


def load_campaigns(path: Path | None = None) -> list[Campaign]:
    """The campaigns of `path` (default models/data/surveys.yaml); a bad file raises one
    InputError naming the file, line and field."""
    return read_model_file(path or DEFAULT_FILE, CampaignSet, "满意度调查配置", "campaigns").campaigns


def draw_value(seed: int, campaign: str, ticket_number: str) -> float:
    """A number in [0, 1) fixed by the seed, the campaign and the ticket: drawn when below the
    rate. The same seed always gives the same sample, whatever order tickets are met in."""
    digest = hashlib.sha256(f"{seed}:{campaign}:{ticket_number}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64
