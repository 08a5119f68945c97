"""``tagger sql`` and the snapshot reader: the SQL on DuckDB gives every user what ``tagger tag`` gives."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import duckdb
import openpyxl
import pytest
import sqlglot

from tagger.config import available_presets, load_config
from tagger.metrics import RATE_BASES
from tagger.sql import DIALECTS, build_sql, pitfalls_in
from tests.snapshots import (MONTH, make_snapshot, metric_differences, python_reference, run_duckdb, user_differences,
                             write_parquet)

EXPECTED = Path(__file__).parent / "sql_expected"


def _compare(tmp_path: Path, config, **snapshot) -> dict[str, int]:
    path = write_parquet(make_snapshot(config, **snapshot), tmp_path / "snapshot.parquet")
    python, _ = python_reference(path, config)
    return user_differences(python, run_duckdb(build_sql(config, MONTH, "duckdb"), path))


@pytest.mark.parametrize("preset", available_presets())
def test_duckdb_matches_python_for_every_user_of_every_preset(tmp_path: Path, preset: str) -> None:
    config = load_config(preset=preset)
    assert _compare(tmp_path, config, seed=len(preset)) == {}


@pytest.mark.parametrize("churn", [1, 2, 3, 6])
def test_duckdb_matches_python_for_each_churn_window(tmp_path: Path, churn: int) -> None:
    config = dataclasses.replace(load_config(preset="car_app"), churn_after_months=churn)
    assert _compare(tmp_path, config, seed=churn) == {}


@pytest.mark.parametrize("threshold", [0.2, 0.25, 0.3, 0.4, 0.5])
def test_duckdb_matches_python_for_each_threshold(tmp_path: Path, threshold: float) -> None:
    config = dataclasses.replace(load_config(preset="car_app"), preference_threshold=threshold)
    assert _compare(tmp_path, config, seed=11) == {}


def test_a_different_threshold_shows_as_differences(tmp_path: Path) -> None:
    """The comparison is not blind: 3/10 is tagged at 0.3 and not at 0.31."""
    config = load_config(preset="car_app")
    path = write_parquet(make_snapshot(config), tmp_path / "snapshot.parquet")
    python, _ = python_reference(path, config)
    other = dataclasses.replace(config, preference_threshold=0.31)
    diffs = user_differences(python, run_duckdb(build_sql(other, MONTH, "duckdb"), path))
    assert diffs.get("tags", 0) > 0 and "segment" not in diffs


def test_share_exactly_at_the_threshold_is_tagged(tmp_path: Path) -> None:
    config = load_config(preset="car_app")
    frame = make_snapshot(config, users=20)
    keys = [f.field for f in config.features]
    for key in keys:
        frame[key] = 0
    frame.loc[0, keys[0]], frame.loc[0, keys[1]] = 3, 7
    path = write_parquet(frame, tmp_path / "snapshot.parquet")
    got = run_duckdb(build_sql(config, MONTH, "duckdb"), path).set_index("user_id")
    assert got.loc["00000000", "tags"] == "控车偏好、内容偏好"
    assert got.loc["00000000", "primary_key"] == "content"


def test_user_ids_come_back_unchanged_and_later_registrations_are_left_out(tmp_path: Path) -> None:
    config = load_config(preset="car_app")
    frame = make_snapshot(config, users=500)
    path = write_parquet(frame, tmp_path / "snapshot.parquet")
    got = run_duckdb(build_sql(config, MONTH, "duckdb"), path)
    later = {uid for uid, reg in zip(frame["user_id"], frame["register_date"], strict=True)
             if (reg.year * 12 + reg.month - 1) > MONTH}
    assert later and not later & set(got["user_id"])
    assert set(got["user_id"]) == set(frame["user_id"]) - later
    assert all(uid.startswith("00") for uid in got["user_id"])


def _null(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _sql_metrics(config, path: Path) -> dict[str, object]:
    return run_duckdb(build_sql(config, MONTH, "duckdb", what="metrics"), path).iloc[0].to_dict()


@pytest.mark.parametrize("churn", [1, 2, 6])
def test_metrics_equal_compute_metrics(tmp_path: Path, churn: int) -> None:
    config = dataclasses.replace(load_config(preset="car_app"), churn_after_months=churn)
    path = write_parquet(make_snapshot(config, seed=churn), tmp_path / "snapshot.parquet")
    _, expected = python_reference(path, config)
    got = _sql_metrics(config, path)
    assert metric_differences(got, expected) == {}
    assert int(got["churned_driving"]) == expected.groups.get("churned_driving", 0)
    assert math.isclose(got["active_rate"], expected.active_rate, abs_tol=1e-12)
    assert sum(expected.rates[rate] is not None for rate in RATE_BASES) >= 3
    for rate in RATE_BASES:
        assert int(got[f"base_{rate}"]) == expected.bases[rate]
        if expected.rates[rate] is None:  # an empty base (no dormant users when churn_after is 1)
            assert expected.bases[rate] == 0 and _null(got[rate])
            continue
        assert abs(got[rate] - expected.rates[rate]) <= 1e-12
        assert 0 <= got[rate] <= 1


def test_mau_is_new_plus_every_kept_base(tmp_path: Path) -> None:
    config = load_config(preset="car_app")
    path = write_parquet(make_snapshot(config, prev_in_month=0.0), tmp_path / "snapshot.parquet")
    got = _sql_metrics(config, path)
    assert int(got["unknown_prev"]) == 0
    assert int(got["mau"]) == int(got["new"]) + sum(int(got[f"kept_{rate}"]) for rate in RATE_BASES)


def test_rates_are_null_above_the_unknown_tolerance(tmp_path: Path) -> None:
    config = load_config(preset="car_app")
    path = write_parquet(make_snapshot(config, prev_in_month=0.05), tmp_path / "snapshot.parquet")
    python, expected = python_reference(path, config)
    got = _sql_metrics(config, path)
    assert int(got["unknown_prev"]) == expected.unknown_prev > 0
    assert all(expected.rates[rate] is None for rate in RATE_BASES)
    assert all(_null(got[rate]) for rate in RATE_BASES)
    assert int(got["active_unsplit"]) == expected.unsplit > 0


def test_empty_snapshot_gives_null_rates_not_a_division_error(tmp_path: Path) -> None:
    config = load_config(preset="car_app")
    path = write_parquet(make_snapshot(config, users=30).iloc[:0], tmp_path / "snapshot.parquet")
    got = _sql_metrics(config, path)
    assert int(got["cumulative"]) == 0
    assert all(_null(got[r]) for r in (*RATE_BASES, "active_rate"))


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("what", ["users", "metrics"])
def test_every_dialect_transpiles_without_pitfalls(dialect: str, what: str) -> None:
    sql = build_sql(load_config(preset="car_app"), MONTH, dialect, what=what)
    assert pitfalls_in(sql) == []
    assert "CONCAT_WS" not in sql.upper() and "DATE_DIFF" not in sql.upper() and "DATEDIFF" not in sql.upper()
    assert sqlglot.parse_one(sql, read=dialect) is not None


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("what, suffix", [("users", ""), ("metrics", "_metrics")])
def test_generated_sql_matches_the_expected_file(dialect: str, what: str, suffix: str) -> None:
    """An sqlglot upgrade that changes a dialect's SQL shows as a diff of tests/sql_expected/."""
    sql = build_sql(load_config(preset="car_app"), MONTH, dialect, what=what) + ";\n"
    assert sql == (EXPECTED / f"{dialect}{suffix}.sql").read_text(encoding="utf-8")


