"""The centre's workforce settings (targets, shift templates, rest rules, alert levels): data,
validated here, read from models/data/workforce.yaml or the file GRIDLINE_WORKFORCE_FILE names."""

from collections.abc import Callable
from dataclasses import replace
from datetime import time
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from models.core.enums import StaffRole
from models.core.errors import InputError, input_error, line_of
from models.workforce.staffing import Target

DEFAULT_FILE = Path(__file__).parents[1] / "data" / "workforce.yaml"


class ShiftTemplate(BaseModel):
    code: str
    name: str
    start: time
    hours: float = Field(gt=0, le=24)


class AlertLevel(BaseModel):
    level: int
    label: str
    threshold: float
    notify: list[StaffRole]


class AlertRule(BaseModel):
    indicator: str
    label: str
    direction: Literal["below", "above"]
    levels: list[AlertLevel]

    def crossed(self, value: float) -> AlertLevel | None:
        """The most severe level the value has crossed, if any."""
        hit = [lv for lv in self.levels
               if (value < lv.threshold if self.direction == "below" else value > lv.threshold)]
        return max(hit, key=lambda lv: lv.level, default=None)


class WorkforceConfig(BaseModel):
    interval_minutes: int = Field(30, gt=0)
    history_days: int = 400
    aht_days: int = 28
    backtest_weeks: int = 2
    default_target: Target = Target()
    groups: dict[str, dict] = {}  # a group's differences from the default target
    shifts: list[ShiftTemplate]
    min_rest_hours: float = 12
    max_shifts_per_week: int = 5
    roster_time_limit_s: float = 30
    handover_at: list[time] = []
    callback_steps: list[str] = ["callback"]
    handover_roles: list[StaffRole] = [StaffRole.agent]
    alerts: list[AlertRule] = []

    @property
    def slots(self) -> int:
        return 24 * 60 // self.interval_minutes

    @model_validator(mode="after")
    def _every_group_target_is_valid(self):
        for group, differences in self.groups.items():  # a bad value fails the load, not a night run
            try:
                replace(self.default_target, **differences)
            except ValidationError as exc:
                error = input_error(exc)
                raise InputError(f"groups.{group}.{error.field}", error.zh, error.en) from None
        return self

    def target(self, group: str) -> Target:
        return replace(self.default_target, **self.groups.get(group, {}))

    def alert(self, indicator: str) -> AlertRule | None:
        return next((a for a in self.alerts if a.indicator == indicator), None)


def load_workforce_config(path: Path | None = None, *,
                          steps: Callable[[], set[str]] | None = None) -> WorkforceConfig:
    """The settings, checked; `callback_steps` must name steps of the lifecycles, whose keys
    `steps` gives (asked once the file itself is valid). A bad value names the file, its line
    and the field."""
    path = path or DEFAULT_FILE
    try:
        text = path.read_text("utf-8")
        root = yaml.compose(text)
        config = WorkforceConfig.model_validate(yaml.safe_load(text))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError("workforce_file", "排班配置文件无法读取", f"{path}: {exc}") from None
    except ValidationError as exc:
        error = input_error(exc, WorkforceConfig)
        raise _bad(path, root, error.field, error.zh, error.en) from None
    known = steps() if steps is not None else set(config.callback_steps)
    for i, key in enumerate(config.callback_steps):
        if key not in known:
            raise _bad(path, root, f"callback_steps.{i}", f"没有这个流程环节：{key}",
                       f"no lifecycle has a step {key!r}")
    return config


def _bad(path: Path, root: yaml.Node | None, field: str, zh: str, en: str) -> InputError:
    line = line_of(root, tuple(field.split(".")))
    return InputError(f"{path.name}:{line}: {field}", f"排班配置无效（{zh}）", en)
