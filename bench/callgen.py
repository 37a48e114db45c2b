"""Generated call history of a 95598 centre, with a fixed seed: intraday peaks, a weekly cycle,
China's holidays, slow growth and an outage day that floods the fault-repair queues.

    python bench/callgen.py --groups 3 --from 2026-09-01 --to 2026-11-16 --scale 0.1 > calls.csv
"""

import argparse
import csv
import sys
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from models.workforce.forecast import History, day_kind

SLOTS = 48
GROUP_NAMES = ["咨询查询", "故障报修", "投诉举报", "用电业务", "意见建议", "电费缴纳", "停电查询",
               "表计业务", "新装增容", "欠费复电"]
DOW = np.array([1.15, 1.05, 1.0, 1.0, 0.95, 0.8, 0.75])  # Monday first
KIND_LEVEL = {"workday": 1.0, "restday": 1.0, "holiday": 0.6}


def _bump(centre_hour: float, width_hours: float) -> np.ndarray:
    hours = (np.arange(SLOTS) + 0.5) / 2
    return np.exp(-0.5 * ((hours - centre_hour) / width_hours) ** 2)


def _profile(kind: str) -> np.ndarray:
    """Night trough, morning and afternoon peaks on workdays; a later, flatter day off."""
    if kind == "workday":
        shape = 0.08 + _bump(10, 1.3) + 0.85 * _bump(15, 1.6) + 0.35 * _bump(20, 1.5)
    else:
        shape = 0.1 + 0.7 * _bump(10.5, 2.0) + 0.7 * _bump(15.5, 2.2) + 0.4 * _bump(20, 1.8)
    return shape / shape.sum()


def group_names(groups: int) -> list[str]:
    return [GROUP_NAMES[g % len(GROUP_NAMES)] + ("" if g < len(GROUP_NAMES) else str(g // 10 + 1))
            for g in range(groups)]


def generate(groups: int, first: date, last: date, *, scale: float = 1.0, seed: int = 95598,
             outage: date | None = None) -> dict[str, History]:
    """Calls per group, day and 30-minute interval from `first` to `last` inclusive."""
    rng = np.random.default_rng(seed)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    outage = outage or days[len(days) * 9 // 10]
    out = {}
    for name in group_names(groups):
        daily = scale * rng.uniform(300, 1500)
        faults = name.startswith(("故障", "停电"))
        rows = []
        for i, day in enumerate(days):
            kind = day_kind(day)
            growth = 1 + 0.05 * i / 365  # five percent a year
            level = daily * growth * KIND_LEVEL[kind] * (DOW[day.weekday()] if kind != "holiday" else 1)
            level *= rng.gamma(400, 1 / 400)  # day-to-day weather of a few percent
            mean = level * _profile(kind)
            if day == outage and faults:  # a storm takes lines down in the afternoon
                mean = mean * (1 + 4 * _bump(16, 2.5))
            rows.append(rng.poisson(mean))
        out[name] = History(first, np.array(rows))
    return out


def records(histories: dict[str, History], tz: str = "Asia/Shanghai", seed: int = 95598):
    """The histories as individual call records, in the import file's columns."""
    rng = np.random.default_rng(seed)
    zone = ZoneInfo(tz)
    for name, history in histories.items():
        for d, row in enumerate(history.counts):
            day = history.day(d)
            for slot, n in enumerate(row):
                start = datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(minutes=30 * slot)
                for k in range(int(n)):
                    wait = float(rng.exponential(12))
                    answered = wait < 60 or rng.random() < 0.5
                    yield {
                        "call_id": f"{name}-{day:%Y%m%d}-{slot:02d}-{k}",
                        "offered_at": (start + timedelta(seconds=float(rng.uniform(0, 1800)))).isoformat(),
                        "group": name,
                        "answered": "1" if answered else "0",
                        "wait_s": f"{wait:.0f}",
                        "talk_s": f"{rng.gamma(4, 35):.0f}" if answered else "0",
                        "wrap_s": f"{rng.gamma(3, 10):.0f}" if answered else "0",
                    }


def write_csv(histories: dict[str, History], handle) -> None:
    """The call records as the CSV file `gridline calls import` reads."""
    rows = records(histories)
    first = next(rows)
    writer = csv.DictWriter(handle, fieldnames=list(first))
    writer.writeheader()
    writer.writerow(first)
    writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=3)
    parser.add_argument("--from", dest="first", type=date.fromisoformat, default=date(2026, 9, 1))
    parser.add_argument("--to", dest="last", type=date.fromisoformat, default=date(2026, 11, 16))
    parser.add_argument("--scale", type=float, default=0.1)
    args = parser.parse_args()
    write_csv(generate(args.groups, args.first, args.last, scale=args.scale), sys.stdout)

if __name__ == "__main__":
    main()
