"""The row XML writer against xlsxwriter's own output, cell by cell.

The same cells are written twice: by xlsxwriter's ``write_*`` calls (``constant_memory``,
as tagger wrote them before) and by :mod:`tagger.workbook.rowxml` spliced into an
xlsxwriter package. Both files are read back with openpyxl (value, type, formula, number
format, fill) and python-calamine (values), and must agree everywhere.
"""

from __future__ import annotations

import datetime as dt
import math
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from tagger.workbook import rowxml

TEXTS = ["plain", "A&B <c> >", "  leading", "trailing ", "\tTab", "line\nbreak", "控车偏好、内容偏好",
         "emoji 🚗😀", "_x0041_ literal", "ctrl\x01char", 'say "hi"', "", None, "=SUM(A1)", "+1", "-1",
         "x" * 40_000, "😀" * 20_000, "a|b", "a| b", 12.5, float("nan")]
NUMBERS = [1.0, 0.1, 1e-12, 45292.999988426, -3.25, None, float("nan"), "12次 unreadable", 45500.5]
AUTO = ["text", "", None, True, False, 7, 3.5, np.int64(9), np.float64(2.5), float("nan"),
        dt.datetime(2024, 7, 1, 13, 52, 7), dt.date(1900, 2, 28), dt.date(1900, 3, 1), dt.time(8, 30), "A&B"]
FORMULA_VALUES = ["活跃用户", "", None, 3, 2.5, True, False, "#N/A", "a<b&c"]
FORMULA_TEXTS = ["活跃用户", "", "流失用户-仍开车", "控车偏好、内容偏好"]  # a column of plain text results
FORMULA_INTS = [0, 3, -2, 120]


def _formula(row: int) -> str:
    return f'IF(A{row}="","",LEN(A{row})&"<&>")+$B$1+B{row}'


def _reference(path: Path, n: int) -> None:
    """The cells written through xlsxwriter's own API."""
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                           "strings_to_urls": False, "strings_to_numbers": False})
    text, date, fill = (book.add_format(f) for f in ({"num_format": "@"}, {"num_format": "yyyy-mm-dd hh:mm:ss"},
                                                      {"bg_color": "#FFF2CC"}))
    ws = book.add_worksheet("用户明细")
    ws.write_string(0, 0, "header")
    for i in range(n):
        row = i + 1
        value = TEXTS[i % len(TEXTS)]
        if isinstance(value, str) and value:
            ws.write_string(row, 0, value, text)
        elif isinstance(value, float) and not math.isnan(value):
            ws.write_string(row, 0, str(value), text)
        number = NUMBERS[i % len(NUMBERS)]
        if isinstance(number, float) and not math.isnan(number):
            ws.write_number(row, 1, number, date)
        elif isinstance(number, str):
            ws.write_string(row, 1, number, text)
        _write_auto(ws, row, AUTO[i % len(AUTO)], text, date)
        result = FORMULA_VALUES[i % len(FORMULA_VALUES)]
        ws.write_formula(row, 3, "=" + _formula(row + 1), fill, "" if result is None else result)
        ws.write_formula(row, 4, f"=C{row + 1}&$A$1", text, FORMULA_TEXTS[i % len(FORMULA_TEXTS)])
        ws.write_formula(row, 5, f"=LEN(A{row + 1})", None, FORMULA_INTS[i % len(FORMULA_INTS)])
    book.close()


def _write_auto(ws: Worksheet, row: int, auto: object, text: Format, date: Format) -> None:
    """One cell of the ``auto`` column as xlsxwriter's typed calls write it (blank: nothing written)."""
    if isinstance(auto, str) and auto:
        ws.write_string(row, 2, auto, text)
    elif isinstance(auto, bool):
        ws.write_boolean(row, 2, auto)
    elif isinstance(auto, (int, float, np.integer, np.floating)) and not math.isnan(float(auto)):
        ws.write_number(row, 2, float(auto))
    elif isinstance(auto, (dt.datetime, dt.date)):
        ws.write_datetime(row, 2, auto, date)
    elif auto is not None and not isinstance(auto, (str, float)):
        ws.write_string(row, 2, str(auto), text)


def _streamed(path: Path, n: int) -> None:
    """The same cells as row XML spliced into an xlsxwriter package."""
    package = path.with_name("package.xlsx")
    book = xlsxwriter.Workbook(str(package), {"constant_memory": True})
    text, date, fill = (book.add_format(f) for f in ({"num_format": "@"}, {"num_format": "yyyy-mm-dd hh:mm:ss"},
                                                      {"bg_color": "#FFF2CC"}))
    ws = book.add_worksheet("用户明细")
    ws.write_string(0, 0, "header")
    index = {name: fmt._get_xf_index() for name, fmt in (("text", text), ("date", date), ("fill", fill))}
    book.close()
    cycle = lambda values: [values[i % len(values)] for i in range(n)]  # noqa: E731
    columns = [
        rowxml.ColumnCells(0, "text", cycle(TEXTS), index["text"]),
        rowxml.ColumnCells(1, "number", cycle(NUMBERS), index["date"], text_style=index["text"],
                           date_style=index["date"]),
        rowxml.ColumnCells(2, "auto", cycle(AUTO), text_style=index["text"], date_style=index["date"]),
        rowxml.ColumnCells(3, "formula", cycle(FORMULA_VALUES), index["fill"], formula=_formula(2)),
        rowxml.ColumnCells(4, "formula", cycle(FORMULA_TEXTS), index["text"], formula="C2&$A$1", shared_index=1),
        rowxml.ColumnCells(5, "formula", cycle(FORMULA_INTS), formula="LEN(A2)", shared_index=2),
    ]
    rowxml.splice(package, path, [rowxml.SheetRows("用户明细", 1, n, columns)])


