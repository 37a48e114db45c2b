"""Indicators as data (models/data/indicators.yaml): a name, a Chinese label, the named aggregation
that computes it, how its figure reads and what its rows are counted at. Pure: no database here."""

from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from models.core.errors import InputError
from models.core.yaml_files import read_model_file

DEFAULT_FILE = Path(__file__).parents[1] / "data" / "indicators.yaml"


class Kind(StrEnum):
    count = "count"      # num
    ratio = "ratio"      # num / den, shown as a percentage
    minutes = "minutes"  # num / den: an average of minutes


class Subject(StrEnum):
    ticket = "ticket"  # counted at the ticket's region (and its latest step's department)
    step = "step"      # counted at the step's department
    call = "call"      # the centre's telephony: centre-wide, not per unit


class Indicator(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=r"^[a-z_]+$")
    label: str
    aggregation: str
    kind: Kind
    subject: Subject
    dimensions: tuple[str, ...] = ()


class IndicatorSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    indicators: list[Indicator]

    def get(self, key: str) -> Indicator:
        for indicator in self.indicators:
            if indicator.key == key:
                return indicator
        raise InputError("indicator", f"没有这个指标：{key}", f"no indicator {key!r}")


def figure(kind: Kind, num: float, den: float) -> float | None:
    """The figure a row shows: None where a ratio or average has nothing to divide."""
    if kind == Kind.count:
        return num
    return num / den if den else None


def load_indicators(path: Path | None = None, known: set[str] | None = None) -> IndicatorSet:
    """The indicator file, checked; every aggregation it names must be in `known`."""
    path = path or DEFAULT_FILE
    found = read_model_file(path, IndicatorSet, "指标文件", "indicators")
    keys = [i.key for i in found.indicators]
    if len(keys) != len(set(keys)):
        raise InputError("indicators", "指标名称重复", f"{path.name}: duplicate indicator keys")
    for indicator in found.indicators:
        if known is not None and indicator.aggregation not in known:
            raise InputError(f"{path.name}: {indicator.key}", f"未注册的统计口径：{indicator.aggregation}",
                             f"no aggregation {indicator.aggregation!r} is registered")
    return found
