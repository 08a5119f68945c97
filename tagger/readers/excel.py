"""Excel workbooks (xlsx/xlsm/xlsb/ods in a zip, xls in an OLE container), read with python-calamine.

The data rows of an xlsx sheet whose columns each hold one type are read by
fastexcel instead (:mod:`tagger.readers.xlsx_columns`): the same cells, in a
third less memory. fastexcel infers one dtype per column, so a column mixing
types (an ID typed as a number after row 1,000) is read by python-calamine,
which keeps each cell's own type, as the cell value contract of
:mod:`tagger.readers` requires.

A hidden ``配置`` sheet in front is skipped, merged two-level headers are filled,
and error cells or formulas saved without a value (which calamine reads as blank)
are listed per column so validation can name them.
"""

from __future__ import annotations

import io
import mmap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import python_calamine as calamine

from tagger.beside import Beside
from tagger.errors import InputError, Location
from tagger.formula_cells import FormulaCell, formula_cells
from tagger.preflight import check_archive
from tagger.readers.base import Request, mismatch_warnings
from tagger.readers.header import _find_header, _header_text, _join, _no_header_detail, _quoted, _sentence_break
from tagger.readers.messages import TEXT
from tagger.readers.table import SheetInfo, Table, _build_table
from tagger.readers.xlsx_columns import head_copy, read_columns
from tagger.readers.xlsx_columns import usable as columnar_usable

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
EXCEL_SUFFIXES: dict[str, frozenset[str]] = {
    "zip": frozenset({".xlsx", ".xlsm", ".xlsb", ".xltx", ".xltm", ".ods"}),
    "ole": frozenset({".xls", ".xlt"}),
}
WORKBOOK_SUFFIXES = EXCEL_SUFFIXES["zip"] | EXCEL_SUFFIXES["ole"]
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")


class ExcelReader:
    """A workbook in a zip (``kind="zip"``) or an OLE compound file (``kind="ole"``)."""

    by_suffix = False

    def __init__(self, kind: str, offered: tuple[str, ...]) -> None:
        self.name = kind
        self.suffixes = EXCEL_SUFFIXES[kind]
        self.offered = offered

    def recognise(self, path: Path, head: bytes) -> bool:
        if self.name == "zip":
            return head.startswith(ZIP_MAGIC)
        container = ole_container(path, head)
        if container == "encrypted":
            raise InputError(TEXT("encrypted"), where=Location(path))
        return container == "ole"

    def extension_warnings(self, path: Path) -> list[str]:
        return mismatch_warnings(path, path.suffix.lower() not in self.suffixes, "format_excel")

    def sheets(self, path: Path) -> list[SheetInfo]:
        book, _ = _open_workbook(path, self.name)
        try:
            infos: list[SheetInfo] = []
            for meta in _worksheets(book):
                sheet = _load_sheet(book, path, meta.name)
                infos.append(SheetInfo(meta.name, _is_visible(meta), sheet.height))
            return infos
        finally:
            book.close()

    def read(self, path: Path, request: Request) -> Table:
        return _read_workbook(path, self.name, request.sheet, request.aliases, request.scan_rows)

    def head(self, path: Path, sheet: str | None, rows: int, aliases: Mapping[str, Sequence[str]]) -> list[list[str]]:
        """The named sheet's first rows (else the first visible sheet's), merged header cells filled."""
        book, _ = _open_workbook(path, self.name)
        try:
            return _scan(book, path, _head_sheet(book, path, sheet), aliases, rows).head
        finally:
            book.close()


def _head_sheet(book: calamine.CalamineWorkbook, path: Path, sheet: str | None) -> str:
    """The sheet to preview: the named one (hidden or not), else the first visible one."""
    metas = _worksheets(book)
    names = [meta.name for meta in metas] if sheet is not None else [m.name for m in metas if _is_visible(m)]
    if sheet is None and names:
        return names[0]
    if sheet is not None and sheet in names:
        return sheet
    key = "no_visible_sheet" if sheet is None else "sheet_not_found"
    raise InputError(TEXT(key, sheet=sheet, sheets=_describe_sheets(metas)), where=Location(path))


