"""The generated SQL on Spark (local mode, ANSI on by default in Spark 4) gives what ``tagger tag`` gives."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tagger.config import available_presets, load_config
from tagger.metrics import RATE_BASES
from tagger.sql import build_sql
from tests.snapshots import MONTH, make_snapshot, metric_differences, python_reference, user_differences, write_parquet
from tests.spark import run_spark

CASES = [(preset, 2, 0.3) for preset in available_presets()] + [
    ("car_app", 1, 0.2), ("car_app", 3, 0.4), ("car_app", 6, 0.5)]


@pytest.mark.parametrize("preset, churn, threshold", CASES)
def test_spark_matches_python_for_every_user(spark, tmp_path: Path, preset: str, churn: int,
                                             threshold: float) -> None:
    config = dataclasses.replace(load_config(preset=preset), churn_after_months=churn,
                                 preference_threshold=threshold)
    path = write_parquet(make_snapshot(config, users=2000, seed=churn), tmp_path / "snapshot.parquet")
    python, _ = python_reference(path, config)
    got = run_spark(spark, build_sql(config, MONTH, "spark"), path, tmp_path / "out")
    assert len(got) == len(python)
    assert user_differences(python, got) == {}


@pytest.mark.parametrize("unknown", [0.0, 0.05])
def test_spark_metrics_equal_compute_metrics(spark, tmp_path: Path, unknown: float) -> None:
    config = load_config(preset="car_app")
    path = write_parquet(make_snapshot(config, users=2000, prev_in_month=unknown), tmp_path / "snapshot.parquet")
    _, expected = python_reference(path, config)
    got = run_spark(spark, build_sql(config, MONTH, "spark", what="metrics"), path, tmp_path / "out").iloc[0]
    assert metric_differences(got, expected) == {}
    if unknown == 0.0:
        assert int(got["mau"]) == int(got["new"]) + sum(int(got[f"kept_{rate}"]) for rate in RATE_BASES)
    else:
        assert all(expected.rates[rate] is None for rate in RATE_BASES)


def test_spark_sessions_and_value_layers_match_python(spark, tmp_path: Path) -> None:
    from tests.test_sql_layers import LAYERS, _parquet, _reference_layers, _with_extras

    config = dataclasses.replace(load_config(preset="car_app"), preference_share_of="sessions",
                                 value_layers=LAYERS["quantile"])
    path = _parquet(_with_extras(make_snapshot(config, users=1500, seed=4)), tmp_path / "snapshot.parquet")
    python, _ = python_reference(path, config)
    got = run_spark(spark, build_sql(config, MONTH, "spark"), path, tmp_path / "out")
    assert user_differences(python, got) == {}
    layers = _reference_layers(tmp_path, config)
    assert got.set_index("user_id")["value_layer"].reindex(layers.index).tolist() == layers.tolist()