def test_cli_prints_one_statement_after_a_comment(run_cli, tmp_path: Path) -> None:
    code, out, err = run_cli("sql", "--dialect", "trino", "--month", "2024-07", "--table", "dw.snap",
                             "--what", "metrics", "--preset", "social")
    assert code == 0 and err == ""
    assert out.startswith("-- ") and out.rstrip().endswith(";")
    statements = [s for s in sqlglot.parse(out, read="trino") if s is not None]
    assert len(statements) == 1
    assert '"dw"."snap"' in out


def test_cli_reads_tagger_toml_and_its_sql_column_names(run_cli, tmp_path: Path) -> None:
    config = load_config(preset="car_app")
    path = write_parquet(make_snapshot(config, users=300), tmp_path / "s.parquet")
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        con.execute(f"CREATE TABLE snap AS SELECT * RENAME (user_id AS uid, last_active AS 最近活跃) "
                    f"FROM read_parquet('{path}')")
    (tmp_path / "tagger.toml").write_text(
        '[project]\npreset = "car_app"\n[lifecycle]\nchurn_after_months = 3\n'
        '[sql]\ntable = "snap"\nuser_id = "uid"\nlast_active = "最近活跃"\n', encoding="utf-8")
    code, out, _ = run_cli("sql", "--dialect", "duckdb", "--month", "2024-07", "-q")
    assert code == 0 and not out.startswith("--")
    with duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True) as con:
        got = con.execute(out).df()
    expected, metrics = python_reference(path, dataclasses.replace(config, churn_after_months=3))
    assert user_differences(expected, got) == {}
    # tagger tag reads the same table through the same [sql] names ([sql] table without --table)
    code, out, err = run_cli("tag", str(tmp_path / "wh.duckdb"), "--month", "2024-07", "--no-history", "--json")
    assert code == 0, err
    segments = json.loads(out)["segments"]
    assert {k: v for k, v in segments.items() if k != "new"} == {
        k: v for k, v in metrics.segments.items() if k != "new"}  # tagger tag also counts later sign-ups as new
    assert segments["new"] > metrics.segments["new"]