def ole_container(path: Path, head: bytes) -> str | None:
    """``"encrypted"`` for a password-protected workbook, ``"ole"`` for an old .xls, None for neither.

    Both are OLE compound files (``head`` is the file's first bytes); an encrypted
    xlsx is the zip wrapped in one, recognisable by its ``EncryptedPackage`` stream.
    """
    if not head.startswith(OLE_MAGIC):
        return None
    return "encrypted" if _contains(path, _ENCRYPTED_STREAM) else "ole"


def _contains(path: Path, needle: bytes) -> bool:
    """Whether ``needle`` occurs anywhere in the file (memory-mapped, so large files are cheap)."""
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        return mapped.find(needle) != -1


def _open_workbook(path: Path, kind: str) -> tuple[calamine.CalamineWorkbook, dict[str, str]]:
    """Open with calamine; from the bytes when the extension would mislead calamine's own choice.

    A zip-based workbook is first checked by :func:`tagger.preflight.check_archive`:
    calamine aborts the whole process on some hostile files (a cell bomb), so they
    must be refused before it sees them. Also returns, per sheet, the worksheet part
    that holds formulas or error cells (which calamine reads as blank).
    """
    parts = check_archive(path).formula_parts if kind == "zip" else {}
    return _open_checked(path, kind), parts


def _open_checked(path: Path, kind: str, head: bytes | None = None) -> calamine.CalamineWorkbook:
    """Open a workbook :func:`check_archive` has passed (``head``: its first rows, from :func:`head_copy`)."""
    try:
        if head is not None:
            return calamine.CalamineWorkbook.from_filelike(io.BytesIO(head))
        if path.suffix.lower() in EXCEL_SUFFIXES[kind]:
            return calamine.CalamineWorkbook.from_path(str(path))
        with path.open("rb") as handle:
            return calamine.CalamineWorkbook.from_filelike(handle)
    except calamine.PasswordError as error:
        raise InputError(TEXT("encrypted"), where=Location(path)) from error
    except (calamine.CalamineError, ValueError, OSError) as error:
        raise InputError(TEXT("unreadable_excel", detail=error), where=Location(path)) from error


def _worksheets(book: calamine.CalamineWorkbook) -> list[calamine.SheetMetadata]:
    """Sheets that can hold cells: chart, dialog and macro sheets never hold the export."""
    return [meta for meta in book.sheets_metadata if meta.typ == calamine.SheetTypeEnum.WorkSheet]


def _is_visible(meta: calamine.SheetMetadata) -> bool:
    return meta.visible == calamine.SheetVisibleEnum.Visible


def _load_sheet(book: calamine.CalamineWorkbook, path: Path, name: str) -> calamine.CalamineSheet:
    """Parse one sheet, turning calamine's errors into a message about the file."""
    try:
        return book.get_sheet_by_name(name)
    except calamine.CalamineError as error:
        raise InputError(TEXT("unreadable_excel", detail=error), where=Location(path, name)) from error


@dataclass
class _Candidate:
    """A loaded sheet with its first rows (merged header cells filled) and where its header is."""

    name: str
    sheet: calamine.CalamineSheet
    head: list[list[str]]
    header: int | None
    raw: list[list[Any]]  # the first rows as stored, merged cells not filled


def _scan(
    book: calamine.CalamineWorkbook, path: Path, name: str, aliases: Mapping[str, Sequence[str]], scan_rows: int
) -> _Candidate:
    sheet = _load_sheet(book, path, name)
    rows = sheet.to_python(skip_empty_area=False, nrows=scan_rows)
    raw = [list(row) for row in rows]
    _fill_merged(rows, sheet.merged_cell_ranges or [])
    head = [[_header_text(value) for value in row] for row in rows]
    return _Candidate(name, sheet, head, _find_header(head, aliases), raw)


