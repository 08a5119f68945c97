"""The columnar xlsx read (fastexcel) gives exactly the cells python-calamine gives, or steps aside."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
import python_calamine
import xlsxwriter

import tagger.readers.excel as excel
import tagger.readers.xlsx_columns as xlsx_columns
from tagger.readers import Table, read_export

HEADER = ["用户ID", "注册时间", "最近一次活跃时间", "昵称", "次数", "开车", "备注", "登录时刻", "空列"]


def _workbook(path: Path, rows: int = 40, mixed_id_at: int | None = None) -> Path:
    """A title row, the header in row 3 from column B, typed columns, an error cell and a value-less formula."""
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("用户明细")
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    moment = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    clock = book.add_format({"num_format": "hh:mm"})
    sheet.write(0, 1, "2024年7月用户明细")
    sheet.write_row(2, 1, HEADER)
    for index in range(rows):
        row = 3 + index
        user = 13912345678 + index
        if index == mixed_id_at:
            sheet.write_number(row, 1, float(user))
        else:
            sheet.write_string(row, 1, f"0{user}")
        sheet.write_datetime(row, 2, dt.datetime(2024, 1, 1 + index % 28), day)
        sheet.write_datetime(row, 3, dt.datetime(2024, 7, 1 + index % 28, index % 24, 30), moment)
        sheet.write_string(row, 4, ["NA", " 小明 ", ""][index % 3])
        if index == 4:
            sheet.write_formula(row, 5, "=NA()", None, "#N/A")
        elif index == 5:
            sheet.write_formula(row, 5, "=1+1", None, "")
        else:
            sheet.write_number(row, 5, float(index % 7))
        sheet.write_boolean(row, 6, index % 2 == 0)
        if index % 5:
            sheet.write_datetime(row, 8, dt.time(index % 24, 15), clock)
    book.close()
    return path


def _read(path: Path, *, columnar: bool, monkeypatch: pytest.MonkeyPatch) -> Table:
    with monkeypatch.context() as patch:
        if not columnar:
            patch.setattr(excel, "columnar_usable", lambda _path: False)
        return read_export(path)


def _cells(table: Table) -> list[list[tuple[type, object]]]:
    return [[(type(value), value) for value in row] for row in table.frame.itertuples(index=False)]


def _assert_same(fast: Table, slow: Table) -> None:
    assert list(fast.frame.columns) == list(slow.frame.columns)
    assert list(fast.frame.index) == list(slow.frame.index)
    assert (fast.letters, fast.warnings, fast.header_row) == (slow.letters, slow.warnings, slow.header_row)
    assert fast.formula_cells == slow.formula_cells
    assert _cells(fast) == _cells(slow)


def test_typed_columns_read_as_calamine_reads_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _workbook(tmp_path / "export.xlsx")
    calls: list[str] = []
    real = xlsx_columns.read_columns
    monkeypatch.setattr(excel, "read_columns", lambda *args: calls.append("fastexcel") or real(*args))
    fast = _read(path, columnar=True, monkeypatch=monkeypatch)
    slow = _read(path, columnar=False, monkeypatch=monkeypatch)
    assert calls == ["fastexcel"]
    _assert_same(fast, slow)
    first = fast.frame.loc[4]
    assert first["用户ID"] == "013912345678"
    assert first["注册时间"] == dt.date(2024, 1, 1) and type(first["注册时间"]) is dt.date
    assert first["最近一次活跃时间"] == dt.datetime(2024, 7, 1, 0, 30)
    assert first["开车"] is True and first["空列"] is None
    assert fast.frame.loc[5, "登录时刻"] == dt.time(1, 15)
    assert fast.frame.loc[4, "备注"] is None  # a column with no value at all
    assert [cell.ref for cell in fast.formula_cells["次数"]] == ["F8", "F9"]
    assert fast.letters["用户ID"] == "B"


def test_a_column_mixing_types_is_read_by_calamine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An ID typed as a number after row 1,000 keeps its own type: fastexcel would give one dtype per column."""
    path = _workbook(tmp_path / "mixed.xlsx", rows=1_200, mixed_id_at=1_100)
    assert xlsx_columns.read_columns(path, "用户明细", (0, 1), 2, [None, *HEADER]) is None
    fast = _read(path, columnar=True, monkeypatch=monkeypatch)
    assert fast.frame.loc[1_104, "用户ID"] == 13912345678.0 + 1_100
    assert fast.frame.loc[1_103, "用户ID"] == "013912346777"
    _assert_same(fast, _read(path, columnar=False, monkeypatch=monkeypatch))


def test_head_copy_keeps_the_first_rows_and_the_merges(tmp_path: Path) -> None:
    path = tmp_path / "merged.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.merge_range("A1:A2", "用户ID")
    sheet.merge_range("B1:C1", "时间")
    sheet.write_row(1, 1, ["注册时间", "最近一次活跃时间"])
    for row in range(2, 100):
        sheet.write_row(row, 0, [f"u{row}", "2024-07-01", "2024-07-02"])
    book.close()
    copy = xlsx_columns.head_copy(path, 5)
    assert copy is not None
    head = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(copy)).get_sheet_by_index(0)
    assert head.height == 5
    assert sorted(head.merged_cell_ranges or []) == [((0, 0), (1, 0)), ((0, 1), (0, 2))]


def test_the_1904_date_system_is_left_to_calamine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "mac.xlsx"
    book = xlsxwriter.Workbook(str(path), {"date_1904": True})
    sheet = book.add_worksheet()
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, HEADER[:3])
    for row in range(1, 20):
        sheet.write_row(row, 0, [f"u{row}"])
        sheet.write_datetime(row, 1, dt.datetime(2024, 1, row), day)
        sheet.write_datetime(row, 2, dt.datetime(2024, 7, row), day)
    book.close()
    assert xlsx_columns.head_copy(path, 30) is None
    table = _read(path, columnar=True, monkeypatch=monkeypatch)
    assert table.frame.loc[2, "注册时间"] == dt.date(2024, 1, 1)
    _assert_same(table, _read(path, columnar=False, monkeypatch=monkeypatch))
