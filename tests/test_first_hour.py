"""A newcomer's first hour: what stood in the way of someone running tagger on their own export.

Each test runs the real CLI (or the wizard through its prompts) on a file written here and reads the one
line, or the workbook, it produces.
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from pathlib import Path

import openpyxl


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


# --------------------------------------------------------------------------- US-format dates

US_EXPORT = ("用户ID,注册时间,最近一次活跃时间\n"
             "1,01/07/2024 10:00,07/02/2024 13:52\n"      # 7 January 2024 (mdy); 2 July
             "2,03/05/2024,07/13/2024 09:01\n"            # 5 March; 13 July proves month/day/year
             "3,07/01/2024 1:05 PM,07/01/2024 1:05 PM\n")  # registered 1 July 2024: new in July


def users_sheet(path: Path) -> dict[str, dict[str, object]]:
    """The Users sheet read back: user ID -> {header: value}."""
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        sheet = book[next(name for name in book.sheetnames if "用户明细" in name or "Users" in name)]
        rows = list(sheet.iter_rows(values_only=True))
    finally:
        book.close()
    header_index = next(i for i, row in enumerate(rows) if "用户ID" in row)
    header = rows[header_index]
    return {str(row[header.index("用户ID")]): dict(zip(header, row, strict=True)) for row in rows[header_index + 1:]
            if row[header.index("用户ID")] is not None}


def test_us_dates_are_refused_naming_the_order_one_cell_proves(run_cli, tmp_path: Path) -> None:
    export = tmp_path / "us_2024-07.csv"
    export.write_text(US_EXPORT, encoding="utf-8")
    for command in ("tag", "check"):
        code, _, err = run_cli(command, export, "--no-history", "--quiet") if command == "tag" else \
            run_cli(command, export, "--quiet")
        assert code == 2
        line = error_line(err)
        assert "row 2, column B '注册时间'" in line and "01/07/2024 10:00" in line
        assert "“最近一次活跃时间”列第 3 行的 '07/13/2024 09:01' 只能是月/日/年" in line
        assert "--date-order mdy" in line and '[columns] date_order = "mdy"' in line
    assert not (tmp_path / "us_2024-07_tagged.xlsx").exists()


def test_date_order_mdy_reads_us_dates_into_the_workbook(run_cli, tmp_path: Path) -> None:
    export = tmp_path / "us_2024-07.csv"
    export.write_text(US_EXPORT, encoding="utf-8")
    code, out, err = run_cli("tag", export, "--no-history", "--date-order", "mdy", "--json", "-o",
                             tmp_path / "out.xlsx")
    assert code == 0, err
    data = json.loads(out)
    assert data["month"] == "2024-07" and data["segments"]["new"] == 1 and data["mau"] == 3
    users = users_sheet(tmp_path / "out.xlsx")
    registered = {uid: row["注册时间"] for uid, row in users.items()}
    assert registered["1"] == dt.datetime(2024, 1, 7, 10, 0) and registered["2"] == dt.datetime(2024, 3, 5)
    assert users["3"]["最近一次活跃时间"] == dt.datetime(2024, 7, 1, 13, 5)


def test_date_order_from_the_config_and_a_wrong_order_names_the_right_one(run_cli, tmp_path: Path) -> None:
    export = tmp_path / "us_2024-07.csv"
    export.write_text(US_EXPORT, encoding="utf-8")
    (tmp_path / "tagger.toml").write_text('[columns]\ndate_order = "mdy"\n', encoding="utf-8")
    code, _, err = run_cli("check", export, "--quiet")
    assert code == 0, err
    code, _, err = run_cli("check", export, "--quiet", "--date-order", "dmy", "--lang", "en")  # the option wins
    line = error_line(err)
    assert code == 2 and "row 3, column C" in line and "not a valid day/month/year date" in line
    assert "use --date-order mdy" in line


def test_ambiguous_dates_with_no_proof_name_both_options(run_cli, tmp_path: Path) -> None:
    export = tmp_path / "amb_2024-07.csv"
    export.write_text("用户ID,注册时间,最近一次活跃时间\n1,01/07/2024,07/02/2024\n", encoding="utf-8")
    code, _, err = run_cli("tag", export, "--no-history", "--quiet")
    line = error_line(err)
    assert code == 2 and "可能是 2024-01-07，也可能是 2024-07-01" in line
    assert "--date-order mdy" in line and "--date-order dmy" in line
    code, _, err = run_cli("tag", export, "--no-history", "--quiet", "--date-order", "dmy", "-o", tmp_path / "o.xlsx")
    assert code == 0, err
    assert users_sheet(tmp_path / "o.xlsx")["1"]["注册时间"].month == 7


def test_an_unknown_date_order_in_the_config_is_a_config_error(run_cli, tmp_path: Path) -> None:
    export = tmp_path / "us_2024-07.csv"
    export.write_text(US_EXPORT, encoding="utf-8")
    (tmp_path / "tagger.toml").write_text('[columns]\ndate_order = "usa"\n', encoding="utf-8")
    code, _, err = run_cli("check", export, "--quiet")
    assert code == 2 and "columns.date_order" in error_line(err) and "mdy" in err


# --------------------------------------------------------------------------- unknown settings

MISSPELT = """[project]
preset = "car_app"
langauge = "en"

[preferences]
threshold = 0.3
shares_of = "sessions"

[colums]
user_id = "会员编号"

[columns]
regster_date = "注册时间"

