"""The one month-end projection used by 预警, 复盘 and the terminal summary (no I/O).

Distinct active users do not grow in a straight line through a month: people who
come back at all tend to come back early, so the count rises fast and flattens.
The model is the share of the month's final active users already seen by day ``d``
of a ``D``-day month::

    seen(d) = (d / D) ** alpha          projected MAU = MTD active / seen(d)

``alpha = 0.5`` is the documented default curve (on day 10 of 30, 58 % of the
month's users have been seen). It is *uncalibrated* until history can measure it.

What history can measure, honestly: ``month_users`` keeps each user's *last*
activity in a month, which tells who was active *after* day ``d``, not who had been
active *by* day ``d`` — the first-activity curve is not identifiable from it. What
is identifiable is an earlier export of the same month: when a later export
supersedes it, :mod:`tagger.history` keeps that export's (cut-off day, active
users) as a snapshot of the month. With the month's final number, each snapshot
gives one measured ``seen(d)``; ``alpha`` is then fitted (median over snapshots)
and the back-test reports how far the projection from day 10 / 15 / 20 would have
been from the month's final rate, fitted without that month (leave one out).

A projection above the cumulative users is clipped to 100 % and says so
(``clipped``); nothing is capped silently.
"""

from __future__ import annotations

import calendar
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from tagger.pipeline import TagResult

DEFAULT_ALPHA = 0.5
CHECKPOINTS: tuple[int, ...] = (10, 15, 20)
# A snapshot counts for a checkpoint when its cut-off is within this many days of it.
CHECKPOINT_TOLERANCE = 2


@dataclass(frozen=True)
class Snapshot:
    """An earlier export of a stored month: active users by ``day`` and the month's final numbers."""

    month: str
    day: int
    days: int
    active: int
    final_active: int
    final_cumulative: int

    @property
    def seen(self) -> float | None:
        """Measured share of the month's final active users already seen by ``day``."""
        return self.active / self.final_active if self.final_active else None

    @property
    def final_rate(self) -> float | None:
        return self.final_active / self.final_cumulative if self.final_cumulative else None


@dataclass(frozen=True)
class BacktestRow:
    """One stored month: the error of the projection from each checkpoint day (None: no data, 未校准)."""

    month: str
    final_rate: float | None
    errors: dict[int, float | None]


@dataclass(frozen=True)
class Model:
    """The curve exponent and where it came from."""

    alpha: float
    calibrated: bool
    snapshots: int = 0
    backtest: list[BacktestRow] = field(default_factory=list)

    @property
    def mean_abs_error(self) -> float | None:
        """Mean absolute back-test error in rate points over every checkpoint with data."""
        errors = [abs(e) for row in self.backtest for e in row.errors.values() if e is not None]
        return sum(errors) / len(errors) if errors else None


@dataclass(frozen=True)
class MonthEnd:
    """Month-to-date numbers and the projected month end."""

    as_of: pd.Timestamp | None
    day: int
    days: int
    active: int
    cumulative: int
    target: float
    model: Model
    seen: float
    projected_active: int
    clipped: bool

    @property
    def month_complete(self) -> bool:
        return self.day >= self.days

    @property
    def rate(self) -> float | None:
        """Active rate so far (截至 d 日)."""
        return self.active / self.cumulative if self.cumulative else None

    @property
    def projected_rate(self) -> float | None:
        """Projected month-end active rate (预计月末)."""
        return self.projected_active / self.cumulative if self.cumulative else None

    @property
    def current_gap(self) -> float | None:
        return None if self.rate is None else self.rate - self.target

    @property
    def projected_gap(self) -> float | None:
        return None if self.projected_rate is None else self.projected_rate - self.target


def days_in_month(month: str) -> int:
    """Days of a ``YYYY-MM`` month."""
    year, mon = (int(part) for part in month.split("-"))
    return calendar.monthrange(year, mon)[1]


def cutoff(last_active: pd.Series, month: str) -> pd.Timestamp | None:
    """The data's cut-off date: the latest activity inside ``month`` (None when nobody was active in it)."""
    dates = pd.to_datetime(last_active, errors="coerce")
    year, number = (int(part) for part in month.split("-"))
    inside = dates[((dates.dt.year == year) & (dates.dt.month == number)).fillna(False).to_numpy(bool)]
    return inside.max() if len(inside) else None


def seen_share(day: int, days: int, alpha: float) -> float:
    """Share of the month's final active users seen by ``day`` under the curve."""
    if day >= days:
        return 1.0
    return (max(day, 1) / days) ** alpha