def _read_workbook(
    path: Path, kind: str, sheet: str | None, aliases: Mapping[str, Sequence[str]], scan_rows: int
) -> Table:
    head: bytes | None = None
    formula_parts: dict[str, str] = {}
    if kind == "zip":
        # The head copy reads only zip bytes (no XML parser), bounded in size, so it runs beside the
        # hostile-file check; nothing parses the file before the check has passed, and its error wins.
        copying = Beside(lambda: head_copy(path, scan_rows) if columnar_usable(path) else None, "tagger-head-copy")
        formula_parts = check_archive(path).formula_parts
        head = copying.result()
    book = _open_checked(path, kind, head)
    columns: tuple[np.ndarray, np.ndarray | None] | None
    try:
        chosen, warnings = _choose_sheet(book, path, sheet, aliases, scan_rows)
        assert chosen.header is not None
        if head is None:  # the whole workbook is open, its sheet parsed already
            columns = _object_matrix(chosen.sheet.to_python(skip_empty_area=False), chosen.header + 1), None
        else:
            columns = _columnar(path, chosen)
    finally:
        book.close()
    if columns is None:  # a column mixing types, or anything uncertain: python-calamine reads the sheet
        columns = _calamine_matrix(path, kind, chosen), None
    data, empty = columns
    table = _build_table(chosen.head[chosen.header], data, path, chosen.name, chosen.header + 1, empty)
    table.warnings[:0] = warnings
    if chosen.name in formula_parts:
        table.formula_cells = _formula_cells_by_header(table, formula_cells(path, formula_parts[chosen.name]))
    return table


def _choose_sheet(
    book: calamine.CalamineWorkbook, path: Path, sheet: str | None, aliases: Mapping[str, Sequence[str]],
    scan_rows: int,
) -> tuple[_Candidate, list[str]]:
    """The named sheet, else the first visible one with a header row (with a warning naming the others)."""
    if sheet is not None:
        return _named_sheet(book, path, sheet, aliases, scan_rows), []
    return _auto_sheet(book, path, aliases, scan_rows)


def _columnar(path: Path, chosen: _Candidate) -> tuple[np.ndarray, np.ndarray] | None:
    """The chosen sheet's data rows through fastexcel (:mod:`tagger.readers.xlsx_columns`), if certain."""
    start = chosen.sheet.start
    if start is None:
        return None
    assert chosen.header is not None
    return read_columns(path, chosen.name, start, chosen.header, chosen.raw[chosen.header])


def _calamine_matrix(path: Path, kind: str, chosen: _Candidate) -> np.ndarray:
    """The chosen sheet's data rows through python-calamine, from the whole workbook."""
    book = _open_checked(path, kind)
    try:
        rows = _load_sheet(book, path, chosen.name).to_python(skip_empty_area=False)
    finally:
        book.close()
    assert chosen.header is not None
    return _object_matrix(rows, chosen.header + 1)


def _formula_cells_by_header(table: Table, cells: Sequence[FormulaCell]) -> dict[str, list[FormulaCell]]:
    """The error and value-less formula cells under the header, per column heading."""
    headers = {letter: header for header, letter in table.letters.items()}
    rows = set(table.frame.index.tolist()) if cells else set()
    found: dict[str, list[FormulaCell]] = {}
    for cell in cells:
        header = headers.get(cell.letter)
        if header is not None and cell.row in rows:
            found.setdefault(header, []).append(cell)
    return found


def _named_sheet(
    book: calamine.CalamineWorkbook, path: Path, name: str, aliases: Mapping[str, Sequence[str]], scan_rows: int
) -> _Candidate:
    """The sheet the caller named, hidden or not: naming it is an explicit choice."""
    metas = _worksheets(book)
    if name not in {meta.name for meta in metas}:
        raise InputError(
            TEXT("sheet_not_found", sheet=name, sheets=_describe_sheets(metas)), where=Location(path)
        )
    candidate = _scan(book, path, name, aliases, scan_rows)
    if candidate.header is None:
        raise InputError(_no_header_detail(candidate.head, aliases, scan_rows), where=Location(path, name))
    return candidate


