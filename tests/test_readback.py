"""Reading a few columns of a big sheet back: values as calamine reads them, formulas as their text."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import xlsxwriter

from tagger.refresh import cell_text
from tagger.workbook.readback import typed_columns


def test_values_and_typed_formulas_of_the_wanted_columns(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = book.add_worksheet("用户 明细")
    ws.write_row(0, 0, ["id", "label", "note", "other"])
    ws.write_string(1, 0, "u1")
    ws.write_string(1, 1, "活跃用户")
    ws.write_formula(1, 2, '=A2&"<x>"', None, "u1<x>")  # typed as a live formula: carried as its text
    ws.write_formula(1, 3, "=1+1", None, 2)  # a formula in a column not asked for
    ws.write_number(2, 0, 1001)
    ws.write_string(2, 2, "=1+1")  # text that looks like a formula stays that text
    ws.write_datetime(3, 0, dt.datetime(2024, 7, 1), book.add_format({"num_format": "yyyy-mm-dd"}))
    book.close()

    rows = typed_columns(path, "用户 明细", [0, 1, 2, None], 2)

    assert rows[0] == (2, ["u1", "活跃用户", '=A2&"<x>"', None])
    assert rows[1] == (3, [1001, None, "=1+1", None])
    assert rows[2][0] == 4 and cell_text(rows[2][1][0]) == "2024-07-01"
    assert len(rows) == 3