def _alpha_of(snapshot: Snapshot) -> float | None:
    x, seen = snapshot.day / snapshot.days, snapshot.seen
    if seen is None or not 0 < x < 1 or not 0 < seen <= 1:
        return None
    return math.log(seen) / math.log(x)


def fit_alpha(snapshots: Sequence[Snapshot]) -> float | None:
    """Median exponent measured by the snapshots; None when none is usable."""
    alphas = [a for a in map(_alpha_of, snapshots) if a is not None]
    return statistics.median(alphas) if alphas else None


def _projected_rate(snapshot: Snapshot, alpha: float) -> float | None:
    if not snapshot.final_cumulative:
        return None
    share = seen_share(snapshot.day, snapshot.days, alpha)
    return min(snapshot.final_cumulative, snapshot.active / share) / snapshot.final_cumulative


def backtest(snapshots: Sequence[Snapshot], months: Sequence[str]) -> list[BacktestRow]:
    """Per stored month, projected minus final rate from each checkpoint day, fitted without that month."""
    rows = []
    for month in months:
        own = [s for s in snapshots if s.month == month]
        others = [s for s in snapshots if s.month != month]
        alpha = fit_alpha(others) or DEFAULT_ALPHA
        errors: dict[int, float | None] = {}
        for day in CHECKPOINTS:
            near = [s for s in own if abs(s.day - day) <= CHECKPOINT_TOLERANCE]
            best = min(near, key=lambda s: abs(s.day - day)) if near else None
            projected = _projected_rate(best, alpha) if best else None
            final = best.final_rate if best else None
            errors[day] = projected - final if projected is not None and final is not None else None
        final_rate = own[0].final_rate if own else None
        rows.append(BacktestRow(month, final_rate, errors))
    return rows


def calibrate(snapshots: Sequence[Snapshot], months: Sequence[str] = ()) -> Model:
    """The model from history's snapshots, or the default curve marked uncalibrated."""
    alpha = fit_alpha(snapshots)
    rows = backtest(snapshots, months)
    if alpha is None:
        return Model(DEFAULT_ALPHA, False, 0, rows)
    return Model(alpha, True, len(snapshots), rows)


def project(active: int, cumulative: int, day: int, days: int, target: float, model: Model,
            as_of: pd.Timestamp | None = None) -> MonthEnd:
    """Month end from the month-to-date count; clipped (and flagged) at the cumulative users."""
    seen = seen_share(day, days, model.alpha)
    raw = int(round(active / seen)) if seen > 0 else active
    clipped = raw > cumulative
    return MonthEnd(as_of=as_of, day=min(day, days), days=days, active=active, cumulative=cumulative,
                    target=target, model=model, seen=seen, projected_active=min(raw, cumulative),
                    clipped=clipped)


def snapshots_of(items: Sequence[dict[str, object]]) -> list[Snapshot]:
    """History's snapshot records whose month is complete (its final export ran to the last day)."""
    out = []
    for item in items:
        days = _count(item.get("days", 0) or 0)
        if days and _count(item.get("final_day", 0) or 0) >= days:
            out.append(Snapshot(str(item["month"]), _count(item["day"]), days, _count(item["active"]),
                                _count(item["final_active"]), _count(item["final_cumulative"])))
    return out


def _count(value: object) -> int:
    """A stored day or user count (JSON gives an int, a float or a string) as an int."""
    if isinstance(value, (int, float, str)):
        return int(value)
    raise TypeError(f"not a count: {value!r}")


def for_result(result: TagResult) -> MonthEnd:
    """The month end of a run: cut-off from the data, model calibrated on history's snapshots."""
    month = result.month
    as_of = cutoff(result.users.frame["last_active_date"], month)
    days = days_in_month(month)
    day = int(as_of.day) if as_of is not None else days
    snapshots = snapshots_of(result.snapshots)
    stored = sorted({s.month for s in snapshots} | {t.month for t in result.trend if t.month < month})
    model = calibrate([s for s in snapshots if s.month != month], stored)
    m = result.metrics
    return project(m.mau, m.cumulative, day, days, m.target, model, as_of)


__all__ = ["for_result", "snapshots_of", "CHECKPOINTS", "DEFAULT_ALPHA", "BacktestRow", "Model", "MonthEnd", "Snapshot",
           "backtest", "calibrate", "cutoff", "days_in_month", "fit_alpha", "project", "seen_share"]
