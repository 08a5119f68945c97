"""Preferences as the article defines them: shares of active days (``share_of = "sessions"``) over a
three-month window built from monthly exports in history (``window = "month"``)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from tagger.config import load_config
from tagger.errors import ConfigError
from tagger.preferences import share_base, tag_preferences

from .workbook_cases import SESSIONS_EXPECTED, sessions

FEATURES = load_config(preset="car_app").features


def test_article_user_a_holds_three_overlapping_preferences() -> None:
    counts = pd.DataFrame({"control": [90.0], "activity": [50.0], "community": [40.0]})
    total = tag_preferences(counts, FEATURES, 0.3, "zh")
    by_days = tag_preferences(counts, FEATURES, 0.3, "zh", active_days=pd.Series([100.0]))
    assert total["tags"].tolist() == ["控车偏好"]  # 90/180 = 50 %, 50/180 and 40/180 under 30 %
    assert by_days["tags"].tolist() == ["控车偏好、社区偏好、活动偏好"]
    assert by_days[["share_control", "share_activity", "share_community"]].values.tolist() == [[0.9, 0.5, 0.4]]
    assert by_days["primary"].tolist() == ["控车偏好"]


def test_no_active_days_falls_back_to_the_total() -> None:
    counts = pd.DataFrame({"control": [3.0, 0.0], "content": [1.0, 0.0]})
    assert share_base(counts, pd.Series([None, 0.0])).tolist() == [4.0, 0.0]
    out = tag_preferences(counts, FEATURES, 0.3, "zh", active_days=pd.Series([None, 0.0]),
                          top_feature=pd.Series(["", "社区"]))
    assert out["tags"].tolist() == ["控车偏好", "社区偏好"]


@pytest.mark.parametrize("key,value", [("share_of", "days"), ("window", "quarter")])
def test_bad_values_are_config_errors(tmp_path: Path, key: str, value: str) -> None:
    path = tmp_path / "tagger.toml"
    path.write_text(f'[preferences]\n{key} = "{value}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=f"preferences.{key}"):
        load_config(path)


def _users(path: Path) -> list[dict[str, object]]:
    ws = openpyxl.load_workbook(path)["用户明细"]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_monthly_exports_sum_three_months_from_history(tmp_path: Path) -> None:
    result = sessions(tmp_path)
    assert result.window_months == ["2024-05", "2024-06"]
    got = dict(zip(result.users.frame["user_id"], result.tags["tags"], strict=True))
    assert got == SESSIONS_EXPECTED
    users = {row["用户ID"]: row for row in _users(result.output)}
    a = users["A"]
    assert a["控车次数(前两月)"] == 18 and a["控车次数(近三月)"].startswith("=N(")
    assert a["活跃天数(前两月)"] == 20
    assert a["偏好基数(活跃天数)"].startswith("=IF(N(")
    assert "/" in a["偏好标签"] and "Threshold" in a["偏好标签"]
    book = openpyxl.load_workbook(result.output)
    notes = {r[0]: r[1] for r in book["说明"].iter_rows(values_only=True) if r and r[0]}
    assert "2024-05、2024-06" in notes["偏好窗口"] and 'window = "month"' in notes["偏好窗口"]
    assert "活跃天数" in notes["偏好标签"]
    # The cached values are Python's: read without formulas.
    cached = {r[0]: r for r in openpyxl.load_workbook(result.output, data_only=True)["用户明细"].iter_rows(
        min_row=2, values_only=True)}
    header = [c.value for c in book["用户明细"][1]]
    assert cached["A"][header.index("偏好基数(活跃天数)")] == 30
    assert cached["A"][header.index("控车次数(近三月)")] == 27


def test_a_missing_month_is_named_on_notes(tmp_path: Path) -> None:
    result = sessions(tmp_path, months=("2024-06", "2024-07"))
    assert result.window_months == ["2024-06"]
    book = openpyxl.load_workbook(result.output)
    notes = {r[0]: r[1] for r in book["说明"].iter_rows(values_only=True) if r and r[0]}
    assert "缺少 2024-05" in notes["偏好窗口"]
    # A: 18 control of 20 days (90 %), community 8 (40 %), campaigns 10 (50 %).
    tags = dict(zip(result.users.frame["user_id"], result.tags["tags"], strict=True))
    assert tags["A"] == "控车偏好、社区偏好、活动偏好"


def test_three_month_totals_use_the_export_as_it_is(tmp_path: Path) -> None:
    result = sessions(tmp_path, months=("2024-06", "2024-07"), toml='[preferences]\nshare_of = "sessions"\n')
    assert result.window_months is None
    users = {row["用户ID"]: row for row in _users(result.output)}
    assert "控车次数(前两月)" not in users["A"]
    # July alone: A control 9 of 10 days, community 4, campaigns 5 — the same three tags.
    tags = dict(zip(result.users.frame["user_id"], result.tags["tags"], strict=True))
    assert tags["A"] == "控车偏好、社区偏好、活动偏好"
    book = openpyxl.load_workbook(result.output)
    notes = {r[0]: r[1] for r in book["说明"].iter_rows(values_only=True) if r and r[0]}
    assert 'window = "3m"' in notes["偏好窗口"]


def test_sessions_without_active_days_warns(run_cli, tmp_path: Path) -> None:
    (tmp_path / "tagger.toml").write_text('[preferences]\nshare_of = "sessions"\n', encoding="utf-8")
    export = tmp_path / "e_2024-07.csv"
    export.write_text("用户ID,注册时间,最近一次活跃时间,控车次数,社区次数\nA,2024-01-01,2024-07-02,3,1\n",
                      encoding="utf-8")
    code, out, err = run_cli("tag", export, "--no-history", "-o", tmp_path / "o.xlsx", "--config",
                             tmp_path / "tagger.toml")
    assert code == 0, err
    assert "活跃天数" in out + err
    users = _users(tmp_path / "o.xlsx")
    assert "偏好基数(活跃天数)" not in users[0]


def test_sql_writes_sessions_and_refuses_the_monthly_window(run_cli, tmp_path: Path) -> None:
    (tmp_path / "tagger.toml").write_text('[preferences]\nshare_of = "sessions"\n', encoding="utf-8")
    code, out, err = run_cli("sql", "--dialect", "duckdb", "--month", "2024-07", "--config", tmp_path / "tagger.toml")
    assert code == 0, err
    assert '"active_days"' in out
    (tmp_path / "tagger.toml").write_text('[preferences]\nwindow = "month"\n', encoding="utf-8")
    code, out, err = run_cli("sql", "--dialect", "duckdb", "--month", "2024-07", "--config", tmp_path / "tagger.toml")
    assert code == 2 and 'window = "month"' in err and "Traceback" not in err


def test_history_keeps_monthly_usage_replaces_it_and_prunes_it(tmp_path: Path) -> None:
    from tagger.history import HistoryStore
    from tagger.metrics import compute_metrics
    from tagger.segments import assign_segments

    def users(ids: list[str]) -> pd.DataFrame:
        return pd.DataFrame({"user_id": ids, "register_date": pd.to_datetime(["2024-01-05"] * len(ids)),
                             "last_active_date": pd.to_datetime(["2024-07-02"] * len(ids)),
                             "segment": ["active"] * len(ids), "group": ["active"] * len(ids),
                             "preference": [""] * len(ids)})

    tags = assign_segments(pd.Series([1], dtype="Int64"), pd.Series([1], dtype="Int64"), 1)
    usage = pd.DataFrame({"user_id": ["u1", "u2"], "usage_control": [3.0, None], "active_days": [5.0, 2.0]})
    with HistoryStore(tmp_path / "h.sqlite") as store:
        store.save_month("2024-06", users(["u1", "u2"]), source="a", sha256="a",
                         metrics=compute_metrics(tags, "2024-06", 0.85), usage=usage)
        stored = store.usage("2024-06")
        assert stored.loc["u1", "usage_control"] == 3.0 and stored.loc["u2", "active_days"] == 2.0
        assert pd.isna(stored.loc["u2", "usage_control"])  # a blank count is not stored as 0
        store.save_month("2024-06", users(["u1"]), source="b", sha256="b", replace=True,
                         metrics=compute_metrics(tags, "2024-06", 0.85), usage=usage.iloc[:1])
        assert store.usage("2024-06").index.tolist() == ["u1"]
        store.save_month("2024-07", users(["u1"]), source="c", sha256="c", keep_months=1,
                         metrics=compute_metrics(tags, "2024-07", 0.85))
        assert store.usage("2024-06").empty and store.usage("2024-07").empty
