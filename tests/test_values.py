from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tagger.values import parse_counts, parse_dates, parse_flags, parse_ids, parse_month


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (dt.datetime(2024, 7, 1, 8, 30), "2024-07-01 08:30:00"),
        (dt.date(2024, 7, 1), "2024-07-01 00:00:00"),
        (45474, "2024-07-01 00:00:00"),
        (45474.5, "2024-07-01 12:00:00"),
        ("45474", "2024-07-01 00:00:00"),
        ("2024-07-01", "2024-07-01 00:00:00"),
        ("2024/7/1", "2024-07-01 00:00:00"),
        ("2024.07.01", "2024-07-01 00:00:00"),
        ("2024年7月1日", "2024-07-01 00:00:00"),
        ("2024年7月1日 9:05", "2024-07-01 09:05:00"),
        ("2024-07-01 23:59:59", "2024-07-01 23:59:59"),
        ("2024-07-01T23:59:59", "2024-07-01 23:59:59"),
        ("20240701", "2024-07-01 00:00:00"),
        ("２０２４－０７－０１", "2024-07-01 00:00:00"),
        # UTC late on 31 July is already 1 August in Beijing
        ("2024-07-31T16:30:00Z", "2024-08-01 00:30:00"),
        ("2024-07-31 16:30:00+00:00", "2024-08-01 00:30:00"),
        ("2024-07-31 08:30:00+0800", "2024-07-31 08:30:00"),
    ],
)
def test_accepted_date_forms(cell: object, expected: str) -> None:
    dates, bad, blank = parse_dates(pd.Series([cell], dtype=object))
    assert not bad.iloc[0] and not blank.iloc[0]
    assert dates.iloc[0].strftime("%Y-%m-%d %H:%M:%S") == expected


@pytest.mark.parametrize("cell", ["1/7/2024", "7/1/2024", "2024-13-01", "2024-02-30", "昨天", "12", True])
def test_refused_date_forms(cell: object) -> None:
    dates, bad, _ = parse_dates(pd.Series([cell], dtype=object))
    assert bad.iloc[0]
    assert pd.isna(dates.iloc[0])


def test_blank_dates_are_blank_not_bad() -> None:
    dates, bad, blank = parse_dates(pd.Series([None, "", "  "], dtype=object))
    assert blank.tolist() == [True, True, True]
    assert not bad.any()


def test_ids_stay_exact_text() -> None:
    ids, blank, lossy = parse_ids(pd.Series(["110101199003071234", "013912345678", "+8613800138000",
                                             "１００１", "\u200b1002", "1003\u3000", 1004, 1005.0], dtype=object))
    assert ids.tolist() == ["110101199003071234", "013912345678", "+8613800138000", "1001", "1002", "1003",
                            "1004", "1005"]
    assert not blank.any() and not lossy.any()


def test_long_numeric_ids_are_flagged() -> None:
    _, _, lossy = parse_ids(pd.Series([110101199003071234, 1.101011990030712e17, 123456789012345], dtype=object))
    assert lossy.tolist() == [True, True, False]


def test_blank_ids() -> None:
    _, blank, _ = parse_ids(pd.Series(["1", None, " ", ""], dtype=object))
    assert blank.tolist() == [False, True, True, True]


def test_counts() -> None:
    counts, bad = parse_counts(pd.Series([3, 2.0, "1,234", "12次", "--", None, "-5", "lots", "3.5"], dtype=object))
    assert counts.tolist()[:4] == [3.0, 2.0, 1234.0, 12.0]
    assert pd.isna(counts.iloc[4]) and pd.isna(counts.iloc[5])
    assert bad.tolist() == [False, False, False, False, False, False, True, True, False]


def test_flags() -> None:
    flags, bad = parse_flags(pd.Series(["是", "否", "Y", "n", 1, 0, "有", "无", None, "?"], dtype=object))
    assert flags.tolist()[:8] == [True, False, True, False, True, False, True, False]
    assert bad.tolist()[-1] and not bad.iloc[:-1].any()


def test_parse_month() -> None:
    assert parse_month("2024-07") == 2024 * 12 + 6
    with pytest.raises(ValueError):
        parse_month("2024-13")


def test_flags_read_each_distinct_value_once_and_missing_cells_as_before() -> None:
    """None and NaN are blank; NaT is no yes/no answer (bad), as when every cell was read on its own."""
    flags, bad = parse_flags(pd.Series(["是", pd.NaT, None, float("nan"), "否", "是", "也许"], dtype=object))
    assert flags.tolist() == [True, pd.NA, pd.NA, pd.NA, False, True, pd.NA]
    assert bad.tolist() == [False, True, False, False, False, False, True]
    flags, bad = parse_flags(pd.Series([None, None], dtype=object))  # nothing but missing cells
    assert flags.isna().all() and not bad.any()
