"""The 4 rates and the identity MAU = new + Σ(base × rate) on populations built with a known answer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tagger.metrics import compute_metrics, identity_residual
from tagger.segments import assign_segments
from tagger.values import parse_month

M = parse_month("2024-07")


def population(n: int, seed: int) -> pd.DataFrame:
    """Random users: registration, last activity before July, and whether active in July."""
    rng = np.random.default_rng(seed)
    reg = M - rng.integers(0, 30, n)
    prev = np.minimum(M - 1, reg + rng.integers(0, 30, n))
    active = rng.random(n) < 0.7
    last = np.where(active | (reg == M), M, prev)
    prev = np.where(reg == M, pd.NA, prev)
    return pd.DataFrame({"reg": pd.array(reg, dtype="Int64"), "last": pd.array(last, dtype="Int64"),
                         "prev": pd.array(prev, dtype="Int64")})


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("churn_after", [1, 2, 3])
def test_identity_holds_exactly(seed: int, churn_after: int) -> None:
    users = population(5000, seed)
    tags = assign_segments(users["reg"], users["last"], M, prev_active_month=users["prev"], churn_after=churn_after)
    m = compute_metrics(tags, "2024-07", 0.85)
    assert identity_residual(m) == 0
    projected = m.segments["new"] + sum(m.bases[r] * m.rates[r] for r in m.rates if m.rates[r] is not None)
    assert round(projected) == m.mau
    assert sum(m.bases.values()) == (users["reg"] < M).sum()  # every older user is in exactly one base


def test_rates_by_construction() -> None:
    # 10 of last month's actives (8 stay), 4 new (3 stay), 5 dormant (2 wake), 20 churned (1 returns), 2 new now
    reg = [M - 12] * 10 + [M - 1] * 4 + [M - 12] * 5 + [M - 12] * 20 + [M, M]
    prev = [M - 1] * 10 + [M - 1] * 4 + [M - 2] * 5 + [M - 5] * 20 + [pd.NA, pd.NA]
    active = [1] * 8 + [0] * 2 + [1] * 3 + [0] + [1] * 2 + [0] * 3 + [1] + [0] * 19 + [1, 1]
    last = [M if a else p for a, p in zip(active, prev, strict=True)]
    last[-2:] = [M, M]
    tags = assign_segments(pd.Series(reg, dtype="Int64"), pd.Series(last, dtype="Int64"), M,
                           prev_active_month=pd.Series(prev, dtype="Int64"))
    m = compute_metrics(tags, "2024-07", 0.85)
    assert m.bases == {"old_retention": 10, "new_retention": 4, "awaken_rate": 5, "return_rate": 20}
    assert m.rates == {"old_retention": 0.8, "new_retention": 0.75, "awaken_rate": 0.4, "return_rate": 0.05}
    assert m.mau == 2 + 8 + 3 + 2 + 1
    assert m.cumulative == 41
    assert m.active_rate == pytest.approx(16 / 41)
    assert m.segments["awakened"] == 2 and m.segments["returned"] == 1
    assert m.quick_ratio == pytest.approx((2 + 2 + 1) / m.segments["dormant"])


def test_departed_users_stay_in_their_base() -> None:
    tags = assign_segments(pd.Series([M - 12], dtype="Int64"), pd.Series([M], dtype="Int64"), M,
                           prev_active_month=pd.Series([M - 1], dtype="Int64"))
    m = compute_metrics(tags, "2024-07", 0.85, departed={"old_active": 3})
    assert m.bases["old_retention"] == 4
    assert m.rates["old_retention"] == 0.25


def test_unknown_last_month_gives_no_rates() -> None:
    tags = assign_segments(pd.Series([M - 12, M - 12], dtype="Int64"), pd.Series([M, M - 3], dtype="Int64"), M)
    m = compute_metrics(tags, "2024-07", 0.85)
    assert m.rates == dict.fromkeys(m.rates, None)
    assert m.unsplit == 1
    assert m.quick_ratio is None


def test_empty_base_rate_is_none() -> None:
    tags = assign_segments(pd.Series([M], dtype="Int64"), pd.Series([M], dtype="Int64"), M,
                           prev_active_month=pd.Series([pd.NA], dtype="Int64"))
    m = compute_metrics(tags, "2024-07", 0.85)
    assert m.rates["awaken_rate"] is None and m.bases["awaken_rate"] == 0