@pytest.mark.parametrize("argv, needle", [
    (["--month", "2024-13"], "2024-13"),
    (["--month", "2024-07", "--preset", "nope"], "nope"),
])
def test_cli_user_errors_exit_2_in_one_line(run_cli, argv: list[str], needle: str) -> None:
    code, out, err = run_cli("sql", "--dialect", "duckdb", *argv)
    assert code == 2 and out == ""
    assert needle in err and len(err.strip().splitlines()) == 1


def test_bad_sql_table_in_config_exits_2(run_cli, tmp_path: Path) -> None:
    (tmp_path / "tagger.toml").write_text('[sql]\nuser_idd = "uid"\n', encoding="utf-8")
    code, out, err = run_cli("sql", "--dialect", "duckdb", "--month", "2024-07")
    assert code == 2 and out == "" and "user_idd" in err


def test_tag_reads_a_parquet_snapshot_into_the_same_workbook(run_cli, tmp_path: Path) -> None:
    config = load_config(preset="car_app")
    frame = make_snapshot(config, users=200)
    frame = frame[[(d.year * 12 + d.month - 1) <= MONTH for d in frame["register_date"]]]
    path = write_parquet(frame, tmp_path / "snapshot_2024-07.parquet")
    code, out, err = run_cli("tag", str(path), "--no-history", "--json")
    assert code == 0, err
    data = json.loads(out)
    expected, metrics = python_reference(path, config)
    assert data["segments"] == metrics.segments and data["mau"] == metrics.mau
    book = openpyxl.load_workbook(tmp_path / "snapshot_2024-07_tagged.xlsx", read_only=True)
    assert len(book.sheetnames) > 1
    cells = {cell for ws in book.worksheets for row in ws.iter_rows(values_only=True) for cell in row}
    assert set(expected["user_id"]) <= cells  # every ID as text, leading zeros kept


def test_tag_reads_a_table_from_a_duckdb_database(run_cli, tmp_path: Path) -> None:
    config = load_config(preset="car_app")
    frame = make_snapshot(config, users=200)
    frame = frame[[(d.year * 12 + d.month - 1) <= MONTH for d in frame["register_date"]]]
    path = write_parquet(frame, tmp_path / "s.parquet")
    db = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute(f"CREATE TABLE july AS SELECT * FROM read_parquet('{path}')")
    code, out, err = run_cli("tag", str(db), "--table", "july", "--month", "2024-07", "--no-history", "--json")
    assert code == 0, err
    _, metrics = python_reference(path, config)
    assert json.loads(out)["segments"] == metrics.segments
    code, out, err = run_cli("tag", str(db), "--table", "august", "--month", "2024-07", "--no-history", "-q")
    assert code == 2 and "august" in err and "july" in err and len(err.strip().splitlines()) == 1


def test_a_damaged_parquet_file_is_one_error_line(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "snapshot_2024-07.parquet"
    path.write_bytes(b"PAR1 this is not really parquet")
    code, out, err = run_cli("tag", str(path), "--no-history", "-q")
    assert code == 2 and out == ""
    assert "snapshot_2024-07.parquet" in err and len(err.strip().splitlines()) == 1


def test_duplicate_ids_in_a_snapshot_name_the_rows(run_cli, tmp_path: Path) -> None:
    config = load_config(preset="car_app")
    frame = make_snapshot(config, users=50)
    frame = frame[[(d.year * 12 + d.month - 1) <= MONTH for d in frame["register_date"]]].reset_index(drop=True)
    frame.loc[5, "user_id"] = frame.loc[3, "user_id"]
    path = write_parquet(frame, tmp_path / "snapshot_2024-07.parquet")
    code, _, err = run_cli("tag", str(path), "--no-history", "-q")
    assert code == 2 and frame.loc[3, "user_id"] in err
    assert "row 5" in err and "5, 7" in err  # the header is row 1: frame rows 3 and 5 are rows 5 and 7


def test_check_reads_a_snapshot_without_writing(run_cli, tmp_path: Path) -> None:
    config = load_config(preset="car_app")
    frame = make_snapshot(config, users=100)
    path = write_parquet(frame, tmp_path / "snapshot_2024-07.parquet")
    code, out, err = run_cli("check", str(path), "--history", str(tmp_path / "h.sqlite"), "--json")
    assert code == 0, err
    assert not list(tmp_path.glob("*.xlsx"))
    assert "2024-07" in out
