"""Small sheets written in any order, flushed row by row.

The workbook runs in xlsxwriter's ``constant_memory`` mode (the Users sheet can hold a
million rows), which only accepts each sheet's rows in ascending order. Summary sheets
are laid out in blocks side by side, so their cells are collected here first and written
sorted by row when the sheet is done; they are a few thousand cells at most.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet


class Grid:
    """A buffer of cells for one worksheet; call :meth:`flush` once at the end."""

    def __init__(self, ws: Worksheet, sheet_name: str) -> None:
        self.ws = ws
        self.name = sheet_name
        self._cells: dict[tuple[int, int], tuple[str, tuple[Any, ...]]] = {}

    def text(self, row: int, col: int, value: str, fmt: Any = None) -> None:
        """User or label text; always a string cell, never a formula or a link."""
        if value == "" and fmt is None:
            return
        self._cells[(row, col)] = ("string", (value, fmt)) if value != "" else ("blank", (None, fmt))

    def number(self, row: int, col: int, value: float | None, fmt: Any = None) -> None:
        if value is None:
            self._cells[(row, col)] = ("blank", (None, fmt))
        else:
            self._cells[(row, col)] = ("number", (float(value), fmt))

    def value(self, row: int, col: int, value: object, fmt: Any = None) -> None:
        """A constant: number, text or nothing."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            self.number(row, col, value, fmt)
        elif value is None or value == "":
            self._cells[(row, col)] = ("blank", (None, fmt))
        else:
            self.text(row, col, str(value), fmt)

    def formula(self, row: int, col: int, formula: str, cached: object, fmt: Any = None) -> None:
        """A formula with the value Python computed ("" when Python has no value)."""
        value = "" if cached is None else cached
        if isinstance(value, bool):
            value = int(value)
        self._cells[(row, col)] = ("formula", (formula, fmt, value))

    def cached(self, row: int, col: int) -> object:
        """What a buffered cell shows before any recalculation: its constant or its formula's cached value."""
        kind, args = self._cells.get((row, col), ("blank", (None, None)))
        if kind == "formula":
            return args[2]
        return None if kind == "blank" else args[0]

    def blank(self, row: int, col: int, fmt: Any) -> None:
        self._cells[(row, col)] = ("blank", (None, fmt))

    def row(self, row: int, col: int, values: Sequence[object], fmt: Any = None) -> None:
        for offset, value in enumerate(values):
            self.value(row, col + offset, value, fmt)

    def ref(self, row: int, col: int, *, absolute: bool = True, sheet: bool = True) -> str:
        """A reference to a cell of this sheet, for formulas on this or another sheet."""
        cell = xl_rowcol_to_cell(row, col, row_abs=absolute, col_abs=absolute)
        return f"{sheet_ref(self.name)}!{cell}" if sheet else cell

    def area(self, first_row: int, first_col: int, last_row: int, last_col: int) -> str:
        start = xl_rowcol_to_cell(first_row, first_col, row_abs=True, col_abs=True)
        end = xl_rowcol_to_cell(last_row, last_col, row_abs=True, col_abs=True)
        return f"{sheet_ref(self.name)}!{start}:{end}"

    def flush(self) -> None:
        """Write every buffered cell, in row order."""
        ws = self.ws
        for (row, col) in sorted(self._cells):
            kind, args = self._cells[(row, col)]
            if kind == "string":
                ws.write_string(row, col, args[0], args[1])
            elif kind == "number":
                ws.write_number(row, col, args[0], args[1])
            elif kind == "formula":
                ws.write_formula(row, col, args[0], args[1], args[2])
            else:
                ws.write_blank(row, col, None, args[1])
        self._cells.clear()


def sheet_ref(name: str) -> str:
    """A sheet name as formulas write it: always quoted, inner quotes doubled."""
    return "'" + name.replace("'", "''") + "'"


def join_plus(parts: Iterable[str]) -> str:
    """``a+b+c`` (``0`` for nothing): sums over the Users sheet and its continuations."""
    items = list(parts)
    return "+".join(items) if items else "0"
