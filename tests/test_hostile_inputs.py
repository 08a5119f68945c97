"""Bad inputs that must end in one error line (exit 2) or a warning naming the cells, with nothing stored."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import xlsxwriter

from tests.hostile import HEADER, one_error, write_csv, write_xlsx

USERS = "用户明细"
BODY = "1001,2024-05-01,2024-07-20,张三\n1002,2024-06-03,2024-07-02,李四\n1003,2024-04-03,2024-06-02,王五\n"


def stored_users(history: Path, month: str) -> int:
    with sqlite3.connect(history) as db:
        return db.execute("SELECT COUNT(*) FROM month_users WHERE month = ?", (month,)).fetchone()[0]


def notes(out: str) -> str:
    return " ".join(out.split())


# --------------------------------------------------------------------------- empty exports


def test_header_only_export_is_refused_by_tag_and_check(run_cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "users_2024-07.csv", "")
    history = tmp_path / "h.sqlite"
    code, _, err = run_cli("tag", path, "--history", history)
    one_error(code, err, "users_2024-07.csv", "没有用户行", "只有表头")
    assert not (tmp_path / "users_2024-07_tagged.xlsx").exists()
    code, _, err = run_cli("check", path, "--history", history)
    one_error(code, err, "users_2024-07.csv", "没有用户行")


def test_export_of_only_totals_rows_is_refused(run_cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "totals_2024-07.csv", "合计,,,\n")
    code, _, err = run_cli("tag", path, "--no-history", "--lang", "en")
    one_error(code, err, "totals_2024-07.csv", "no user rows", "totals rows")


def _july_tagged(run_cli, folder: Path) -> tuple[Path, Path]:
    """July's three users tagged into a history and a workbook: (history, workbook)."""
    history, workbook = folder / "h.sqlite", folder / "七月.xlsx"
    code, _, err = run_cli("tag", write_csv(folder / "users_2024-07.csv", BODY), "--history", history, "-o", workbook)
    assert code == 0, err
    return history, workbook


def test_refresh_with_an_empty_export_keeps_the_stored_month_and_the_workbook(run_cli, tmp_path: Path) -> None:
    history, workbook = _july_tagged(run_cli, tmp_path)
    before = workbook.read_bytes()
    empty = write_csv(tmp_path / "users_2024-07-15.csv", "")
    code, _, err = run_cli("refresh", empty, "--workbook", workbook, "-o", workbook, "--history", history,
                           "--month", "2024-07", "--replace")
    one_error(code, err, "没有用户行")
    assert stored_users(history, "2024-07") == 3
    assert workbook.read_bytes() == before


def test_refresh_with_a_damaged_workbook_and_an_empty_export_names_the_workbook(run_cli, tmp_path: Path) -> None:
    """Both are read side by side; the last workbook's error is the one shown, as when it was read first."""
    history, workbook = _july_tagged(run_cli, tmp_path)
    damaged = tmp_path / "七月_坏.xlsx"
    damaged.write_bytes(workbook.read_bytes()[:1500])
    empty = write_csv(tmp_path / "users_2024-07-15.csv", "")
    out = tmp_path / "八月.xlsx"
    code, _, err = run_cli("refresh", empty, "--workbook", damaged, "-o", out, "--history", history,
                           "--month", "2024-07", "--replace")
    line = one_error(code, err, "七月_坏.xlsx", "已损坏")
    assert "没有用户行" not in line
    assert stored_users(history, "2024-07") == 3 and not out.exists()


# --------------------------------------------------------------------------- Excel error cells, formulas


def _formula_export(path: Path, cells: dict[tuple[int, int], tuple[str, str]]) -> Path:
    """Three users; ``cells`` puts a formula with the given cached value ("" = none) at (row, col)."""
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    sheet = book.add_worksheet(USERS)
    sheet.write_row(0, 0, [*HEADER, "控车次数"])
    for r, line in enumerate(BODY.splitlines(), start=1):
        for c, value in enumerate([*line.split(","), "3"]):
            if (r, c) in cells:
                formula, cached = cells[(r, c)]
                sheet.write_formula(r, c, formula, None, cached)
            else:
                sheet.write_string(r, c, value)
    book.close()
    return path


def test_error_cell_in_a_date_column_names_the_cell(run_cli, tmp_path: Path) -> None:
    path = _formula_export(tmp_path / "na_2024-07.xlsx", {(2, 2): ("=NA()", "#N/A")})
    code, _, err = run_cli("tag", path, "--no-history")
    one_error(code, err, "na_2024-07.xlsx", "sheet '用户明细'", "row 3", "column C '最近一次活跃时间'", "#N/A", "C3")
    code, _, err = run_cli("check", path)
    one_error(code, err, "#N/A", "C3")


def test_error_cells_elsewhere_and_uncached_formulas_are_named(run_cli, tmp_path: Path) -> None:
    path = _formula_export(tmp_path / "f_2024-07.xlsx", {(1, 3): ("=1/0", "#DIV/0!"), (2, 4): ("=A1*0", ""),
                                                          (3, 4): ("=A1", "")})
    code, out, err = run_cli("tag", path, "--no-history")
    assert code == 0, err
    text = notes(out + err)
    assert "列 昵称 有 1 个 Excel 错误值（D2 #DIV/0!）" in text
    assert "列 控车次数 有 2 个公式没有保存计算结果（E3, E4）" in text


