"""指标申诉 rules: which department kind answers an appeal against an indicator, within how many
working days."""

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from models.core.enums import DepartmentKind
from models.core.yaml_files import read_model_file


class IndicatorRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    indicator: str
    department: DepartmentKind
    days: int = Field(ge=1, le=60)


class RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[IndicatorRule]


def read_rules(path: Path) -> dict[str, IndicatorRule]:
    return {r.indicator: r for r in read_model_file(path, RuleFile, "指标申诉规则文件", "rules").rules}