def _auto_sheet(
    book: calamine.CalamineWorkbook, path: Path, aliases: Mapping[str, Sequence[str]], scan_rows: int
) -> tuple[_Candidate, list[str]]:
    """The first visible sheet with a header row; a hidden ``配置`` sheet in front is skipped."""
    metas = _worksheets(book)
    visible = [meta.name for meta in metas if _is_visible(meta)]
    if not visible:
        raise InputError(TEXT("no_visible_sheet", sheets=_describe_sheets(metas)), where=Location(path))
    chosen: _Candidate | None = None
    first: _Candidate | None = None
    others: list[str] = []
    for name in visible:
        candidate = _scan(book, path, name, aliases, scan_rows)
        first = first or candidate
        if candidate.header is None:
            continue
        if chosen is None:
            chosen = candidate
        else:
            others.append(name)
    if chosen is None:
        assert first is not None
        raise _no_sheet_error(book, path, metas, first, aliases, scan_rows)
    warnings = [TEXT("several_sheets", others=_quoted(others), used=chosen.name)] if others else []
    return chosen, warnings


def _no_sheet_error(
    book: calamine.CalamineWorkbook,
    path: Path,
    metas: Sequence[calamine.SheetMetadata],
    first: _Candidate,
    aliases: Mapping[str, Sequence[str]],
    scan_rows: int,
) -> InputError:
    """Say which sheets exist, what the first visible one looked like, and whether a hidden one would do."""
    seen = _no_header_detail(first.head, aliases, scan_rows)
    detail = TEXT("no_header_first_sheet", sheet=first.name, detail=seen)
    hidden = [
        meta.name
        for meta in metas
        if not _is_visible(meta) and _scan(book, path, meta.name, aliases, scan_rows).header is not None
    ]
    if hidden:
        detail += _sentence_break() + TEXT("hidden_has_header", sheets=_quoted(hidden))
    message = TEXT("no_header_in_sheets", sheets=_describe_sheets(metas), detail=detail)
    return InputError(message, where=Location(path))


def _describe_sheets(metas: Sequence[calamine.SheetMetadata]) -> str:
    items = [TEXT("sheet_item", name=meta.name, state=TEXT(_state_key(meta))) for meta in metas]
    return _join(items)


def _state_key(meta: calamine.SheetMetadata) -> str:
    """Catalog key of a sheet's visibility (calamine's enum members are not hashable)."""
    if meta.visible == calamine.SheetVisibleEnum.Visible:
        return "state_visible"
    if meta.visible == calamine.SheetVisibleEnum.Hidden:
        return "state_hidden"
    return "state_very_hidden"


def _fill_merged(rows: list[list[Any]], merges: Sequence[tuple[tuple[int, int], tuple[int, int]]]) -> None:
    """Copy each merged range's top-left value into its other cells, within ``rows``.

    Excel keeps a merged value only in the top-left cell, so a header merged across
    two rows (two-level headers) or columns would otherwise read as empty.

    >>> rows = [["用户ID", "时间", ""], ["", "注册时间", "最近一次活跃时间"]]
    >>> _fill_merged(rows, [((0, 0), (1, 0)), ((0, 1), (0, 2))])
    >>> rows
    [['用户ID', '时间', '时间'], ['用户ID', '注册时间', '最近一次活跃时间']]
    """
    for (top, left), (bottom, right) in merges:
        if top >= len(rows) or left >= len(rows[top]):
            continue
        value = rows[top][left]
        for row in rows[top : bottom + 1]:
            for col in range(left, min(right + 1, len(row))):
                if row[col] == "":
                    row[col] = value


def _object_matrix(rows: Sequence[Sequence[object]], start: int) -> np.ndarray:
    """``rows[start:]`` as a 2-D object array (calamine's rows are rectangular).

    >>> _object_matrix([["h"], ["a", "b"], ["c"]], 1).tolist()
    [['a', 'b'], ['c', '']]
    """
    width = max(map(len, rows), default=0)
    if len(rows) <= start:
        return np.empty((0, width), dtype=object)
    matrix = np.array(rows[start:], dtype=object)
    if matrix.ndim != 2:  # ragged rows: never seen from calamine, but do not mis-shape data
        matrix = np.full((len(rows) - start, width), "", dtype=object)
        for index, row in enumerate(rows[start:]):
            matrix[index, : len(row)] = row
    return matrix


__all__ = ["EXCEL_SUFFIXES", "OLE_MAGIC", "WORKBOOK_SUFFIXES", "ZIP_MAGIC", "ExcelReader", "ole_container"]
