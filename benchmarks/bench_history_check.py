"""What checking and backing up the history costs: quick_check, integrity_check, online backup.

Run on demand, never in the test suite:

    python benchmarks/bench_history_check.py                       # 100k users, 3 months
    python benchmarks/bench_history_check.py --users 1000000 --months 13

The history is built with :meth:`HistoryStore.save_month`, as ``tagger tag`` builds it,
in a temporary folder that is removed afterwards.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tagger.history import HistoryStore  # noqa: E402
from tagger.metrics import compute_metrics  # noqa: E402


def build(path: Path, users: int, months: int) -> None:
    """A history of ``months`` months of ``users`` users each."""
    ids = np.char.add("u", np.arange(users).astype(str))
    frame = pd.DataFrame({"user_id": ids, "register_date": pd.Timestamp("2023-01-05"),
                          "last_active_date": pd.Timestamp("2024-01-10"), "segment": "active",
                          "group": "active", "preference": "control"})
    tags = pd.DataFrame({"segment": frame["segment"], "group": frame["group"], "active": True,
                         "prev_group": "active"})
    with HistoryStore(path) as store:
        for month in range(1, months + 1):
            key = f"2024-{month:02d}" if month <= 12 else f"2025-{month - 12:02d}"
            store.save_month(key, frame, source=f"{key}.csv", sha256=key,
                             metrics=compute_metrics(tags, key, 0.85), keep_months=13)


def timed(label: str, action) -> None:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = action()
    print(f"{label:<16} {time.perf_counter() - start:7.2f} s  {result}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "h.sqlite"
        build(path, args.users, args.months)
        print(f"history of {args.users:,} users x {args.months} months: {path.stat().st_size / 1e6:.1f} MB")
        with sqlite3.connect(path) as conn:
            timed("quick_check", lambda: conn.execute("PRAGMA quick_check").fetchone()[0])
            timed("integrity_check", lambda: conn.execute("PRAGMA integrity_check").fetchone()[0])
        with HistoryStore(path) as store:
            timed("online backup", lambda: store.backup().name)


if __name__ == "__main__":
    main()