def _cells(path: Path) -> dict[str, tuple]:
    sheet = openpyxl.load_workbook(path)["用户明细"]
    out = {}
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value is not None or cell.has_style:
                out[cell.coordinate] = (cell.value, cell.data_type, cell.number_format, cell.fill.fgColor.rgb)
    return out


def _values(path: Path) -> list[list[object]]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name("用户明细").to_python()


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("rowxml")
    n = 3 * len(TEXTS) * len(AUTO)
    reference, streamed = folder / "reference.xlsx", folder / "streamed.xlsx"
    _reference(reference, n)
    _streamed(streamed, n)
    return reference, streamed


def test_cells_match_xlsxwriter(written: tuple[Path, Path]) -> None:
    reference, streamed = written
    expected, actual = _cells(reference), _cells(streamed)
    assert len(expected) > 1000
    assert actual == expected


def test_calamine_reads_the_same_values(written: tuple[Path, Path]) -> None:
    reference, streamed = written
    assert _values(streamed) == _values(reference)


def test_formulas_are_shared_down_the_column(written: tuple[Path, Path]) -> None:
    _, streamed = written
    with zipfile.ZipFile(streamed) as zf:
        xml = zf.read(rowxml.sheet_paths(zf)["用户明细"]).decode()
    n = 3 * len(TEXTS) * len(AUTO)
    assert xml.count('<f t="shared"') == 3 * n
    assert f'<f t="shared" ref="D2:D{n + 1}" si="0">' in xml
    assert f'<f t="shared" ref="F2:F{n + 1}" si="2">LEN(A2)</f>' in xml
    assert f'<dimension ref="A1:F{n + 1}"/>' in xml
    # openpyxl expands the shared formula to each row's own references.
    sheet = openpyxl.load_workbook(streamed)["用户明细"]
    assert sheet[f"D{n + 1}"].value == "=" + _formula(n + 1)


def test_text_is_truncated_and_escaped_like_xlsxwriter(written: tuple[Path, Path]) -> None:
    _, streamed = written
    sheet = openpyxl.load_workbook(streamed)["用户明细"]
    values = [sheet.cell(row=i + 2, column=1).value for i in range(len(TEXTS))]
    assert values[TEXTS.index("A&B <c> >")] == "A&B <c> >"
    assert values[TEXTS.index("  leading")] == "  leading"
    assert len(values[TEXTS.index("x" * 40_000)]) == rowxml.MAX_STRING
    assert values[TEXTS.index("=SUM(A1)")] == "=SUM(A1)" and sheet.cell(row=TEXTS.index("=SUM(A1)") + 2,
                                                                         column=1).data_type == "s"


def test_splice_refuses_an_unknown_sheet(tmp_path: Path) -> None:
    package = tmp_path / "p.xlsx"
    book = xlsxwriter.Workbook(str(package))
    book.add_worksheet("A")
    book.close()
    with pytest.raises(KeyError):
        rowxml.splice(package, tmp_path / "out.xlsx", [rowxml.SheetRows("B", 0, 1, [])])


def _value_sources(n: int) -> list[tuple[rowxml.Values, list[object]]]:
    """Columns kept as arrays, codes, patched numbers and per-block makers, each with the list it stands for."""
    labels = np.array(["活跃用户", "", "a<b", None], dtype=object)
    codes = np.arange(n) % len(labels)
    numbers = np.arange(n, dtype=float) / 4
    positions, others = np.array([2, 9, 10, n - 1]), [None, "12次", None, "abc"]
    patched = numbers.tolist()
    for position, value in zip(positions.tolist(), others, strict=True):
        patched[position] = value
    return [
        (rowxml.Coded(codes.astype(np.uint8), labels), labels[codes].tolist()),
        (rowxml.Patched(numbers, positions, others), patched),
        (rowxml.Lazy(n, lambda start, stop: [f"u{i}" for i in range(start, stop)]), [f"u{i}" for i in range(n)]),
        (numbers, numbers.tolist()),
    ]


def test_arrays_and_codes_give_the_values_and_xml_of_their_lists() -> None:
    n = 23
    for values, listed in _value_sources(n):
        assert rowxml.block_of(values, 0, n) == listed
        for start, stop in ((0, n), (5, 17), (20, n)):
            part = rowxml.part_of(values, start, stop)
            assert len(part) == stop - start
            assert rowxml.block_of(part, 0, stop - start) == listed[start:stop]
            assert rowxml.block_of(part, 1, 4) == listed[start + 1:start + 4]
        for kind in ("text", "number", "auto", "formula"):
            streamed, reference = (rowxml.SheetRows("s", 1, n, [rowxml.ColumnCells(0, kind, v, formula="A2")])
                                   for v in (values, listed))
            assert "".join(streamed.blocks(block_rows=4)) == "".join(reference.blocks(block_rows=4))
