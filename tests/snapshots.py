"""Generated snapshot months and the Python reference the SQL is compared against.

Each month holds the edge cases the SQL must get exactly like ``tagger tag``: NULL dates,
last activity before registration or after M, prev activity inside M, registrations after
M (left out), ties, shares exactly at the threshold (3/10 vs 0.3), NULL/negative counts,
NULL ``drove``, ``top_feature`` fallbacks and user IDs with leading zeros.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from tagger.config import Config
from tagger.metrics import RATE_BASES, MonthMetrics, compute_metrics
from tagger.pipeline import last_month_state, tag_users
from tagger.prepare import column_aliases, prepare_users
from tagger.preferences import SEPARATOR
from tagger.readers import read_export
from tagger.segments import SEGMENTS
from tagger.snapshot import snapshot_columns
from tagger.values import month_number

MONTH = 2024 * 12 + 6  # 2024-07


def _day(month: int, rng: np.random.Generator, size: int) -> list[dt.date]:
    """A day in each of ``month`` (month numbers), including the 1st and the last day."""
    out = []
    for m, pick in zip(np.atleast_1d(month), rng.integers(0, 4, size), strict=True):
        year, mon = divmod(int(m), 12)
        first = dt.date(year, mon + 1, 1)
        last = (dt.date(year + (mon == 11), (mon + 1) % 12 + 1, 1) - dt.timedelta(days=1))
        out.append([first, last, first + dt.timedelta(days=14), last - dt.timedelta(days=1)][pick])
    return out


def make_snapshot(config: Config, *, users: int = 3000, month: int = MONTH, seed: int = 7,
                  prev_in_month: float = 0.002) -> pd.DataFrame:
    """One generated snapshot month for ``config``'s features (DATE columns as datetime.date)."""
    rng = np.random.default_rng(seed)
    n = users
    reg_m = month - rng.choice([0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 12, 24, 36], n)
    reg_m[rng.random(n) < 0.02] = month + 1  # registered after M: not part of M
    last_m = np.minimum(month, reg_m + rng.integers(0, 10, n))
    last_m[rng.random(n) < 0.4] = month
    last_m[rng.random(n) < 0.04] = month + 1  # after M: still active in M
    prev_m = np.minimum(month - 1, reg_m + rng.integers(-1, 12, n))
    frame = pd.DataFrame({
        "user_id": [f"{i:08d}" for i in range(n)],
        "register_date": _day(reg_m, rng, n),
        "last_active": _day(last_m, rng, n),
        "prev_active": _day(prev_m, rng, n),
    })
    early = rng.random(n) < 0.05  # last active before registering
    frame.loc[early, "last_active"] = [d - dt.timedelta(days=40) for d in frame.loc[early, "register_date"]]
    frame.loc[rng.random(n) < 0.08, "last_active"] = None
    frame.loc[rng.random(n) < 0.1, "prev_active"] = None
    inside = rng.random(n) < prev_in_month
    frame.loc[inside, "prev_active"] = _day(np.full(int(inside.sum()), month), rng, int(inside.sum()))
    frame["drove"] = pd.array(rng.choice([True, False, None], n), dtype="boolean")
    for feature in config.features:
        counts = pd.array(rng.integers(0, 8, n) * (rng.random(n) < 0.6), dtype="Int64")
        frame[feature.field] = counts
    keys = [f.field for f in config.features]
    _edge_counts(frame, keys, rng)
    texts = ["", None, "随便看看", *(f.labels["zh"] for f in config.features),
             *(kw.upper() for f in config.features for kw in f.keywords[:1])]
    frame["top_feature"] = [texts[i] for i in rng.integers(0, len(texts), n)]
    return frame


def _edge_counts(frame: pd.DataFrame, keys: list[str], rng: np.random.Generator) -> None:
    """Rows whose shares sit exactly at thresholds, tie, are all zero, NULL or negative."""
    n = len(frame)
    rows = rng.choice(n, size=min(n, 400), replace=False)
    patterns: list[list[int | None]] = [
        [3, 7], [7, 3], [1, 4], [2, 3], [1, 1], [2, 2, 1], [1, 1, 1, 1, 1], [0, 0], [None, None],
        [5, -2], [1, 2, 2], [3, 3, 4], [1, 3, 1], [2, 8], [4, 6], [5, 5],
    ]
    for i, row in enumerate(rows):
        pattern = patterns[i % len(patterns)]
        for key in keys:
            frame.at[frame.index[row], key] = pd.NA
        for key, value in zip(keys, pattern, strict=False):  # a pattern sets the first features; the rest stay NULL
            frame.at[frame.index[row], key] = pd.NA if value is None else value


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    """The snapshot as Parquet, written by DuckDB with the documented types."""
    with duckdb.connect() as con:
        con.register("frame", frame)
        usage = ", ".join(f'CAST("{c}" AS BIGINT) AS "{c}"' for c in frame.columns if c.startswith("usage_"))
        con.execute(
            "COPY (SELECT CAST(user_id AS VARCHAR) AS user_id, CAST(register_date AS DATE) AS register_date, "
            "CAST(last_active AS DATE) AS last_active, CAST(prev_active AS DATE) AS prev_active, "
            f"CAST(drove AS BOOLEAN) AS drove, {usage}, CAST(top_feature AS VARCHAR) AS top_feature "
            f"FROM frame) TO '{path}' (FORMAT parquet)")
    return path


