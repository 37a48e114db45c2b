"""Call-volume forecast per interval: day level x intraday profile, with China's holidays. Pure.

A day's volume is a reference level (recent normal days) times the factor of its kind of day
(workday or rest day, by day of the week; or statutory holiday), spread over the day by the
intraday profile of its kind. Days of a loaded official schedule take their kind from it, so a year
the package does not know yet is planned with its holidays once an admin loads them. Spike days
(outages) are left out of every estimate, so one storm does not raise next week's plan. The
back-test replays the last weeks as if each were the future.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar
import numpy as np

DayKinds = Mapping[date, str]  # loaded official schedules' days by kind; they win over the package


def override_kind(day: date, is_working: bool, note: str) -> str:
    """The kind of a day of a loaded schedule: a working day is a workday; a named day off
    (`2027-02-06,休,春节`) or one in mid-week is a holiday; an unnamed weekend day a restday."""
    if is_working:
        return "workday"
    return "holiday" if note or day.weekday() < 5 else "restday"


def day_kind(day: date, local: DayKinds | None = None) -> str:
    """holiday (statutory, including its weekend days), workday (including adjusted weekend
    working days) or restday; years the library does not know count Monday-Friday."""
    if local and day in local:
        return local[day]
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
        if on_holiday and name is not None:
            return "holiday"
        return "workday" if chinese_calendar.is_workday(day) else "restday"
    except NotImplementedError:
        return "workday" if day.weekday() < 5 else "restday"


def _key(day: date, local: DayKinds | None) -> tuple[str, int]:
    kind = day_kind(day, local)
    return (kind, -1) if kind == "holiday" else (kind, day.weekday())


@dataclass(frozen=True)
class History:
    """Calls per day (rows, consecutive local days from `first_day`) and interval (columns)."""

    first_day: date
    counts: np.ndarray

    def day(self, i: int) -> date:
        return self.first_day + timedelta(days=i)

    def until(self, day: date) -> "History":
        return History(self.first_day, self.counts[: (day - self.first_day).days])


@dataclass(frozen=True)
class DayModel:
    reference: float                          # mean daily calls of recent normal days
    factors: dict[tuple[str, int], float]     # day key -> daily calls / reference
    kind_factors: dict[str, float]            # fallback for a key never seen
    profiles: dict[str, np.ndarray]           # day kind -> share of the day per interval
    slots: int
    local: DayKinds | None = None

    def predict(self, day: date) -> np.ndarray:
        key = _key(day, self.local)
        factor = self.factors.get(key, self.kind_factors.get(key[0], 1.0))
        profile = self.profiles.get(key[0], self.profiles.get("all"))
        return self.reference * factor * profile


def _spike_days(totals: np.ndarray, keys: list, spike_ratio: float) -> np.ndarray:
    """Days far above the median of their own kind of day: outages, not seasonality."""
    spikes = np.zeros(len(totals), dtype=bool)
    for key in set(keys):
        idx = np.array([i for i, k in enumerate(keys) if k == key])
        spikes[idx] = totals[idx] > spike_ratio * np.median(totals[idx])
    return spikes


def fit(history: History, *, local: DayKinds | None = None, window_days: int = 56,
        reference_days: int = 28, spike_ratio: float = 1.5) -> DayModel:
    counts, slots = history.counts, history.counts.shape[1]
    keys = [_key(history.day(i), local) for i in range(len(counts))]
    totals = counts.sum(axis=1).astype(float)
    normal = ~_spike_days(totals, keys, spike_ratio)
    ordinary = np.array([k[0] != "holiday" for k in keys]) & normal

    def reference_before(end: int) -> float:
        days = [i for i in range(max(0, end - reference_days), end) if ordinary[i]]
        return float(totals[days].mean()) if days else 0.0

    reference = reference_before(len(counts))
    recent = range(max(0, len(counts) - window_days), len(counts))
    ratios: dict[tuple[str, int], list[float]] = {}
    # Holidays are rare: every one in the history counts, against the level just before it.
    for i in range(len(counts)):
        if normal[i] and (i in recent or keys[i][0] == "holiday"):
            base = reference_before(i) if keys[i][0] == "holiday" else reference
            if base > 0:
                ratios.setdefault(keys[i], []).append(totals[i] / base)
    factors = {key: float(np.mean(r)) for key, r in ratios.items()}
    kind_factors = {kind: float(np.mean([f for k, f in factors.items() if k[0] == kind]))
                    for kind in {k[0] for k in factors}}

    profiles = {}
    for kind in ("workday", "restday", "holiday", "all"):
        days = [i for i in range(len(counts)) if normal[i] and (kind == "all" or keys[i][0] == kind)
                and (i in recent or kind == "holiday")]
        summed = counts[days].sum(axis=0).astype(float)
        if summed.sum() > 0:
            profiles[kind] = summed / summed.sum()
    profiles.setdefault("all", np.full(slots, 1.0 / slots))
    return DayModel(reference, factors, kind_factors, profiles, slots, local)


def forecast(history: History, start: date, days: int, local: DayKinds | None = None) -> np.ndarray:
    model = fit(history, local=local)
    return np.array([model.predict(start + timedelta(days=d)) for d in range(days)])


@dataclass(frozen=True)
class Backtest:
    mape: float          # this model, over intervals with calls in the held-out weeks
    naive_mape: float    # the same interval one week earlier
    intervals: int


def backtest(history: History, weeks: int = 2, local: DayKinds | None = None) -> Backtest:
    """Forecast each of the last `weeks` weeks from the history before it; score both models."""
    n = len(history.counts)
    start = n - 7 * weeks
    if start < 7:
        raise ValueError("history too short for a back-test")
    errors, naive_errors = [], []
    for week in range(weeks):
        first = start + 7 * week
        predicted = forecast(history.until(history.day(first)), history.day(first), 7, local)
        actual = history.counts[first:first + 7].astype(float)
        naive = history.counts[first - 7:first].astype(float)
        seen = actual > 0
        errors.append(np.abs(predicted - actual)[seen] / actual[seen])
        naive_errors.append(np.abs(naive - actual)[seen] / actual[seen])
    errors, naive_errors = np.concatenate(errors), np.concatenate(naive_errors)
    return Backtest(float(errors.mean()), float(naive_errors.mean()), len(errors))
