"""A newcomer's first hour: what stood in the way of someone running tagger on their own export.

Each test runs the real CLI on a file written here and reads the one line (or the workbook) it produces.
"""

from __future__ import annotations

from pathlib import Path

import pytest


def error_line(err: str) -> str:
    """The one non-empty line a user error prints."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# --------------------------------------------------------------------------- a missing column


def test_missing_column_says_what_is_missing_first_then_the_headers_then_how_to_map(
        run_cli, tmp_path: Path) -> None:
    export = tmp_path / "users_2024-07.csv"
    export.write_text("用户ID,开户时间,最近一次活跃时间\n1,2024-06-01,2024-07-02\n", encoding="utf-8")
    code, _, err = run_cli("tag", export, "--no-history", "--quiet")
    assert code == 2
    line = error_line(err)
    missing, headers, fix = line.index("缺少必需列：注册时间"), line.index("B '开户时间'"), line.index("[columns]")
    assert missing < headers < fix
    assert '[columns] register_date = "开户时间"' in line and "tagger wizard" in line

    code, _, err = run_cli("tag", export, "--no-history", "--quiet", "--lang", "en")
    line = error_line(err)
    assert line.index("missing required columns: registration date") < line.index("B '开户时间'") \
        < line.index('register_date = "开户时间"')


def test_mapping_the_named_header_as_suggested_reads_the_export(run_cli, tmp_path: Path) -> None:
    export = tmp_path / "users_2024-07.csv"
    export.write_text("用户ID,开户时间,最近一次活跃时间\n1,2024-06-01,2024-07-02\n", encoding="utf-8")
    (tmp_path / "tagger.toml").write_text('[columns]\nregister_date = "开户时间"\n', encoding="utf-8")
    code, _, err = run_cli("check", export)
    assert code == 0, err


def test_a_missing_column_with_no_alike_header_gets_a_placeholder(run_cli, tmp_path: Path) -> None:
    export = tmp_path / "users_2024-07.csv"
    export.write_text("用户ID,注册时间,手机号\n1,2024-06-01,138\n", encoding="utf-8")
    code, _, err = run_cli("tag", export, "--no-history", "--quiet")
    assert code == 2
    line = error_line(err)
    assert line.index("缺少必需列：最近一次活跃时间") < line.index("C '手机号'")
    assert 'last_active_date = "你的列名"' in line
