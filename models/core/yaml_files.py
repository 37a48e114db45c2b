"""A YAML data file read as a pydantic model, with one Chinese error naming the file, the line and
the field."""

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from models.core.errors import InputError, input_error, line_of

M = TypeVar("M", bound=BaseModel)


def read_model_file(path: Path, model: type[M], what: str, key: str) -> M:
    """`path` validated as `model`; `what` names the file for the user (e.g. 指标文件), `key` the
    field of the error when the file itself cannot be read."""
    try:
        text = path.read_text("utf-8")
        return model.model_validate(yaml.safe_load(text))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(key, f"{what}无法读取", f"{path}: {exc}") from None
    except ValidationError as exc:
        error = input_error(exc, model)
        line = line_of(yaml.compose(text), tuple(error.field.split(".")))
        raise InputError(f"{path.name}:{line}: {error.field}", f"{what}无效（{error.zh}）",
                         error.en) from None