[[playbook]]
group = "new"
goal = "new_retention"
channel = "push"
stratgy = "新手任务"
strategy = "新手任务"
"""


def test_unknown_settings_are_warned_with_file_line_and_nearest_key(run_cli, samples: Path,
                                                                     tmp_path: Path) -> None:
    (tmp_path / "tagger.toml").write_text(MISSPELT, encoding="utf-8")
    code, out, err = run_cli("check", samples / "car_app_2024-07.csv")
    assert code == 0, err
    text = " ".join(out.split())
    for line, key, near in ((3, "project.langauge", "project.language"), (7, "preferences.shares_of", None),
                            (9, "colums", "columns"), (13, "columns.regster_date", "columns.register_date"),
                            (19, "playbook.stratgy", "playbook.strategy")):
        expected = f"tagger.toml 第 {line} 行：不认识的设置 {key}，已忽略" + (f"；是不是 {near}？" if near else "")
        assert expected in text, text

    code, out, err = run_cli("tag", samples / "car_app_2024-07.csv", "--no-history", "--json", "--lang", "en",
                             "-o", tmp_path / "o.xlsx")
    assert code == 0, err
    warnings = json.loads(out)["warnings"]
    assert any(w.endswith("line 9: unknown setting colums, ignored; did you mean columns?") for w in warnings)
    assert sum("unknown setting" in w for w in warnings) == 5


def test_the_files_tagger_writes_and_the_presets_have_no_unknown_keys(run_cli, samples: Path,
                                                                      tmp_path: Path) -> None:
    from tagger.config import available_presets, load_config, preset_text

    code, _, err = run_cli("init")
    assert code == 0, err
    assert load_config(tmp_path / "tagger.toml").warnings == []
    for name in available_presets():  # a full copy of a preset as a project's file: every key is read
        copy = tmp_path / f"copy_{name}.toml"
        copy.write_text(preset_text(name), encoding="utf-8")
        assert load_config(copy).warnings == [], name


# --------------------------------------------------------------------------- a wrong export path


def test_a_wrong_export_path_names_the_nearest_exports_in_that_folder(run_cli, tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    for name in ("用户明细_2024-07.xlsx", "用户明细_2024-06.xlsx", "用户明细_2024-06_tagged.xlsx", "notes.md"):
        (folder / name).write_bytes(b"x")
    code, _, err = run_cli("tag", folder / "用户明细_2024-7.xlsx", "--no-history", "--quiet")
    assert code == 2
    line = error_line(err)
    assert "找不到这个文件；同一文件夹中名字相近的有：'用户明细_2024-07.xlsx'" in line
    assert "_tagged" not in line and "notes.md" not in line

    code, _, err = run_cli("check", folder / "september.csv", "--quiet", "--lang", "en")
    line = error_line(err)
    assert code == 2 and "file not found; the exports in that folder are: " in line and "用户明细_2024-07.xlsx" in line

    code, _, err = run_cli("check", tmp_path / "nowhere" / "x.csv", "--quiet")
    assert code == 2 and "也不存在" in error_line(err)


def test_tagger_sql_warns_of_unknown_settings_on_stderr_only(run_cli, tmp_path: Path) -> None:
    (tmp_path / "tagger.toml").write_text("[lifecycle]\nchurn_after_month = 3\n", encoding="utf-8")
    code, out, err = run_cli("sql", "--dialect", "duckdb", "--month", "2024-07")
    assert code == 0, err
    assert "不认识" not in out and "churn_after_month" not in out and out.rstrip().endswith(";")
    assert "第 2 行：不认识的设置 lifecycle.churn_after_month，已忽略；是不是 lifecycle.churn_after_months？" in \
        " ".join(err.split())


def test_refresh_takes_the_date_order_too(run_cli, tmp_path: Path) -> None:
    export = tmp_path / "us_2024-07.csv"
    export.write_text(US_EXPORT, encoding="utf-8")
    code, _, err = run_cli("refresh", export, "--no-history", "--quiet", "-o", tmp_path / "r.xlsx")
    assert code == 2 and "--date-order mdy" in error_line(err)
    code, _, err = run_cli("refresh", export, "--no-history", "--quiet", "--date-order", "mdy",
                           "-o", tmp_path / "r.xlsx")
    assert code == 0, err
    assert users_sheet(tmp_path / "r.xlsx")["2"]["注册时间"] == dt.datetime(2024, 3, 5)


def test_the_wizard_asks_the_order_of_ambiguous_dates_and_saves_the_answer(tmp_path: Path) -> None:
    from tests.test_wizard import DOWN, ENTER, SETTINGS_DEFAULTS, drive

    (tmp_path / "users_2024-07.csv").write_text(
        "用户ID,注册时间,最近一次活跃时间\n1,02/07/2024,05/07/2024\n2,01/03/2024,06/07/2024 08:30\n", encoding="utf-8")
    keys = ENTER + DOWN + ENTER + ENTER + ENTER + SETTINGS_DEFAULTS  # export, 日/月/年, month, mapping, the rest
    result, _ = drive(keys, tmp_path)
    assert result.month == "2024-07"  # guessed from the file name once the order was known
    config = tomllib.loads((tmp_path / "tagger.toml").read_text(encoding="utf-8"))
    assert config["columns"]["date_order"] == "dmy"
    users = users_sheet(tmp_path / "users_2024-07_tagged.xlsx")
    assert users["1"]["注册时间"] == dt.datetime(2024, 7, 2) and users["2"]["注册时间"] == dt.datetime(2024, 3, 1)
