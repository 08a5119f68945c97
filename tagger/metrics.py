"""The monthly active rate and its "6 groups + 4 rates" decomposition.

For month M the bases are last month's states (``prev_group``):

* old-user retention  = share of M-1's active non-new users active in M
* new-user retention  = share of M-1's new users active in M
* awaken rate         = share of M-1's dormant users active in M
* return rate         = share of M-1's churned users active in M

Every user registered before M is in exactly one base, so
``MAU = new + Σ base × rate`` holds exactly whenever every user's M-1 state is
known. Users who appear in last month's data but not in this export (deleted
accounts) stay in their base as not active.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from tagger.registry import REGISTRY
from tagger.segments import GROUPS, PREV_GROUPS, SEGMENTS, UNSPLIT, UNSPLIT_PARTS

# Rates are left empty (not guessed) when more than this share of last month's users
# have an unknown state; below it they are computed over the known users and the
# run says how many were left out.
UNKNOWN_TOLERANCE = 0.005

# Rate -> last month's state it is the base of (tagger.registry).
RATE_BASES: dict[str, str] = REGISTRY.rate_bases
# The quick ratio: (new + awakened + returned) / dormant.
COMEBACK: tuple[str, ...] = REGISTRY.comeback
QUICK_BASE: str = REGISTRY.quick_base


@dataclass
class MonthMetrics:
    """The numbers of one month, as shown on the Overview sheet and in ``--json``."""

    month: str
    rows: int
    segments: dict[str, int]
    groups: dict[str, int]
    unsplit: int
    mau: int
    cumulative: int
    active_rate: float | None
    bases: dict[str, int | None]
    retained: dict[str, int | None]
    rates: dict[str, float | None]
    unknown_prev: int
    unknown_prev_active: int
    target: float
    quick_ratio: float | None
    notes: list[str] = field(default_factory=list)

    @property
    def gap(self) -> float | None:
        """Active rate minus target (negative: below target)."""
        return None if self.active_rate is None else self.active_rate - self.target

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["gap"] = self.gap
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MonthMetrics:
        """The metrics stored as JSON (keys it does not know, such as ``gap``, are left out)."""
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


def compute_metrics(
    tags: pd.DataFrame,
    month: str,
    target: float,
    *,
    departed: Mapping[str, int] | None = None,
) -> MonthMetrics:
    """Count segments and compute MAU, the active rate and the four rates.

    ``tags`` holds ``segment``, ``group``, ``active`` and ``prev_group`` per user
    (from :func:`tagger.segments.assign_segments`); ``departed`` counts users per
    M-1 state who are missing from this export.
    """
    segment_counts = tags["segment"].value_counts()
    group_counts = tags["group"].value_counts()
    segments = {key: int(segment_counts.get(key, 0)) for key in SEGMENTS}
    groups = {key: int(group_counts.get(key, 0)) for key in GROUPS
              if group_counts.get(key, 0) or (key in SEGMENTS and key != "churned")}
    unsplit = int(segment_counts.get(UNSPLIT, 0))
    mau = int(tags["active"].sum())
    cumulative = len(tags)

    known = tags[tags["prev_group"].isin(PREV_GROUPS)]
    base_counts = known["prev_group"].value_counts()
    retained_counts = known.loc[known["active"], "prev_group"].value_counts()
    unknown = tags["prev_group"] == "unknown"
    unknown_prev = int(unknown.sum())
    existing = int((tags["prev_group"] != "").sum()) + sum((departed or {}).values())
    too_many_unknown = unknown_prev > UNKNOWN_TOLERANCE * existing

    bases: dict[str, int | None] = {}
    retained: dict[str, int | None] = {}
    rates: dict[str, float | None] = {}
    for rate, base_key in RATE_BASES.items():
        if too_many_unknown:
            bases[rate] = retained[rate] = rates[rate] = None
            continue
        base = int(base_counts.get(base_key, 0)) + int((departed or {}).get(base_key, 0))
        kept = int(retained_counts.get(base_key, 0))
        bases[rate], retained[rate] = base, kept
        rates[rate] = kept / base if base else None

    comeback = sum(segments[key] for key in COMEBACK)
    lost = segments[QUICK_BASE]
    return MonthMetrics(
        month=month,
        rows=len(tags),
        segments=segments,
        groups=groups,
        unsplit=unsplit,
        mau=mau,
        cumulative=cumulative,
        active_rate=mau / cumulative if cumulative else None,
        bases=bases,
        retained=retained,
        rates=rates,
        unknown_prev=unknown_prev,
        unknown_prev_active=int((unknown & tags["active"]).sum()),
        target=target,
        quick_ratio=comeback / lost if lost and not unsplit else None,
    )


def identity_residual(metrics: MonthMetrics) -> int | None:
    """``MAU - (new + Σ retained)``: 0 when the decomposition accounts for every active user."""
    if any(v is None for v in metrics.retained.values()):
        return None
    explained = metrics.segments["new"] + sum(v or 0 for v in metrics.retained.values())
    return metrics.mau - explained - metrics.unknown_prev_active


def segment_count(m: MonthMetrics, key: str) -> int | None:
    """Users in a segment or group; None for the three that cannot be told apart without last month."""
    if key == UNSPLIT:
        return m.unsplit
    if m.unsplit and key in UNSPLIT_PARTS:
        return None
    return m.groups.get(key, m.segments.get(key, 0))
