"""The generated ClickHouse SQL, executed by chdb (ClickHouse in-process) over the Parquet snapshot."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tagger.config import available_presets, load_config
from tagger.sql import build_sql
from tests.snapshots import (MONTH, make_snapshot, metric_differences, python_reference, run_duckdb, user_differences,
                             write_parquet)


@pytest.fixture(scope="module")
def clickhouse(tmp_path_factory: pytest.TempPathFactory):
    """One chdb session (its data folder in a temp dir) for the module."""
    from chdb import session

    chs = session.Session(str(tmp_path_factory.mktemp("chdb")))
    chs.query("CREATE DATABASE IF NOT EXISTS snap")
    yield chs
    chs.close()


def run_clickhouse(chs, sql: str, snapshot: Path, out: Path) -> object:
    """Run ``sql`` over ``snap.users`` (a view of the Parquet file); the result comes back via Parquet."""
    chs.query(f"CREATE OR REPLACE VIEW snap.users AS SELECT * FROM file('{snapshot}', Parquet)")
    chs.query(f"SELECT * FROM ({sql}) INTO OUTFILE '{out}' TRUNCATE FORMAT Parquet")
    return run_duckdb(f"SELECT * FROM read_parquet('{out}')", snapshot)


CASES = [(preset, 2, 0.3) for preset in available_presets()] + [("car_app", 1, 0.25), ("car_app", 6, 0.5)]


@pytest.mark.parametrize("preset, churn, threshold", CASES)
def test_clickhouse_matches_python_for_every_user(clickhouse, tmp_path: Path, preset: str, churn: int,
                                                  threshold: float) -> None:
    config = dataclasses.replace(load_config(preset=preset), churn_after_months=churn,
                                 preference_threshold=threshold)
    path = write_parquet(make_snapshot(config, seed=churn + 20), tmp_path / "snapshot.parquet")
    python, _ = python_reference(path, config)
    sql = build_sql(config, MONTH, "clickhouse", table="snap.users")
    got = run_clickhouse(clickhouse, sql, path, tmp_path / "out.parquet")
    assert len(got) == len(python)
    assert user_differences(python, got) == {}


@pytest.mark.parametrize("unknown", [0.0, 0.05])
def test_clickhouse_metrics_equal_compute_metrics(clickhouse, tmp_path: Path, unknown: float) -> None:
    config = load_config(preset="car_app")
    path = write_parquet(make_snapshot(config, prev_in_month=unknown), tmp_path / "snapshot.parquet")
    _, expected = python_reference(path, config)
    sql = build_sql(config, MONTH, "clickhouse", what="metrics", table="snap.users")
    got = run_clickhouse(clickhouse, sql, path, tmp_path / "out.parquet").iloc[0]
    assert metric_differences(got, expected) == {}


@pytest.mark.parametrize("layers", ["quantile", "thresholds"])
def test_clickhouse_sessions_and_value_layers_match_python(clickhouse, tmp_path: Path, layers: str) -> None:
    from tests.test_sql_layers import LAYERS, _parquet, _reference_layers, _with_extras

    config = dataclasses.replace(load_config(preset="car_app"), preference_share_of="sessions",
                                 value_layers=LAYERS[layers])
    path = _parquet(_with_extras(make_snapshot(config, users=1500, seed=6)), tmp_path / "snapshot.parquet")
    python, _ = python_reference(path, config)
    got = run_clickhouse(clickhouse, build_sql(config, MONTH, "clickhouse", table="snap.users"), path,
                         tmp_path / "out.parquet")
    assert user_differences(python, got) == {}
    expected = _reference_layers(tmp_path, config)
    assert got.set_index("user_id")["value_layer"].reindex(expected.index).tolist() == expected.tolist()
