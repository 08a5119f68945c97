"""``tagger check`` and :func:`tagger.check.check_export`: reports everything, writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tagger.check import check_export
from tagger.pipeline import TagOptions

CSV_HEADER = "用户ID,注册时间,最近一次活跃时间,昵称\n"


def write_csv(path: Path, body: str, header: str = CSV_HEADER) -> Path:
    path.write_text(header + body, encoding="utf-8")
    return path


def folder_state(folder: Path) -> dict[str, float]:
    return {str(p.relative_to(folder)): p.stat().st_mtime for p in folder.rglob("*")}


def test_report_on_the_july_sample(samples: Path) -> None:
    report = check_export(TagOptions(export=samples / "car_app_2024-07.csv", use_history=False))
    assert report.ok and report.exit_code == 0
    assert report.rows == 2000 and report.month == "2024-07"
    columns = {c.field: c for c in report.columns}
    assert (columns["user_id"].header, columns["user_id"].letter) == ("用户ID", "A")
    assert columns["last_active_date"].samples
    assert {d.field for d in report.dates} == {"register_date", "last_active_date", "prev_active_date"}
    july = next(d for d in report.dates if d.field == "last_active_date")
    assert july.last == "2024-07-31"
    assert report.segments["active"] == 1283 and report.mau == 1597
    assert report.output == samples / "car_app_2024-07_tagged.xlsx"


def test_check_command_writes_nothing(run_cli, samples: Path, tmp_path: Path) -> None:
    export = tmp_path / "car_app_2024-07.xlsx"
    export.write_bytes((samples / "car_app_2024-07.xlsx").read_bytes())
    before = folder_state(tmp_path)
    code, out, err = run_cli("check", export)
    assert code == 0, err
    for text in ("用户ID", "最近一次活跃时间", "2024-07", "2,000", "将写入", "car_app_2024-07_tagged.xlsx",
                 "检查通过，未写入任何文件"):
        assert text in out
    assert folder_state(tmp_path) == before


def test_check_reads_history_without_touching_it(run_cli, samples: Path, tmp_path: Path) -> None:
    history = tmp_path / "h.sqlite"
    assert run_cli("tag", samples / "car_app_2024-06.xlsx", "--history", history, "-o", tmp_path / "6.xlsx",
                   "-q")[0] == 0
    before = folder_state(tmp_path)
    code, out, _ = run_cli("check", samples / "car_app_2024-07.xlsx", "--history", history, "--json")
    assert code == 0
    data = json.loads(out)
    assert "2024-06" in data["prev_state"] and data["segments"]["awakened"] > 0
    assert folder_state(tmp_path) == before


@pytest.mark.parametrize(
    ("body", "header", "expected"),
    [
        ("1,2024-07-01,2024-07-02,a\n2,1/7/2024,2024-07-03,b\n", CSV_HEADER, ["row 3", "column B", "1/7/2024"]),
        ("1,2024-07-01,2024-07-02,a\n1,2024-06-01,2024-07-03,b\n", CSV_HEADER, ["用户ID '1'", "2, 3"]),
        ("1,2024-07-01,a\n", "用户ID,注册时间,昵称\n", ["最近一次活跃时间"]),
    ],
)
def test_bad_exports_exit_2_with_one_line(run_cli, tmp_path: Path, body: str, header: str,
                                          expected: list[str]) -> None:
    export = write_csv(tmp_path / "bad_2024-07.csv", body, header)
    code, out, err = run_cli("check", export)
    assert code == 2
    lines = [line for line in err.splitlines() if line.startswith("错误")]
    assert len(lines) == 1
    for part in expected:
        assert part in lines[0]
    assert "Traceback" not in err and "检查通过" not in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad_2024-07.csv"]


def test_warnings_are_listed(run_cli, tmp_path: Path) -> None:
    export = write_csv(tmp_path / "w_2024-07.csv", "1,2024-07-05,2024-07-01,a\n2,2024-01-01,2024-07-02,b\n")
    code, out, _ = run_cli("check", export, "--lang", "en")
    assert code == 0
    assert "before they registered" in out and "Check passed" in out


def test_json_report(run_cli, tmp_path: Path) -> None:
    export = write_csv(tmp_path / "j_2024-07.csv", "1,2024-07-01,2024-07-02,a\n")
    code, out, _ = run_cli("check", export, "--json", "--month", "2024-07")
    data = json.loads(out)
    assert code == 0 and data["ok"] and data["month"] == "2024-07" and data["segments"]["new"] == 1
    assert data["columns"][0] == {"field": "user_id", "label": "用户ID", "header": "用户ID", "letter": "A",
                                  "required": True, "samples": ["1"]}


def test_check_reads_a_duckdb_snapshot_as_tag_does(run_cli, tmp_path: Path) -> None:
    """``[sql] table`` and the ``[sql]`` column names: the same read step as ``tagger tag``."""
    import datetime as dt

    import duckdb
    import pandas as pd

    frame = pd.DataFrame({"uid": ["1", "2", "3"], "reg": [dt.date(2024, 5, 1)] * 3,
                          "seen": [dt.date(2024, 7, 2), dt.date(2024, 6, 3), dt.date(2024, 7, 5)]})
    database = tmp_path / "snap_2024-07.duckdb"
    with duckdb.connect(str(database)) as con:
        con.register("frame", frame)
        con.execute("CREATE TABLE snap AS SELECT * FROM frame")
    (tmp_path / "tagger.toml").write_text('[sql]\ntable = "snap"\nuser_id = "uid"\nregister_date = "reg"\n'
                                          'last_active = "seen"\n', encoding="utf-8")
    code, out, err = run_cli("check", database, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["ok"] and report["rows"] == 3 and report["month"] == "2024-07" and report["mau"] == 2
    assert run_cli("tag", database, "--no-history", "-q")[0] == 0
