"""The 目标拆解 forecast: next months' MAU and active rate from editable assumptions.

The seed's identity, applied month after month (t-1 → t)::

    MAU_t   = new_t + r_old·(MAU_{t-1} − new_{t-1}) + r_new·new_{t-1} + r_awaken·dormant_{t-1}
              + r_return·churned_{t-1}
    dormant_t = users active in t-1 who did not come back   (none when churn_after = 1)
    churned_t = dormant_{t-1} not awakened + churned_{t-1} not returned (+ the lapsed, churn_after = 1)
    cumulative_t = cumulative_{t-1} + new_t ;  active rate_t = MAU_t / cumulative_t

Dormancy is modelled one month deep, exact for the seed's ``churn_after = 2``; with a
longer window users who stay dormant are counted as churned a month early. For the
target, each lever's required rate *on its own* (the other three at their assumption)
is the closed form ``(target·cumulative_t − (MAU_t − r·base)) / base``.

A named target period (``[forecast] target_months``) mixes months already in history
(actuals, records) with months still to come (projected as above, from this month on).
For the period each lever's single rate over the remaining months that brings the
period average to the target is solved to first order: each month's base is taken as
projected, so a lever's knock-on effect on later months' bases is not counted (exact
when one month remains). :func:`period_solve` and :func:`period_solve_formula`.

Every number here is also a formula on the sheet (:func:`formulas`); both are written
in the same order of operations so the cached values equal what Excel computes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from tagger.metrics import RATE_BASES, MonthMetrics

RATES: tuple[str, ...] = tuple(RATE_BASES)
HORIZON = 3
RECENT = 3
BEST = 6
# How the per-month rate defaults are drawn from history: the mean of the last RECENT months
# (this one included), or each rate's best of the last BEST months (the seed plans Q3 on H1 peaks).
RATE_BASIS: tuple[str, ...] = ("mean3", "best6")
MAX_AHEAD = 24  # months a target period may end after the export month
# Used only when history has no measured rate yet: the seed's first-half-year levels
# (retention 88–95 %, awakening ~85 %, recovery ~10–14 %). The sheet marks them as examples.
EXAMPLE_RATES: dict[str, float] = {"old_retention": 0.88, "new_retention": 0.9, "awaken_rate": 0.85,
                                   "return_rate": 0.12}


@dataclass
class Start:
    """This month's state the forecast starts from."""

    new: float
    mau: float
    dormant: float
    churned: float
    cumulative: float


@dataclass
class Assumption:
    """One future month's editable inputs."""

    month: str
    new: float
    rates: dict[str, float]
    from_history: dict[str, bool] = field(default_factory=dict)


@dataclass
class Projection:
    """One future month's projected numbers."""

    month: str
    bases: dict[str, float]
    mau: float
    dormant: float
    churned: float
    cumulative: float
    active_rate: float | None
    gap: float | None
    needed: dict[str, float | None]


def next_months(month: str, count: int = HORIZON) -> list[str]:
    """``'2024-07'`` → ``['2024-08', '2024-09', '2024-10']``."""
    year, mon = map(int, month.split("-"))
    out = []
    for _ in range(count):
        year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
        out.append(f"{year:04d}-{mon:02d}")
    return out


def default_assumptions(trend: Sequence[MonthMetrics], current: MonthMetrics, horizon: int = HORIZON, *,
                        basis: str = "mean3", months: Sequence[str] | None = None) -> list[Assumption]:
    """Defaults for the input cells of ``months`` (the next ``horizon`` months unless given).

    New users are always the last :data:`RECENT` months' average; each rate is that average
    (``basis = "mean3"``) or its best month of the last :data:`BEST` (``"best6"``), rounded.
    """
    earlier = [t for t in trend if t.month < current.month]
    recent = earlier[-(RECENT - 1):] + [current]
    window = earlier[-(BEST - 1):] + [current] if basis == "best6" else recent
    new = round(sum(t.segments.get("new", 0) for t in recent) / len(recent))
    rates: dict[str, float] = {}
    known: dict[str, bool] = {}
    for rate in RATES:
        values = [value for t in window if (value := t.rates.get(rate)) is not None]
        known[rate] = bool(values)
        if not values:
            rates[rate] = EXAMPLE_RATES[rate]
        else:
            rates[rate] = round(max(values) if basis == "best6" else sum(values) / len(values), 4)
    wanted = list(months) if months is not None else next_months(current.month, horizon)
    return [Assumption(month=m, new=float(new), rates=dict(rates), from_history=dict(known)) for m in wanted]


def months_after(month: str, last: str) -> list[str]:
    """The months after ``month`` up to and including ``last`` (none if ``last`` is not later)."""
    count = month_index(last) - month_index(month)
    return next_months(month, count) if count > 0 else []


def month_index(month: str) -> int:
    """``'2024-07'`` → a month number that differences of months can be taken on."""
    year, mon = map(int, month.split("-"))
    return year * 12 + mon - 1


def period_average(actual_rates: Sequence[float | None], projected: Sequence[Projection]) -> float | None:
    """The target period's average active rate: actual months and projected ones alike (blanks skipped)."""
    values = [r for r in actual_rates if r is not None] + [p.active_rate for p in projected
                                                           if p.active_rate is not None]
    return sum(values) / len(values) if values else None


