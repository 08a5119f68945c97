from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pandas as pd
import pytest

from tagger.errors import HistoryError
from tagger.history import HistoryStore
from tagger.metrics import compute_metrics
from tagger.segments import assign_segments


def month_users(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame({
        "user_id": [f"11010119900307{i:04d}" for i in range(n)],
        "register_date": pd.to_datetime(["2024-01-05"] * n),
        "last_active_date": pd.to_datetime(["2024-07-02"] * n),
        "segment": ["active"] * n, "group": ["active"] * n, "preference": ["control"] * n,
    })


def metrics(month: str = "2024-07"):
    tags = assign_segments(pd.Series([1], dtype="Int64"), pd.Series([1], dtype="Int64"), 1)
    return compute_metrics(tags, month, 0.85)


def test_save_and_read_back(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.sqlite") as store:
        assert store.save_month("2024-07", month_users(), source="a.xlsx", sha256="x", metrics=metrics())
        back = store.users("2024-07")
        assert back["user_id"].tolist() == month_users()["user_id"].tolist()
        assert back["last_active_date"].iloc[0] == pd.Timestamp("2024-07-02")
        assert [r.month for r in store.imports()] == ["2024-07"]
        assert store.metrics()[0].month == "2024-07"


def test_same_file_again_is_a_no_op_and_other_file_needs_replace(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.sqlite") as store:
        store.save_month("2024-07", month_users(3), source="a.xlsx", sha256="x", metrics=metrics())
        assert not store.save_month("2024-07", month_users(3), source="a.xlsx", sha256="x", metrics=metrics())
        with pytest.raises(HistoryError, match="--replace"):
            store.save_month("2024-07", month_users(2), source="b.xlsx", sha256="y", metrics=metrics())
        assert len(store.users("2024-07")) == 3
        store.save_month("2024-07", month_users(2), source="b.xlsx", sha256="y", metrics=metrics(), replace=True)
        assert len(store.users("2024-07")) == 2


def test_old_months_keep_summaries_only(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.sqlite") as store:
        for month in ("2024-04", "2024-05", "2024-06", "2024-07"):
            store.save_month(month, month_users(), source=month, sha256=month, metrics=metrics(month), keep_months=2)
        assert [r.users_kept for r in store.imports()] == [False, False, True, True]
        assert store.users("2024-04").empty
        assert [m.month for m in store.metrics()] == ["2024-04", "2024-05", "2024-06", "2024-07"]


def test_wal_mode(tmp_path: Path) -> None:
    HistoryStore(tmp_path / "h.sqlite").close()
    with sqlite3.connect(tmp_path / "h.sqlite") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_killed_import_leaves_no_partial_month(tmp_path: Path) -> None:
    """A process killed in the middle of writing a month leaves the month out entirely."""
    db = tmp_path / "h.sqlite"
    script = textwrap.dedent(f"""
        import os, signal, pandas as pd
        from tagger.history import HistoryStore
        import tests.test_history as t
        store = HistoryStore({str(db)!r})
        users = t.month_users(50_000)
        original = store.conn.executemany
        def killing_executemany(sql, rows):
            for i, row in enumerate(rows):
                if i == 20_000:
                    os.kill(os.getpid(), signal.SIGKILL)
                store.conn.execute(sql, row)
        store.conn = type("C", (), {{"execute": store.conn.execute, "executemany": staticmethod(killing_executemany),
                                    "close": store.conn.close}})()
        store.save_month("2024-07", users, source="a", sha256="x", metrics=t.metrics())
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parents[1], capture_output=True)
    assert proc.returncode == -9, proc.stderr.decode()
    with HistoryStore(db) as store:
        assert store.imports() == []
        assert store.users("2024-07").empty


def test_second_writer_waits_then_fails_clearly(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    with HistoryStore(db, timeout=0.2) as store:
        blocker = sqlite3.connect(db, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        with pytest.raises(HistoryError, match="h.sqlite"):
            store.save_month("2024-07", month_users(), source="a", sha256="x", metrics=metrics())
        blocker.execute("ROLLBACK")
        blocker.close()
        assert store.imports() == []


def test_second_writer_proceeds_once_the_first_commits(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    with HistoryStore(db, timeout=10) as store:
        blocker = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
        blocker.execute("BEGIN IMMEDIATE")
        timer = threading.Timer(0.3, lambda: blocker.execute("COMMIT"))
        timer.start()
        store.save_month("2024-07", month_users(), source="a", sha256="x", metrics=metrics())
        timer.join()
        blocker.close()
        assert len(store.users("2024-07")) == 3


def test_weekly_replace_keeps_earlier_exports_as_projection_snapshots(tmp_path: Path) -> None:
    """A refresh always replaces; an earlier cut-off is still kept as a snapshot, a later one is not."""
    def users(day: int, n: int) -> pd.DataFrame:
        return month_users(n).assign(last_active_date=pd.to_datetime([f"2024-07-{day:02d}"] * n))

    with HistoryStore(tmp_path / "h.sqlite") as store:
        store.save_month("2024-07", users(8, 2), source="w1", sha256="1", metrics=metrics())
        store.save_month("2024-07", users(15, 3), source="w2", sha256="2", metrics=metrics(), replace=True)
        assert store.superseded == ("w1", "2024-07-08", "2024-07-15")
        store.save_month("2024-07", users(31, 3), source="end", sha256="3", metrics=metrics())
        snaps = store.snapshots()
        assert [(s["day"], s["days"], s["final_day"]) for s in snaps] == [(8, 31, 31), (15, 31, 31)]
        store.save_month("2024-07", users(10, 3), source="fix", sha256="4", metrics=metrics(), replace=True)
        assert store.superseded is None
        assert [s["day"] for s in store.snapshots()] == [8]  # only what came before the new cut-off


def test_an_export_in_any_order_stores_the_same_rows_and_counts(tmp_path: Path) -> None:
    """Rows are stored in key order (fast for sqlite); what is stored must not depend on the export's order."""
    n = 500
    users = pd.DataFrame({
        "user_id": [f"U{(i * 7919) % 1009:05d}" for i in range(n)],
        "register_date": pd.to_datetime("2024-01-05") + pd.to_timedelta(range(n), unit="min"),
        "last_active_date": pd.to_datetime(["2024-07-02 08:30:00", None] * (n // 2)),
        "segment": ["active", "new"] * (n // 2), "group": ["active", "new"] * (n // 2),
        "preference": ["control", None, "content", ""] * (n // 4),
    })
    usage = pd.DataFrame({"user_id": users["user_id"],
                          "usage_control": pd.array([3, None, 0, 7] * (n // 4), dtype="Int64"),
                          "active_days": [float(i % 9) if i % 5 else None for i in range(n)]})
    assert not users["user_id"].is_monotonic_increasing
    stored = {}
    for name, order in (("as exported", slice(None)), ("reversed", slice(None, None, -1))):
        with HistoryStore(tmp_path / f"{name}.sqlite") as store:
            store.save_month("2024-07", users.iloc[order], source="a", sha256="x", metrics=metrics(),
                             usage=usage.iloc[order])
            rows = store.conn.execute("SELECT user_id, register_date, last_active_date, segment, grp, preference "
                                      "FROM month_users").fetchall()
            counts = store.conn.execute("SELECT user_id, field, value FROM month_usage").fetchall()
        stored[name] = (sorted(rows), sorted(counts))
    rows, counts = stored["as exported"]
    assert stored["reversed"] == stored["as exported"]
    assert len(rows) == n and len(counts) == n // 4 * 3 + sum(1 for i in range(n) if i % 5)
    by_id = {row[0]: row for row in rows}
    assert by_id[users["user_id"][1]][2] == users["register_date"][1].strftime("%Y-%m-%d %H:%M:%S")  # last active blank
    assert by_id[users["user_id"][0]][2:] == ("2024-07-02 08:30:00", "active", "active", "control")
    assert by_id[users["user_id"][1]][5] == ""
    assert (users["user_id"][3], "usage_control", 7.0) in counts
    assert not any(u == users["user_id"][1] and f == "usage_control" for u, f, _ in counts)