def test_csv_error_text_in_a_date_column_is_the_same_error(run_cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "na_2024-07.csv", "1001,2024-05-01,#N/A,张三\n")
    code, _, err = run_cli("check", path)
    one_error(code, err, "row 2", "最近一次活跃时间", "Excel 错误值 '#N/A'", "C2")


def test_blank_last_active_warns_with_rows_or_refuses_when_configured(run_cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "blank_2024-07.csv", "1001,2024-05-01,,张三\n1002,2024-06-03,2024-07-02,李四\n")
    code, out, err = run_cli("tag", path, "--no-history")
    assert code == 0, err
    assert "有 1 个最近活跃时间为空（第 2 行）" in notes(out + err)
    config = tmp_path / "tagger.toml"
    config.write_text('[lifecycle]\nblank_last_active = "error"\n',
                      encoding="utf-8")
    code, _, err = run_cli("tag", path, "--no-history", "--config", config)
    one_error(code, err, "blank_2024-07.csv", "row 2", "最近活跃时间为空")


# --------------------------------------------------------------------------- placeholder dates


def test_placeholder_dates_are_missing_with_a_warning(run_cli, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "never_2024-07.xlsx", [
        ["1001", "2024-05-01", "9999-12-31", "张三"], ["1002", "2024-06-03", "2024-07-02", "李四"],
        ["1003", "2024-06-03", "0001-01-01", "王五"]])
    history = tmp_path / "h.sqlite"
    code, out, err = run_cli("tag", path, "--history", history)
    assert code == 0, err
    assert "有 2 个占位日期（第 2, 4 行，如 '9999-12-31'），按空值处理" in notes(out + err)
    assert stored_users(history, "2024-07") == 3


def test_placeholder_registration_date_is_refused(run_cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "never_2024-07.csv", "1001,9999-12-31,2024-07-02,张三\n")
    code, _, err = run_cli("tag", path, "--no-history", "--lang", "en")
    one_error(code, err, "row 2", "placeholder '9999-12-31'")


# --------------------------------------------------------------------------- months and outputs


def test_month_zero_and_month_before_every_registration_are_refused(run_cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "users.csv", BODY)
    history = tmp_path / "h.sqlite"
    code, _, err = run_cli("tag", path, "--month", "0000-01", "--history", history)
    one_error(code, err, "0000-01", "不是月份")
    code, _, err = run_cli("tag", path, "--month", "2020-01", "--history", history)
    one_error(code, err, "users.csv", "2020-01", "早于所有用户的注册时间", "2024-04")
    code, _, err = run_cli("check", path, "--month", "2020-01", "--history", history)
    one_error(code, err, "早于所有用户的注册时间")
    assert not history.exists() or stored_users(history, "2020-01") == 0
    assert not (tmp_path / "users_tagged.xlsx").exists()


def test_unusable_output_paths_are_refused_before_anything_is_stored(run_cli, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "users_2024-07.xlsx")
    history = tmp_path / "h.sqlite"
    folder = tmp_path / "out"
    folder.mkdir()
    for output, part in ((folder, "是一个文件夹"), (tmp_path / "out.csv", "必须是 .xlsx"),
                         (path, "不能是输入文件本身")):
        before = path.read_bytes()
        code, _, err = run_cli("tag", path, "-o", output, "--history", history)
        one_error(code, err, part)
        assert path.read_bytes() == before
    assert not history.exists()
    assert not (tmp_path / "out.csv").exists()


# --------------------------------------------------------------------------- check validates the config as tag


def test_check_refuses_rules_naming_an_unknown_group_as_tag_does(run_cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "users_2024-07.csv", BODY)
    config = tmp_path / "tagger.toml"
    config.write_text('[[rules]]\nname = "x"\ngroup = "no_such_group"\n'
                      'channel = "短信"\n', encoding="utf-8")
    tag_code, _, tag_err = run_cli("tag", path, "--no-history", "--config", config)
    tag_line = one_error(tag_code, tag_err, "no_such_group")
    check_code, _, check_err = run_cli("check", path, "--config", config)
    assert one_error(check_code, check_err, "no_such_group") == tag_line


# --------------------------------------------------------------------------- csv oddities


def test_nul_byte_in_a_nickname_is_removed_with_a_warning(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "nul_2024-07.csv"
    path.write_bytes(("用户ID,注册时间,最近一次活跃时间,昵称\n" + BODY.replace("张三", "张\x00三")).encode("utf-8"))
    code, out, err = run_cli("tag", path, "--no-history")
    assert code == 0, err
    assert "column D '昵称': 1 个单元格含控制字符或无效字符（第 2 行），已删除" in notes(out + err)


def test_ten_megabyte_line_before_the_header_is_named(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "long_2024-07.csv"
    path.write_bytes(("x" * (10 << 20) + "\n" + ",".join(HEADER) + "\n" + BODY).encode("utf-8"))
    code, _, err = run_cli("check", path)
    line = one_error(code, err, "long_2024-07.csv", "row 1", "超过 131072 个字符的字段")
    assert "前 30 行都是空的" not in line


def test_ten_megabyte_cell_is_truncated_with_a_warning(run_cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "long_2024-07.csv", BODY.replace("张三", "长" * (10 << 20)))
    code, out, err = run_cli("check", path)
    assert code == 0, err
    assert "工作簿中已截断" in notes(out + err)