def period_solve(actual_rates: Sequence[float | None], projected: Sequence[Projection],
                 assumptions: Sequence[Assumption], target: float) -> dict[str, float | None]:
    """Each lever's one rate over the remaining months that makes the period average the target.

    First order (see the module docstring): ``x = (n·target − Σ actual − Σ (MAU_t − r_t·base_t)/cum_t)
    / Σ base_t/cum_t`` over the projected months of the period, the other levers at their assumption.
    """
    known = [r for r in actual_rates if r is not None]
    if not projected or any(p.cumulative <= 0 for p in projected):
        return {k: None for k in RATES}
    rest = (len(known) + len(projected)) * target - sum(known)
    out: dict[str, float | None] = {}
    for k in RATES:
        weight = sum(p.bases[k] / p.cumulative for p in projected)
        fixed = sum((p.mau - a.rates[k] * p.bases[k]) / p.cumulative
                    for p, a in zip(projected, assumptions, strict=True))
        out[k] = (rest - fixed) / weight if weight > 0 else None
    return out


def period_solve_formula(actual: str | None, columns: dict[str, str], rate: str, count: int, target: str) -> str:
    """Excel twin of :func:`period_solve` for one lever.

    ``actual`` is the range of the actual months' rates (or None), ``columns`` the ranges of
    the projected months' ``mau``, ``cumulative``, ``base_<rate>`` and ``<rate>`` cells.
    """
    cum, mau, base, r = columns["cumulative"], columns["mau"], columns[f"base_{rate}"], columns[rate]
    n = f"(COUNT({actual})+{count})" if actual else str(count)
    known = f"-SUM({actual})" if actual else ""
    weight = f"SUMPRODUCT({base}/{cum})"
    return (f'=IF(MIN({cum})>0,IF({weight}>0,({n}*{target}{known}-SUMPRODUCT(({mau}-{r}*{base})/{cum}))'
            f'/{weight},""),"")')


def project(start: Start, assumptions: Sequence[Assumption], churn_after: int, target: float) -> list[Projection]:
    """Month-by-month projection and the rate each lever would need alone (see module docstring)."""
    out: list[Projection] = []
    prev_new, prev_mau, prev_dormant, prev_churned, prev_cum = (start.new, start.mau, start.dormant, start.churned,
                                                                start.cumulative)
    for a in assumptions:
        r = a.rates
        bases = {"old_retention": prev_mau - prev_new, "new_retention": prev_new, "awaken_rate": prev_dormant,
                 "return_rate": prev_churned}
        mau = (a.new + r["old_retention"] * bases["old_retention"] + r["new_retention"] * bases["new_retention"]
               + r["awaken_rate"] * bases["awaken_rate"] + r["return_rate"] * bases["return_rate"])
        lapsed = (1 - r["old_retention"]) * bases["old_retention"] + (1 - r["new_retention"]) * bases["new_retention"]
        dormant = 0.0 if churn_after == 1 else lapsed
        churned = ((lapsed if churn_after == 1 else 0.0) + (1 - r["awaken_rate"]) * bases["awaken_rate"]
                   + (1 - r["return_rate"]) * bases["return_rate"])
        cumulative = prev_cum + a.new
        rate = mau / cumulative if cumulative > 0 else None
        needed = {k: ((target * cumulative - (mau - r[k] * bases[k])) / bases[k] if bases[k] > 0 else None)
                  for k in RATES}
        out.append(Projection(a.month, bases, mau, dormant, churned, cumulative, rate,
                              None if rate is None else rate - target, needed))
        prev_new, prev_mau, prev_dormant, prev_churned, prev_cum = a.new, mau, dormant, churned, cumulative
    return out


def formulas(prev: dict[str, str], inputs: dict[str, str], here: dict[str, str], churn_after: str,
             target: str) -> dict[str, str]:
    """Excel twins of one :func:`project` step.

    ``prev`` names last month's cells (``new``, ``mau``, ``dormant``, ``churned``,
    ``cumulative``), ``inputs`` this month's assumptions (``new`` and the four rates),
    ``here`` this month's computed cells (the four ``base_*``, ``mau``, ``cumulative``, ``rate``).
    """
    i, h = inputs, here
    base = {k: h[f"base_{k}"] for k in RATES}
    lapsed = (f"(1-{i['old_retention']})*{base['old_retention']}+(1-{i['new_retention']})*"
              f"{base['new_retention']}")
    out = {
        "base_old_retention": f"={prev['mau']}-{prev['new']}",
        "base_new_retention": f"={prev['new']}",
        "base_awaken_rate": f"={prev['dormant']}",
        "base_return_rate": f"={prev['churned']}",
        "mau": (f"={i['new']}+{i['old_retention']}*{base['old_retention']}+{i['new_retention']}*"
                f"{base['new_retention']}+{i['awaken_rate']}*{base['awaken_rate']}+{i['return_rate']}*"
                f"{base['return_rate']}"),
        "dormant": f"=IF({churn_after}=1,0,{lapsed})",
        "churned": (f"=IF({churn_after}=1,{lapsed},0)+(1-{i['awaken_rate']})*{base['awaken_rate']}"
                    f"+(1-{i['return_rate']})*{base['return_rate']}"),
        "cumulative": f"={prev['cumulative']}+{i['new']}",
        "rate": f'=IF({h["cumulative"]}>0,{h["mau"]}/{h["cumulative"]},"")',
        "gap": f'=IF({h["rate"]}="","",{h["rate"]}-{target})',
    }
    for k in RATES:
        out[f"need_{k}"] = (f'=IF({base[k]}>0,({target}*{h["cumulative"]}-({h["mau"]}-{i[k]}*{base[k]}))/'
                            f'{base[k]},"")')
    return out
