"""Generated call history of a 95598 centre, with a fixed seed: intraday peaks, a weekly cycle,
China's holidays, slow growth and an outage day that floods the fault-repair queues. Pure.

The benchmarks (bench/callgen.py, bench/workforce.py) plan on it, and the demo centre's
telephony (tasks/demo/workforce.py) is made of it.
"""

from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from models.workforce.forecast import History, day_kind

SLOTS = 48
GROUP_NAMES = ["咨询查询", "故障报修", "投诉举报", "用电业务", "意见建议", "电费缴纳", "停电查询",
               "表计业务", "新装增容", "欠费复电"]
DOW = np.array([1.15, 1.05, 1.0, 1.0, 0.95, 0.8, 0.75])  # Monday first
KIND_LEVEL = {"workday": 1.0, "restday": 1.0, "holiday": 0.6}
HANDLE_S = 4 * 35 + 3 * 10  # mean talk plus wrap-up of an answered call, as drawn below


def _bump(centre_hour: float, width_hours: float) -> np.ndarray:
    hours = (np.arange(SLOTS) + 0.5) / 2
    return np.exp(-0.5 * ((hours - centre_hour) / width_hours) ** 2)


def profile(kind: str) -> np.ndarray:
    """Night trough, morning and afternoon peaks on workdays; a later, flatter day off."""
    if kind == "workday":
        shape = 0.08 + _bump(10, 1.3) + 0.85 * _bump(15, 1.6) + 0.35 * _bump(20, 1.5)
    else:
        shape = 0.1 + 0.7 * _bump(10.5, 2.0) + 0.7 * _bump(15.5, 2.2) + 0.4 * _bump(20, 1.8)
    return shape / shape.sum()


def group_names(groups: int) -> list[str]:
    return [GROUP_NAMES[g % len(GROUP_NAMES)] + ("" if g < len(GROUP_NAMES) else str(g // 10 + 1))
            for g in range(groups)]


def is_fault_group(name: str) -> bool:
    return name.startswith(("故障", "停电"))


def day_counts(rng: np.random.Generator, daily: float, first: date, last: date, *,
               outage: date | None = None) -> History:
    """One group's calls per day and 30-minute interval from `first` to `last` inclusive, about
    `daily` a normal weekday; `outage`, if given, floods its afternoon."""
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    rows = []
    for i, day in enumerate(days):
        kind = day_kind(day)
        growth = 1 + 0.05 * i / 365  # five percent a year
        level = daily * growth * KIND_LEVEL[kind] * (DOW[day.weekday()] if kind != "holiday" else 1)
        level *= rng.gamma(400, 1 / 400)  # day-to-day weather of a few percent
        mean = level * profile(kind)
        if day == outage:  # a storm takes lines down in the afternoon
            mean = mean * (1 + 4 * _bump(16, 2.5))
        rows.append(rng.poisson(mean))
    return History(first, np.array(rows))


def generate(groups: int, first: date, last: date, *, scale: float = 1.0, seed: int = 95598,
             outage: date | None = None) -> dict[str, History]:
    """Calls per group, day and 30-minute interval from `first` to `last` inclusive; the fault
    groups' outage is nine tenths of the way through unless given."""
    rng = np.random.default_rng(seed)
    outage = outage or first + timedelta(days=((last - first).days + 1) * 9 // 10)
    out = {}
    for name in group_names(groups):
        daily = scale * rng.uniform(300, 1500)
        out[name] = day_counts(rng, daily, first, last,
                               outage=outage if is_fault_group(name) else None)
    return out


def records(histories: dict[str, History], tz: str = "Asia/Shanghai", seed: int = 95598,
            handle_s: Mapping[str, float] | None = None,
            abandon_after_s: float = 60) -> Iterator[dict[str, str]]:
    """The histories as individual call records, in the import file's columns; `handle_s` gives
    a group's mean talk plus wrap-up seconds (else HANDLE_S). Waits are 12 s on average; half
    the callers who wait `abandon_after_s` or longer hang up."""
    rng = np.random.default_rng(seed)
    zone = ZoneInfo(tz)
    for name, history in histories.items():
        stretch = (handle_s or {}).get(name, HANDLE_S) / HANDLE_S
        for d, row in enumerate(history.counts):
            day = history.day(d)
            for slot, n in enumerate(row):
                start = datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(minutes=30 * slot)
                for k in range(int(n)):
                    wait = float(rng.exponential(12))
                    answered = wait < abandon_after_s or rng.random() < 0.5
                    yield {
                        "call_id": f"{name}-{day:%Y%m%d}-{slot:02d}-{k}",
                        "offered_at": (start + timedelta(seconds=float(rng.uniform(0, 1800)))).isoformat(),
                        "group": name,
                        "answered": "1" if answered else "0",
                        "wait_s": f"{wait:.0f}",
                        "talk_s": f"{rng.gamma(4, 35 * stretch):.0f}" if answered else "0",
                        "wrap_s": f"{rng.gamma(3, 10 * stretch):.0f}" if answered else "0",
                    }
