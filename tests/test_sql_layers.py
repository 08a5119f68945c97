"""``tagger sql`` with ``share_of = "sessions"`` and ``[value_layers]``: the same tags as ``tagger tag`` on DuckDB."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from tagger.config import ValueLayers, load_config
from tagger.sql import build_sql
from tests.snapshots import MONTH, make_snapshot, python_reference, run_duckdb, user_differences, write_parquet

LAYER_COLUMNS = {"value": "消费金额", "frequency": "订单数", "recency": "距上次消费天数"}


def _with_extras(frame: pd.DataFrame, seed: int = 3) -> pd.DataFrame:
    """Active days and the three layer columns, with blanks, negatives, zeros and ties."""
    rng = np.random.default_rng(seed)
    n = len(frame)
    days = rng.integers(0, 40, n).astype(float)
    days[rng.random(n) < 0.1] = np.nan
    days[rng.random(n) < 0.05] = -3  # unreadable: shares fall back to the total
    frame["active_days"] = days
    value = np.round(rng.gamma(2.0, 300.0, n), 2)
    value[rng.random(n) < 0.05] = 0.0
    value[rng.random(n) < 0.2] = 500.0  # many ties at one value
    value[rng.random(n) < 0.08] = np.nan
    value[rng.random(n) < 0.03] = -10.0
    frame[LAYER_COLUMNS["value"]] = value
    orders = rng.integers(0, 9, n).astype(float)
    orders[rng.random(n) < 0.08] = np.nan
    frame[LAYER_COLUMNS["frequency"]] = orders
    recency = rng.integers(0, 120, n).astype(float)
    recency[rng.random(n) < 0.1] = np.nan
    recency[rng.random(n) < 0.05] = 30.0  # exactly at the cut: recent
    frame[LAYER_COLUMNS["recency"]] = recency
    return frame


def _parquet(frame: pd.DataFrame, path: Path) -> Path:
    """The generated snapshot plus the extra DOUBLE columns (written by DuckDB like the base snapshot)."""
    base = write_parquet(frame, path.with_name("base.parquet"))
    extra = [c for c in frame.columns if c == "active_days" or c in LAYER_COLUMNS.values()]
    with duckdb.connect() as con:
        con.register("extra", frame[["user_id", *extra]])
        cols = ", ".join(f'CAST(e."{c}" AS DOUBLE) AS "{c}"' for c in extra)
        con.execute(f"COPY (SELECT b.*, {cols} FROM read_parquet('{base}') AS b JOIN extra AS e USING (user_id)) "
                    f"TO '{path}' (FORMAT parquet)")
    return path


def _compare(tmp_path: Path, config, frame: pd.DataFrame) -> tuple[dict[str, int], pd.DataFrame]:
    path = _parquet(frame, tmp_path / "snapshot.parquet")
    python, _ = python_reference(path, config)
    engine = run_duckdb(build_sql(config, MONTH, "duckdb"), path)
    return user_differences(python, engine), engine


def _reference_layers(tmp_path: Path, config) -> pd.Series:
    """The Python value layer of each user of the snapshot written by :func:`_compare`."""
    from tagger.pipeline import last_month_state, tag_users
    from tagger.prepare import column_aliases, prepare_users
    from tagger.readers import read_export
    from tagger.snapshot import snapshot_columns
    from tagger.values import month_number

    table = read_export(tmp_path / "snapshot.parquet", aliases=column_aliases(config),
                        snapshot_columns=snapshot_columns(config))
    users = prepare_users(table, config)
    users.frame = users.frame[(month_number(users.frame["register_date"]) <= MONTH).to_numpy(dtype=bool)]
    tags = tag_users(users, MONTH, config, prev_active_month=last_month_state(users, MONTH, None).prev_active,
                     lang="zh")
    return pd.Series(tags["value_layer"].to_numpy(), index=users.frame["user_id"].to_numpy())


@pytest.mark.parametrize("threshold", [0.3, 0.5])
def test_sessions_shares_match_python(tmp_path: Path, threshold: float) -> None:
    config = dataclasses.replace(load_config(preset="car_app"), preference_share_of="sessions",
                                 preference_threshold=threshold)
    frame = _with_extras(make_snapshot(config, users=2000))
    diffs, engine = _compare(tmp_path, config, frame)
    assert diffs == {}
    # Not blind: the base changes many users' tags, and Python agrees with those too.
    total = run_duckdb(build_sql(dataclasses.replace(config, preference_share_of="total"), MONTH, "duckdb"),
                       tmp_path / "snapshot.parquet")
    assert (engine.set_index("user_id")["tags"] != total.set_index("user_id")["tags"]).sum() > 100


def test_sessions_user_a_of_the_article(tmp_path: Path) -> None:
    """Car control on 90 % of 10 active days, events on 50 %, community on 40 %: all three tags."""
    config = dataclasses.replace(load_config(preset="car_app"), preference_share_of="sessions")
    frame = _with_extras(make_snapshot(config, users=5))
    for f in config.features:
        frame[f.field] = pd.array([0] * 5, dtype="Int64")
    fields = {f.key: f.field for f in config.features}
    frame.loc[0, [fields["control"], fields["activity"], fields["community"], "active_days"]] = [9, 5, 4, 10.0]
    frame.loc[0, ["register_date", "last_active"]] = [dt.date(2023, 1, 1), dt.date(2024, 7, 3)]
    path = _parquet(frame, tmp_path / "snapshot.parquet")
    got = run_duckdb(build_sql(config, MONTH, "duckdb"), path).set_index("user_id")
    labels = {f.key: f.label("zh") for f in config.features}
    assert set(got.loc["00000000", "tags"].split("、")) == {labels["control"], labels["activity"], labels["community"]}


LAYERS = {
    "quantile": ValueLayers(value="消费金额", frequency="订单数", recency="距上次消费天数", quantile=0.8),
    "quantile_value_only": ValueLayers(value="消费金额", quantile=0.5),
    "thresholds": ValueLayers(value="消费金额", frequency="订单数", recency="距上次消费天数", method="thresholds",
                              value_min=500.0, frequency_min=3.0, recency_max_days=30.0),
    "thresholds_no_recency": ValueLayers(value="消费金额", frequency="订单数", method="thresholds",
                                         value_min=1000.0, frequency_min=5.0),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_value_layers_match_python(tmp_path: Path, name: str) -> None:
    config = dataclasses.replace(load_config(preset="car_app"), value_layers=LAYERS[name])
    frame = _with_extras(make_snapshot(config, users=2000, seed=5))
    diffs, engine = _compare(tmp_path, config, frame)
    assert diffs == {}
    python = _reference_layers(tmp_path, config)
    sql = engine.set_index("user_id")["value_layer"]
    assert sql.reindex(python.index).tolist() == python.tolist()
    assert set(python) == {"high_active", "high_sleeping", "potential", "general"}  # every layer is exercised


def test_value_layers_with_sessions_and_a_changed_cut_differs(tmp_path: Path) -> None:
    layers = LAYERS["thresholds"]
    config = dataclasses.replace(load_config(preset="car_app"), value_layers=layers, preference_share_of="sessions")
    frame = _with_extras(make_snapshot(config, users=1500, seed=9))
    diffs, engine = _compare(tmp_path, config, frame)
    assert diffs == {}
    python = _reference_layers(tmp_path, config)
    assert engine.set_index("user_id")["value_layer"].reindex(python.index).tolist() == python.tolist()
    other = dataclasses.replace(config, value_layers=dataclasses.replace(layers, value_min=501.0))
    moved = run_duckdb(build_sql(other, MONTH, "duckdb"), tmp_path / "snapshot.parquet").set_index("user_id")
    assert (moved["value_layer"].reindex(python.index) != python).sum() > 0  # the 500.0 ties drop below the cut


@pytest.mark.parametrize("dialect", ["spark", "trino", "postgres", "bigquery", "snowflake"])
def test_layers_and_sessions_transpile(dialect: str) -> None:
    config = dataclasses.replace(load_config(preset="car_app"), value_layers=LAYERS["quantile"],
                                 preference_share_of="sessions")
    sql = build_sql(config, MONTH, dialect)
    assert "value_layer" in sql and "active_days" in sql


def test_cli_sql_from_tagger_toml_matches_python(run_cli, tmp_path: Path) -> None:
    """The real command on a real tagger.toml: users and metrics SQL with sessions and quantile layers."""
    (tmp_path / "tagger.toml").write_text(
        '[preferences]\nshare_of = "sessions"\n\n'
        '[value_layers]\nvalue = "消费金额"\nfrequency = "订单数"\nrecency = "距上次消费天数"\nquantile = 0.7\n',
        encoding="utf-8")
    config = load_config(tmp_path / "tagger.toml")
    assert config.value_layers is not None and config.value_layers.quantile == 0.7
    frame = _with_extras(make_snapshot(config, users=1200, seed=12))
    path = _parquet(frame, tmp_path / "snapshot.parquet")
    code, sql, err = run_cli("sql", "--dialect", "duckdb", "--month", "2024-07", "--config", tmp_path / "tagger.toml")
    assert code == 0, err
    python, expected = python_reference(path, config)
    engine = run_duckdb(sql.strip().rstrip(";"), path)
    assert user_differences(python, engine) == {}
    layers = _reference_layers(tmp_path, config)
    assert engine.set_index("user_id")["value_layer"].reindex(layers.index).tolist() == layers.tolist()
    code, metrics_sql, err = run_cli("sql", "--dialect", "duckdb", "--month", "2024-07", "--what", "metrics",
                                     "--config", tmp_path / "tagger.toml")
    assert code == 0, err
    row = run_duckdb(metrics_sql.strip().rstrip(";"), path).iloc[0]
    assert int(row["mau"]) == expected.mau and int(row["cumulative"]) == expected.cumulative
