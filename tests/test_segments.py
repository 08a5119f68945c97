"""Every segment boundary, one row each: the table reads like the rule."""

from __future__ import annotations

import pandas as pd
import pytest

from tagger.segments import UNSPLIT, assign_segments
from tagger.values import parse_month

M = parse_month("2024-07")


def one(reg: str, last: str | None, prev: str | None = "unknown", *, churn_after: int = 2,
        drove: bool | None = None) -> pd.Series:
    register = pd.Series([parse_month(reg)], dtype="Int64")
    last_m = pd.Series([parse_month(last) if last else pd.NA], dtype="Int64")
    prev_m = None if prev == "unknown" else pd.Series([parse_month(prev) if prev else pd.NA], dtype="Int64")
    flags = None if drove is None else pd.Series([drove], dtype="boolean")
    return assign_segments(register, last_m, M, prev_active_month=prev_m, churn_after=churn_after,
                           drove=flags).iloc[0]


@pytest.mark.parametrize(
    ("register", "last", "prev", "segment", "prev_group"),
    [
        # registered this month: new, whatever else
        ("2024-07", "2024-07", None, "new", ""),
        ("2024-07", None, None, "new", ""),
        # registered last month
        ("2024-06", "2024-07", "2024-06", "last_month_new", "new"),
        ("2024-06", "2024-06", "2024-06", "dormant", "new"),
        ("2024-06", None, None, "dormant", "new"),  # registration counts as activity in June
        # older users active this month: split by the last activity before July
        ("2024-01", "2024-07", "2024-06", "active", "old_active"),
        ("2024-05", "2024-07", "2024-06", "active", "old_active"),
        ("2024-01", "2024-07", "2024-05", "awakened", "dormant"),
        ("2024-01", "2024-07", "2024-04", "returned", "churned"),
        ("2024-01", "2024-07", "2023-01", "returned", "churned"),
        ("2024-05", "2024-07", "2024-05", "awakened", "dormant"),  # only registration before: May
        # not active this month
        ("2024-01", "2024-06", None, "dormant", "old_active"),
        ("2024-01", "2024-05", None, "churned", "dormant"),
        ("2024-01", "2024-04", None, "churned", "churned"),
        ("2022-01", None, None, "churned", "churned"),
    ],
)
def test_segment_boundaries(register: str, last: str | None, prev: str | None, segment: str,
                            prev_group: str) -> None:
    row = one(register, last, prev)
    assert row["segment"] == segment
    assert row["prev_group"] == prev_group


def test_last_day_of_month_is_still_that_month() -> None:
    register = pd.Series([parse_month("2024-01")], dtype="Int64")
    dates = pd.Series(pd.to_datetime(["2024-06-30 23:59:59"]))
    last = (dates.dt.year * 12 + dates.dt.month - 1).astype("Int64")
    assert assign_segments(register, last, M)["segment"].iloc[0] == "dormant"


def test_without_last_months_state_active_users_are_not_guessed() -> None:
    row = one("2024-01", "2024-07", "unknown")
    assert row["segment"] == UNSPLIT
    assert row["prev_group"] == "unknown"
    # users not active this month never need it
    assert one("2024-01", "2024-05", "unknown")["segment"] == "churned"
    assert one("2024-01", "2024-06", "unknown")["prev_group"] == "old_active"


def test_active_after_report_month_counts_as_active() -> None:
    assert one("2024-01", "2024-08", "2024-06")["segment"] == "active"


@pytest.mark.parametrize(
    ("churn_after", "last", "prev", "segment"),
    [
        (3, "2024-05", None, "dormant"),  # e-commerce: two silent months are still dormant
        (3, "2024-04", None, "churned"),
        (3, "2024-07", "2024-05", "awakened"),
        (3, "2024-07", "2024-04", "awakened"),
        (3, "2024-07", "2024-03", "returned"),
        (1, "2024-06", None, "churned"),  # social: one silent month is churn, no dormant stage
        (1, "2024-07", "2024-05", "returned"),
    ],
)
def test_windows_are_configurable(churn_after: int, last: str, prev: str | None, segment: str) -> None:
    assert one("2023-01", last, prev, churn_after=churn_after)["segment"] == segment


@pytest.mark.parametrize(("drove", "group"), [(True, "churned_driving"), (False, "churned_not_driving"),
                                              (None, "churned")])
def test_churned_split_by_driving(drove: bool | None, group: str) -> None:
    row = one("2023-01", "2024-03", None, drove=drove if drove is not None else None)
    assert row["segment"] == "churned"
    if drove is None:
        frame = assign_segments(pd.Series([parse_month("2023-01")], dtype="Int64"),
                                pd.Series([parse_month("2024-03")], dtype="Int64"), M,
                                drove=pd.Series([pd.NA], dtype="boolean"))
        assert frame["group"].iloc[0] == group
    else:
        assert row["group"] == group


def test_driving_does_not_split_other_segments() -> None:
    assert one("2024-01", "2024-07", "2024-06", drove=True)["group"] == "active"


def test_idle_months() -> None:
    assert one("2024-01", "2024-07", "2024-04")["idle_months"] == 2
    assert one("2024-01", "2024-03", None)["idle_months"] == 4
