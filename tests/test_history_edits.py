"""Schema 2 of the history store: overrides, 触达跟踪 rows and campaigns, and the migration from schema 1."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd

from tagger.history import SCHEMA, SCHEMA_VERSION, HistoryStore


def test_schema_1_database_is_migrated_without_losing_months(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    conn.execute("INSERT INTO imports VALUES ('2024-06', 'a.xlsx', 'abc', 1, '2024-07-01', 1, '{}')")
    conn.execute("INSERT INTO month_users VALUES ('2024-06', 'u1', '2024-01-01', '2024-06-01', 'active', 'active', '')")
    conn.commit()
    conn.close()
    with HistoryStore(path) as store:
        assert store.schema_version() == SCHEMA_VERSION == 6
        assert [r.month for r in store.imports()] == ["2024-06"]
        assert store.users("2024-06")["user_id"].tolist() == ["u1"]
        assert store.overrides().empty
    with HistoryStore(path) as store:  # opening again is a no-op
        assert store.schema_version() == SCHEMA_VERSION


def test_overrides_saved_cleared_and_kept(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.sqlite") as store:
        edits = pd.DataFrame({"user_id": ["1", "2", "3"], "label": ["dormant", "", "active"],
                              "remark": ["回访过", "只有备注", ""]})
        store.save_overrides(edits, source="a.xlsx", month="2024-06", seen=["1", "2", "3"])
        assert store.overrides()[["user_id", "label", "remark"]].values.tolist() == [
            ["1", "dormant", "回访过"], ["2", "", "只有备注"], ["3", "active", ""]]
        # The next workbook shows users 1 and 2 only; 1 was cleared, 2 changed; 3 was not shown, so it stays.
        edits = pd.DataFrame({"user_id": ["2"], "label": ["new"], "remark": [""]})
        store.save_overrides(edits, source="b.xlsx", month="2024-06", seen=["1", "2"])
        stored = store.overrides()
        assert stored[["user_id", "label", "source"]].values.tolist() == [["2", "new", "b.xlsx"],
                                                                         ["3", "active", "a.xlsx"]]


def test_schema_3_overrides_get_the_latest_imported_month(tmp_path: Path) -> None:
    """Labels stored before version 4 had no month: they belong to the month last imported."""
    from tagger.history import SCHEMA_V2, SCHEMA_V3

    path = tmp_path / "v3.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA + SCHEMA_V2 + SCHEMA_V3)
    conn.execute("INSERT INTO meta VALUES ('schema_version', '3')")
    for month in ("2024-05", "2024-06"):
        conn.execute("INSERT INTO imports VALUES (?, 'a.xlsx', 'abc', 1, '2024-07-01', 1, '{}')", (month,))
    conn.execute("INSERT INTO overrides VALUES ('u1', 'dormant', '回访过', 'a.xlsx', '2024-06-20')")
    conn.commit()
    conn.close()
    with HistoryStore(path) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.overrides()[["user_id", "month", "label", "remark"]].values.tolist() == [
            ["u1", "2024-06", "dormant", "回访过"]]
        assert store.overrides("2024-07").empty


def test_overrides_are_kept_per_month(tmp_path: Path) -> None:
    """Clearing a label in July's workbook leaves June's label stored (and vice versa)."""
    with HistoryStore(tmp_path / "h.sqlite") as store:
        june = pd.DataFrame({"user_id": ["1"], "label": ["dormant"], "remark": [""]})
        store.save_overrides(june, source="june.xlsx", month="2024-06", seen=["1"])
        july = pd.DataFrame({"user_id": ["1"], "label": ["active"], "remark": [""]})
        store.save_overrides(july, source="july.xlsx", month="2024-07", seen=["1"])
        assert store.overrides()[["month", "label"]].values.tolist() == [["2024-06", "dormant"], ["2024-07", "active"]]
        store.save_overrides(july.iloc[:0], source="july.xlsx", month="2024-07", seen=["1"])
        assert store.overrides("2024-07").empty
        assert store.overrides("2024-06")["label"].tolist() == ["dormant"]


def test_tracking_rows_upsert_by_key_and_keep_order(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.sqlite") as store:
        rows = [
            {"key": "k1", "date": "2024-07-01", "group": "休眠用户", "channel": "push", "content": "A",
             "targeted": 100, "delivered": None, "extra": {"负责人": "王"}},
            {"key": "k2", "date": "2024-07-02", "group": "流失用户", "channel": "短信", "content": "=1+1"},
        ]
        store.save_tracking(rows, source="a.xlsx")
        store.save_tracking([{**rows[0], "delivered": 90}], source="b.xlsx")
        got = store.tracking_rows()
        assert [r["key"] for r in got] == ["k1", "k2"]
        assert got[0]["targeted"] == 100 and got[0]["delivered"] == 90 and got[0]["extra"] == {"负责人": "王"}
        assert got[1]["content"] == "=1+1" and got[1]["clicked"] is None


def test_campaign_with_holdout_round_trip(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.sqlite") as store:
        users = pd.DataFrame({"user_id": ["1", "2", "3"], "holdout": [False, True, False]})
        cid = store.add_campaign(date="2024-07-10", month="2024-07", rule="r", group="dormant", channel="push",
                                 content="c", users=users, holdout_share=0.3, seed=7)
        campaigns = store.campaigns()
        assert campaigns[["id", "rule", "group", "holdout_share", "seed"]].values.tolist() == [
            [cid, "r", "dormant", 0.3, 7]]
        members = store.campaign_users()
        assert members.sort_values("user_id")["holdout"].tolist() == [False, True, False]