def python_reference(path: Path, config: Config, month: int = MONTH,
                     lang: str = "zh") -> tuple[pd.DataFrame, MonthMetrics]:
    """What ``tagger tag`` computes for the snapshot, users registered after M left out."""
    table = read_export(path, aliases=column_aliases(config), snapshot_columns=snapshot_columns(config))
    users = prepare_users(table, config)
    keep = (month_number(users.frame["register_date"]) <= month).to_numpy(dtype=bool)
    users.frame = users.frame[keep]
    state = last_month_state(users, month, None)
    tags = tag_users(users, month, config, prev_active_month=state.prev_active, lang=lang)
    metrics = compute_metrics(tags, "m", config.target_active_rate)
    out = pd.DataFrame({
        "user_id": users.frame["user_id"].to_numpy(),
        "segment": tags["segment"].to_numpy(),
        "user_group": tags["group"].to_numpy(),
        "active": tags["active"].to_numpy(),
        "idle_months": tags["idle_months"].to_numpy(),
        "prev_group": tags["prev_group"].to_numpy(),
        "tags": tags["tags"].to_numpy(),
        "primary_key": tags["primary_key"].to_numpy(),
        "primary_label": tags["primary"].to_numpy(),
    })
    parts = tags["tags"].str.split(SEPARATOR)
    for feature in config.features:
        out[f"pref_{feature.key}"] = _holds(parts, feature.label(lang))
    return out, metrics


def _holds(parts: pd.Series, label: str) -> np.ndarray:
    """For each user's list of preference labels, whether ``label`` is in it."""
    return parts.map(lambda p: label in p).to_numpy()


def run_duckdb(sql: str, path: Path, table: str = "users") -> pd.DataFrame:
    """Run ``sql`` in DuckDB over the Parquet snapshot exposed as ``table``."""
    with duckdb.connect() as con:
        con.execute(f"CREATE VIEW \"{table}\" AS SELECT * FROM read_parquet('{path}')")
        return con.execute(sql).df()


def user_differences(python: pd.DataFrame, engine: pd.DataFrame) -> dict[str, int]:
    """Per output column, how many users differ (full outer join on user_id: a missing user differs)."""
    joined = python.merge(engine, on="user_id", how="outer", suffixes=("_py", "_sql"), indicator=True)
    diffs = {"missing": int((joined["_merge"] != "both").sum())}
    for column in python.columns:
        if column == "user_id":
            continue
        left, right = joined[f"{column}_py"], joined[f"{column}_sql"]
        same = (left.isna() & right.isna()) | (left.astype(object) == right.astype(object)).fillna(False)
        if column == "idle_months":
            same = (left.isna() & right.isna()) | (pd.to_numeric(left) == pd.to_numeric(right)).fillna(False)
        diffs[column] = int((~same.astype(bool)).sum())
    return {k: v for k, v in diffs.items() if v}


def metric_differences(engine: Mapping[str, object], expected: MonthMetrics) -> dict[str, object]:
    """The month's numbers where the SQL's one metrics row differs from ``compute_metrics``.

    Counts must be equal; a rate is NULL (None or NaN) exactly where Python has none,
    else within 1e-12. Returns {name: (sql, python)} of what differs.
    """
    diffs: dict[str, object] = {}
    segments = {key: int(engine[key]) for key in SEGMENTS}  # type: ignore[call-overload]
    if segments != expected.segments:
        diffs["segments"] = (segments, expected.segments)
    for name in ("mau", "cumulative"):
        if int(engine[name]) != getattr(expected, name):  # type: ignore[call-overload]
            diffs[name] = (engine[name], getattr(expected, name))
    for rate in RATE_BASES:
        got, want = engine[rate], expected.rates[rate]
        null = got is None or (isinstance(got, float) and math.isnan(got))
        if (want is None) != null or (want is not None and abs(float(got) - want) > 1e-12):  # type: ignore[arg-type]
            diffs[rate] = (got, want)
    return diffs
