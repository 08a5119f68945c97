"""The CLI through its entry point: exit codes, one-line errors, clean --json stdout."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CSV_HEADER = "用户ID,注册时间,最近一次活跃时间,昵称\n"


def write_csv(path: Path, body: str, header: str = CSV_HEADER) -> Path:
    path.write_text(header + body, encoding="utf-8")
    return path


def test_json_stdout_is_exactly_one_object(run_cli, samples: Path, tmp_path: Path) -> None:
    code, out, err = run_cli("tag", samples / "car_app_2024-07.csv", "--no-history", "-o", tmp_path / "o.xlsx",
                             "--json")
    assert code == 0, err
    data = json.loads(out)
    assert set(data["segments"]) == {"new", "last_month_new", "active", "awakened", "returned", "dormant",
                                     "churned"}
    assert set(data["rates"]) == {"old_retention", "new_retention", "awaken_rate", "return_rate"}
    assert data["month"] == "2024-07" and data["rows"] == 2000
    assert data["mau"] == data["segments"]["new"] + sum(
        round(data["bases"][k] * data["rates"][k]) for k in data["rates"])
    assert data["output"] == str(tmp_path / "o.xlsx")


def test_summary_names_segments_and_output(run_cli, samples: Path, tmp_path: Path) -> None:
    code, out, _ = run_cli("tag", samples / "car_app_2024-07.csv", "--no-history", "-o", tmp_path / "o.xlsx")
    assert code == 0
    for label in ("新用户", "回流用户", "老用户次月留存率", "o.xlsx"):
        assert label in out


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("1,2024-07-01,2024-07-02,a\n1,2024-06-01,2024-07-03,b\n", ["用户ID '1'", "2, 3", "column A"]),
        ("1,2024-07-01,2024-07-02,a\n2,1/7/2024,2024-07-03,b\n", ["row 3", "column B '注册时间'", "1/7/2024"]),
        ("1,2024-07-01,2024-07-02,a\n,2024-07-01,2024-07-03,b\n", ["row 3", "用户ID为空"]),
    ],
)
def test_bad_input_is_one_line_and_exit_2(run_cli, tmp_path: Path, body: str, expected: list[str]) -> None:
    export = write_csv(tmp_path / "bad_2024-07.csv", body)
    code, out, err = run_cli("tag", export, "--no-history", "--quiet")
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("错误: bad_2024-07.csv")
    for part in expected:
        assert part in lines[0]
    assert "Traceback" not in err
    assert not (tmp_path / "bad_2024-07_tagged.xlsx").exists()


def test_missing_required_column(run_cli, tmp_path: Path) -> None:
    export = write_csv(tmp_path / "m.csv", "1,2024-07-01,a\n", header="用户ID,注册时间,昵称\n")
    code, _, err = run_cli("tag", export, "--no-history", "--lang", "en")
    assert code == 2
    assert "最近一次活跃时间" not in err or "last active" in err


def test_warnings_are_listed_not_fatal(run_cli, tmp_path: Path) -> None:
    export = write_csv(tmp_path / "w_2024-07.csv", "1,2024-07-05,2024-07-01,a\n2,2024-01-01,2024-07-02,b\n")
    code, out, err = run_cli("tag", export, "--no-history", "--json")
    assert code == 0
    assert any("早于注册时间" in w for w in json.loads(out)["warnings"])
    assert "早于注册时间" in err


def test_column_override_in_config(run_cli, tmp_path: Path) -> None:
    export = write_csv(tmp_path / "c_2024-07.csv", "7,2024-07-01,2024-07-02\n", header="会员号,开户日,最后一次打开\n")
    config = tmp_path / "tagger.toml"
    config.write_text('[columns]\nuser_id = "会员号"\nregister_date = "开户日"\nlast_active_date = "最后一次打开"\n',
                      encoding="utf-8")
    code, out, err = run_cli("tag", export, "--config", config, "--no-history", "--json")
    assert code == 0, err
    assert json.loads(out)["segments"]["new"] == 1


def test_history_conflict_needs_replace(run_cli, tmp_path: Path) -> None:
    a = write_csv(tmp_path / "a_2024-07.csv", "1,2024-07-01,2024-07-02,x\n")
    b = write_csv(tmp_path / "b_2024-07.csv", "1,2024-07-01,2024-07-02,x\n2,2024-07-01,2024-07-02,y\n")
    assert run_cli("tag", a, "--history", tmp_path / "h.sqlite", "-q")[0] == 0
    code, _, err = run_cli("tag", b, "--history", tmp_path / "h.sqlite", "-q")
    assert code == 2 and "--replace" in err
    assert run_cli("tag", b, "--history", tmp_path / "h.sqlite", "-q", "--replace")[0] == 0


def test_python_dash_m_and_version() -> None:
    proc = subprocess.run([sys.executable, "-m", "tagger", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("tagger ")
