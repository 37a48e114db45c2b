"""One page of a long list, with how many rows the whole list holds."""

from typing import Any, NamedTuple


class Listing(NamedTuple):
    rows: list[Any]
    total: int
