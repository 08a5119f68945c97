"""What a reader returns: :class:`Table` (the data rows under the header) and :class:`SheetInfo`.

:func:`build_table` turns a header row and the raw cell matrix under it into a
:class:`Table` the same way for every format: columns named (unnamed ones with
data get ``列X``), duplicate headers refused, empty rows dropped with a warning,
rows indexed by their source row number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Sequence

import numpy as np
import pandas as pd

from tagger.columns import column_letter, normalize_header
from tagger.errors import InputError, Location
from tagger.formula_cells import FormulaCell
from tagger.readers.header import _header_text, _join
from tagger.readers.messages import TEXT


@dataclass
class SheetInfo:
    """One worksheet of a workbook, as a sheet picker shows it."""

    name: str
    visible: bool
    rows: int  # best-effort row count (calamine sheet height)


@dataclass
class Table:
    """The data rows under the header of one sheet or text file, with where they came from."""

    frame: pd.DataFrame
    path: Path
    sheet: str | None
    header_row: int
    letters: dict[str, str]
    encoding: str | None = None
    delimiter: str | None = None
    warnings: list[str] = field(default_factory=list)
    # Error cells (#N/A …) and formulas saved without a value, per heading; calamine reads them as blank.
    formula_cells: dict[str, list[FormulaCell]] = field(default_factory=dict)

    def excel_row(self, position: int) -> int:
        """1-based source row of the frame's ``position``-th row, for messages that cite a row."""
        return int(self.frame.index[position])


def _build_table(
    header: Sequence[object],
    data: np.ndarray,
    path: Path,
    sheet: str | None,
    header_row: int,
    empty: np.ndarray | None = None,
) -> Table:
    """Name the columns, drop empty rows/columns and index rows by their source row number.

    ``data`` is modified in place (``''`` becomes ``None``) to avoid copying a
    million-row matrix; a reader that already has ``None`` for empty cells passes
    where they are as ``empty``.
    """
    if empty is None:
        empty = np.asarray(data == "", dtype=bool)
        data[empty] = None
    has_data = ~np.all(empty, axis=0)
    warnings: list[str] = []
    names, columns, letters = _name_columns(header, has_data, path, sheet, header_row, warnings)
    rows = np.flatnonzero(~empty.all(axis=1))
    last = int(rows[-1]) + 1 if len(rows) else 0
    if len(rows) < last:
        dropped = np.setdiff1d(np.arange(last), rows) + header_row + 1
        warnings.append(TEXT("empty_rows", count=len(dropped), rows=_row_list(dropped)))
    if not len(rows):
        warnings.append(TEXT("no_data_rows", row=header_row))
    values = data[:last] if len(rows) == last else data[rows]
    if len(columns) != data.shape[1]:
        values = values[:, columns]
    index = pd.Index(rows + header_row + 1, dtype="int64")
    frame = pd.DataFrame(values, index=index, columns=pd.Index(names, dtype=object), dtype=object, copy=False)
    return Table(frame, path, sheet, header_row, letters, warnings=warnings)


def _name_columns(
    header: Sequence[object],
    has_data: np.ndarray,
    path: Path,
    sheet: str | None,
    header_row: int,
    warnings: list[str],
) -> tuple[list[str], list[int], dict[str, str]]:
    """Column names, kept column positions and letters; refuse duplicate headers."""
    names: list[str] = []
    columns: list[int] = []
    letters: dict[str, str] = {}
    seen: dict[str, tuple[str, str]] = {}
    generated: list[str] = []
    for index in range(len(has_data)):
        text = _header_text(header[index]) if index < len(header) else ""
        letter = column_letter(index)
        if not normalize_header(text):
            if not has_data[index]:
                continue
            text = TEXT("unnamed_column", letter=letter)
            generated.append(letter)
        key = normalize_header(text)
        if key in seen:
            first, header_text = seen[key]
            message = TEXT("duplicate_header", first=first, second=letter, header=header_text, row=header_row)
            raise InputError(message, where=Location(path, sheet, header_row))
        seen[key] = (letter, text)
        names.append(text)
        columns.append(index)
        letters[text] = letter
    if generated:
        made = [f"'{TEXT('unnamed_column', letter=letter)}'" for letter in generated]
        warnings.append(TEXT("unnamed_columns", letters=_join(generated), names=_join(made)))
    return names, columns, letters


def _row_list(rows: np.ndarray, limit: int = 10) -> str:
    shown = [str(int(row)) for row in rows[:limit]]
    return _join(shown + (["…"] if len(rows) > limit else []))
