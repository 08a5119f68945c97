"""Sheets and headers as people and BI tools make them: titles, merges, duplicates, hidden sheets, totals."""

from __future__ import annotations

from pathlib import Path

import python_calamine
import xlsxwriter

from tagger.pipeline import TagOptions, run
from tests.hostile import HEADER, one_error

USERS = "用户明细"
DATA = [["1001", "2024-07-01", "2024-07-20", "张三"], ["1002", "2024-05-03", "2024-07-02", "李四"]]


def book(path: Path) -> xlsxwriter.Workbook:
    return xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})


def write_rows(ws, rows, first: int = 0) -> None:
    for r, row in enumerate(rows, start=first):
        for c, value in enumerate(row):
            if value is not None:
                ws.write_string(r, c, value)


def read_users(path: Path) -> list[list[object]]:
    return python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(USERS).to_python()


def test_title_rows_and_merged_title_and_group_cells(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "title_merged_2024-07.xlsx"
    wb = book(path)
    ws = wb.add_worksheet("明细")
    ws.merge_range(0, 0, 0, 4, "2024年7月用户明细（导出时间 2024-08-01）")
    ws.write_string(1, 0, "基本信息")
    ws.merge_range(1, 2, 1, 3, "联系方式")
    write_rows(ws, [["用户ID", "注册时间", "最近一次活跃时间", "昵称", "手机号"]], 2)
    write_rows(ws, [row + ["13800138000"] for row in DATA], 3)
    wb.close()
    code, out, err = run_cli("check", path)
    assert code == 0, err
    assert "表头在第 3 行，2 行数据" in out
    result = run(TagOptions(export=path, use_history=False, write=False))
    assert result.table.header_row == 3 and list(result.table.frame.index) == [4, 5]


def test_two_level_merged_header(tmp_path: Path) -> None:
    path = tmp_path / "two_level_2024-07.xlsx"
    wb = book(path)
    ws = wb.add_worksheet(USERS)
    ws.merge_range(0, 0, 1, 0, "用户ID")
    ws.merge_range(0, 1, 0, 2, "时间")
    write_rows(ws, [[None, "注册时间", "最近一次活跃时间"]], 1)
    write_rows(ws, [row[:3] for row in DATA], 2)
    wb.close()
    result = run(TagOptions(export=path, use_history=False, write=False))
    assert result.table.header_row == 2
    assert result.users.frame["user_id"].tolist() == ["1001", "1002"]


def test_duplicate_headers_name_both_letters(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "dup_headers.xlsx"
    wb = book(path)
    ws = wb.add_worksheet(USERS)
    write_rows(ws, [["用户ID", "注册时间", "手机号", "手机号 ", "最近一次活跃时间"],
                    ["1", "2024-07-01", "138", "139", "2024-07-02"]])
    wb.close()
    for command in ("tag", "check"):
        code, _, err = run_cli(command, path)
        one_error(code, err, "dup_headers.xlsx", "sheet '用户明细'", "row 1", "列 C 和 D", "'手机号'", "删除或重命名")


def test_hidden_first_sheet_and_several_data_sheets(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "hidden_first_2024-07.xlsx"
    wb = book(path)
    config = wb.add_worksheet("配置")
    write_rows(config, [HEADER, ["9999", "2020-01-01", "2020-01-01", "配置行"]])
    config.hide()
    data = wb.add_worksheet(USERS)
    write_rows(data, [HEADER, *DATA])
    data.activate()
    other = wb.add_worksheet("上月")
    write_rows(other, [HEADER, ["2001", "2024-06-01", "2024-06-02", "王五"]])
    wb.close()
    code, out, err = run_cli("tag", path, "--no-history", "-o", tmp_path / "out.xlsx")
    assert code == 0, err
    assert "工作表 '上月' 也有用户表头，本次只读取了第一个 '用户明细'" in " ".join(out.split())
    assert [row[0] for row in read_users(tmp_path / "out.xlsx")[1:]] == ["1001", "1002"]
    code, _, err = run_cli("tag", path, "--no-history", "--sheet", "上月", "-o", tmp_path / "june.xlsx",
                           "--month", "2024-06")
    assert code == 0, err


def test_totals_row_and_trailing_formatted_empties(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "totals_trailing_2024-07.xlsx"
    wb = book(path)
    ws = wb.add_worksheet(USERS)
    fill = wb.add_format({"bg_color": "#FFFF00", "border": 1})
    write_rows(ws, [HEADER, *DATA, ["合计", None, None, "2 人"]])
    for r in range(4, 54):  # 50 formatted empty rows
        for c in range(7):  # and 3 formatted empty columns
            ws.write_blank(r, c, None, fill)
    for r in range(0, 4):
        for c in range(4, 7):
            ws.write_blank(r, c, None, fill)
    wb.close()
    code, out, err = run_cli("tag", path, "--no-history", "-o", tmp_path / "out.xlsx")
    assert code == 0, err
    assert "第 4 行是合计/总计行（'合计'），已排除，不计为用户" in " ".join(out.split())
    rows = read_users(tmp_path / "out.xlsx")
    assert [row[0] for row in rows[1:]] == ["1001", "1002"]
    assert rows[0][:5] == [*HEADER, rows[0][4]] and rows[0][4] not in ("", None)  # tag columns follow directly
    code, out, _ = run_cli("check", path)
    assert code == 0 and "第 4 行是合计/总计行" in " ".join(out.split())


def test_totals_row_with_blank_id_and_label_elsewhere(tmp_path: Path) -> None:
    path = tmp_path / "totals_blank_2024-07.xlsx"
    wb = book(path)
    ws = wb.add_worksheet(USERS)
    write_rows(ws, [HEADER, *DATA, [None, "总计：", None, None]])
    wb.close()
    result = run(TagOptions(export=path, use_history=False, write=False))
    assert result.users.frame["user_id"].tolist() == ["1001", "1002"]
    assert result.users.excluded_rows == [4]
    assert any("第 4 行是合计/总计行（'总计：'）" in w for w in result.warnings)


def test_blank_id_that_is_not_a_total_is_still_an_error(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "blank.xlsx"
    wb = book(path)
    ws = wb.add_worksheet(USERS)
    write_rows(ws, [HEADER, *DATA, [None, "2024-07-01", "2024-07-02", "合计张"]])
    wb.close()
    code, _, err = run_cli("check", path)
    one_error(code, err, "blank.xlsx", "row 4", "column A '用户ID'", "用户ID为空")
