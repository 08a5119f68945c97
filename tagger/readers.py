"""Read the monthly user export (xlsx/xlsm/xls/ods or csv/tsv/txt) into raw cell values.

Exports arrive from BI tools and from people: HTML or GBK text saved as ``.xls``,
title rows above the header, merged two-level headers, a hidden ``配置`` sheet in
front, UTF-16 "Unicode text", 18-digit IDs, nicknames such as ``NA``. This module
finds the real format, the sheet and the header row, and returns every cell as it
was stored (no type guessing), so that parsing and validation downstream can name
the exact source row and column of each problem.

Reading uses python-calamine, not fastexcel: fastexcel is faster on raw reads but
infers one dtype per column from the first rows, so an ID typed as a number after
row 1,000 comes back as an indistinguishable string and a text date becomes NaT,
which breaks the cell value contract below (measured with fastexcel 0.21).

Cell value contract: each element of :attr:`Table.frame` is ``str`` (exactly as
stored, not stripped), ``int``, ``float``, ``bool``, ``datetime.datetime``,
``datetime.date``, ``datetime.time``/``timedelta`` or ``None`` for an empty cell.
Text files only ever give ``str`` or ``None``. The frame index is the 1-based
source row (Excel row number; for text files the record number, which is what
Excel shows when it opens the file).
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import mmap
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import python_calamine as calamine

from .columns import (
    DEFAULT_ALIASES,
    FIELD_LABELS,
    REQUIRED_FIELDS,
    column_letter,
    is_header_row,
    match_columns,
    missing_required,
    normalize_header,
)
from .errors import InputError, Location
from .i18n import Catalog, get_language
from .formula_cells import FormulaCell, formula_cells
from .preflight import check_archive
from .snapshot import is_snapshot, read_snapshot
from .suggest import nearby_files

__all__ = ["MESSAGES", "SheetInfo", "Table", "list_sheets", "read_export"]

MESSAGES = Catalog(
    "readers",
    {
        "not_found": {"zh": "找不到这个文件", "en": "file not found"},
        "not_a_file": {"zh": "这不是一个文件（是文件夹？）", "en": "this is not a file (a folder?)"},
        "empty_file": {"zh": "文件是空的（0 字节）", "en": "the file is empty (0 bytes)"},
        "lock_file": {
            "zh": "这是 Excel 打开 '{original}' 时生成的锁定文件（以 ~$ 开头），不是数据。请选择 '{original}' 本身",
            "en": "this is Excel's lock file for '{original}' (names starting with ~$ exist while the workbook "
            "is open), not data; choose '{original}' itself",
        },
        "html_as_excel": {
            "zh": "这个文件实际是 HTML 表格（网页），不是 Excel 文件，只是扩展名为 {ext}。"
            "请在 Excel 中打开它，另存为 xlsx（Excel 工作簿）后重试",
            "en": "this file is actually an HTML table (a web page) with a {ext} extension, not an Excel file. "
            "Open it in Excel, save it as xlsx (Excel Workbook) and try again",
        },
        "xml2003_as_excel": {
            "zh": "这个文件实际是 XML 电子表格 2003 格式，不是 xlsx/xls。请在 Excel 中打开它，另存为 xlsx（Excel 工作簿）后重试",
            "en": "this file is actually an XML Spreadsheet 2003 file, not xlsx/xls. "
            "Open it in Excel, save it as xlsx (Excel Workbook) and try again",
        },
        "encrypted": {
            "zh": "这是加密（设置了打开密码）的 Excel 工作簿，无法读取。请在 Excel 中打开，"
            "在“文件 > 信息 > 保护工作簿 > 用密码进行加密”中清空密码，另存为 xlsx 后重试",
            "en": "this is an encrypted (password-protected) Excel workbook and cannot be read. Open it in "
            "Excel, clear the password under File > Info > Protect Workbook > Encrypt with Password, "
            "save it as xlsx and try again",
        },
        "unreadable_excel": {
            "zh": "无法作为 Excel 工作簿读取（{detail}）。请在 Excel 中打开它，另存为 xlsx 后重试",
            "en": "cannot be read as an Excel workbook ({detail}); open it in Excel, save it as xlsx and try again",
        },
        "binary_file": {
            "zh": "既不是 Excel 工作簿，也不是文本（CSV）文件",
            "en": "this is neither an Excel workbook nor a text (CSV) file",
        },
        "extension_mismatch": {
            "zh": "扩展名是 {ext}，但内容是{real}，已按{real}读取",
            "en": "the extension is {ext} but the content is {real}; read it as {real}",
        },
        "format_excel": {"zh": " Excel 工作簿", "en": "an Excel workbook"},
        "format_text": {"zh": "文本（CSV）", "en": "text (CSV)"},
        "text_has_no_sheets": {
            "zh": "文本文件没有工作表，已忽略指定的工作表 '{sheet}'",
            "en": "a text file has no sheets; ignored the requested sheet '{sheet}'",
        },
        "sheet_not_found": {
            "zh": "没有名为 '{sheet}' 的工作表。工作表有：{sheets}",
            "en": "there is no sheet named '{sheet}'; the sheets are: {sheets}",
        },
        "sheet_item": {"zh": "'{name}'（{state}）", "en": "'{name}' ({state})"},
        "state_visible": {"zh": "可见", "en": "visible"},
        "state_hidden": {"zh": "隐藏", "en": "hidden"},
        "state_very_hidden": {"zh": "深度隐藏", "en": "very hidden"},
        "no_visible_sheet": {
            "zh": "没有可见的工作表。工作表有：{sheets}",
            "en": "there is no visible worksheet; the sheets are: {sheets}",
        },
        "no_header_in_sheets": {
            "zh": "没有找到含用户表头的可见工作表。工作表有：{sheets}。{detail}",
            "en": "no visible sheet has the user headers; the sheets are: {sheets}. {detail}",
        },
        "no_header_first_sheet": {
            "zh": "第一个可见工作表 '{sheet}' {detail}",
            "en": "In the first visible sheet '{sheet}', {detail}",
        },
        "no_header": {
            "zh": "缺少必需列：{missing}（前 {scan} 行中没有含全部必需列的表头行）。最接近的表头在第 {row} 行：{seen}。"
                  "若其中一列就是所缺的列，请在 tagger.toml 中指定，例如 [columns] {example}，或运行 tagger wizard 选择",
            "en": "missing required columns: {missing} (no row in the first {scan} rows has them all). The closest "
                  "header is row {row}: {seen}. If one of these is the missing column, map it in tagger.toml, e.g. "
                  "[columns] {example}, or run tagger wizard to choose it",
        },
        "your_header": {"zh": "你的列名", "en": "your header"},
        "no_header_empty": {
            "zh": "前 {scan} 行都是空的，找不到表头（需要：{missing}）",
            "en": "the first {scan} rows are empty, so there is no header row (needed: {missing})",
        },
        "hidden_has_header": {
            "zh": "隐藏的工作表 {sheets} 有表头；如确实要用它，请指定工作表",
            "en": "hidden sheet {sheets} has the headers; name it explicitly if it is the one to use",
        },
        "several_sheets": {
            "zh": "工作表 {others} 也有用户表头，本次只读取了第一个 '{used}'；如需读取其他工作表，请指定工作表",
            "en": "sheet {others} also has the user headers; only the first, '{used}', was read. "
            "Name the sheet to read another one",
        },
        "duplicate_header": {
            "zh": "列 {first} 和 {second} 的表头都是 '{header}'（第 {row} 行），无法确定用哪一列。请删除或重命名其中一列后重试",
            "en": "columns {first} and {second} both have the header '{header}' (row {row}), so it is unclear "
            "which one to use; delete or rename one of them and try again",
        },
        "unnamed_column": {"zh": "列{letter}", "en": "column {letter}"},
        "unnamed_columns": {
            "zh": "列 {letters} 没有表头但有数据，已命名为 {names}",
            "en": "column(s) {letters} have data but no header; named them {names}",
        },
        "empty_rows": {
            "zh": "删除了 {count} 个空行（第 {rows} 行）",
            "en": "dropped {count} empty row(s) (row {rows})",
        },
        "no_data_rows": {
            "zh": "表头（第 {row} 行）下面没有数据行",
            "en": "there are no data rows under the header (row {row})",
        },
        "bad_encoding": {
            "zh": "第 {row} 行（字节 {offset}）无法解码：文件既不是 UTF-8 也不是 GB18030/GBK 编码。"
            "请在 Excel 中另存为“CSV UTF-8（逗号分隔）”后重试",
            "en": "row {row} (byte {offset}) cannot be decoded: the file is neither UTF-8 nor GB18030/GBK. "
            "Save it from Excel as 'CSV UTF-8 (Comma delimited)' and try again",
        },
        "damaged_utf8": {
            "zh": "文件是 UTF-8 编码，但第 {row} 行（字节 {offset}）有损坏的字节，无法解码。请重新导出该文件",
            "en": "the file is UTF-8 but row {row} (byte {offset}) holds damaged bytes that cannot be decoded; "
            "export the file again",
        },
        "bad_bom_encoding": {
            "zh": "文件开头标明是 {encoding} 编码，但第 {row} 行（字节 {offset}）不是合法的 {encoding}。请重新导出该文件",
            "en": "the file starts with a {encoding} byte order mark but row {row} (byte {offset}) is not valid "
            "{encoding}; export the file again",
        },
        "ragged_row": {
            "zh": "第 {row} 行有 {found} 个字段，而表头（第 {header_row} 行）有 {expected} 个。"
            "常见原因：昵称等文本里有没加引号的分隔符（{delimiter}）或换行",
            "en": "row {row} has {found} fields but the header (row {header_row}) has {expected}. "
            "Usually a nickname or other text holds an unquoted delimiter ({delimiter}) or line break",
        },
        "unclosed_quote": {
            "zh": "第 {row} 行开始的引号一直没有闭合，文件在引号内结束",
            "en": "the quote opened in row {row} is never closed; the file ends inside it",
        },
        "quote_swallowed": {
            "zh": "第 {row} 行的引号没有正确闭合，后面的换行和内容被并进了这一行（只解析出 {found} 个字段，表头有 {expected} 个）",
            "en": "a quote in row {row} is not closed properly, so the following line breaks and text were "
            "merged into that row ({found} fields found, the header has {expected})",
        },
        "field_too_large": {
            "zh": "第 {row} 行附近有一个超过 {limit} 个字符的字段，通常是某个引号没有闭合",
            "en": "a field near row {row} is longer than {limit} characters, usually an unclosed quote",
        },
        "csv_error": {"zh": "无法解析文本文件：{detail}", "en": "cannot parse the text file: {detail}"},
        "tab": {"zh": "制表符", "en": "tab"},
    },
)

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
EXCEL_SUFFIXES: dict[str, frozenset[str]] = {
    "zip": frozenset({".xlsx", ".xlsm", ".xlsb", ".xltx", ".xltm", ".ods"}),
    "ole": frozenset({".xls", ".xlt"}),
}
TEXT_SUFFIXES = frozenset({".csv", ".tsv", ".txt"})
DELIMITERS: tuple[str, ...] = (",", "\t", ";", "|")
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
_CHUNK = 1 << 20
_LIST_LIMIT = 20
# A UTF-8 file that decoded this many multi-byte characters before a bad byte is a
# damaged UTF-8 file: trying GB18030 on it would only produce mojibake.
_UTF8_EVIDENCE_BYTES = 16


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


# --------------------------------------------------------------------------- public API


def list_sheets(path: str | Path) -> list[SheetInfo]:
    """The worksheets of ``path`` in workbook order (chart sheets left out).

    A text file is shown as one visible sheet named after the file, so a sheet
    picker can treat every export alike.
    """
    path = Path(path)
    kind = _sniff(path)
    if kind == "text":
        encoding = _detect_encoding(path)
        return [SheetInfo(path.name, True, _count_lines(path, encoding))]
    book, _ = _open_workbook(path, kind)
    try:
        infos: list[SheetInfo] = []
        for meta in _worksheets(book):
            sheet = _load_sheet(book, path, meta.name)
            infos.append(SheetInfo(meta.name, _is_visible(meta), sheet.height))
        return infos
    finally:
        book.close()


def read_export(
    path: str | Path,
    *,
    sheet: str | None = None,
    aliases: Mapping[str, Sequence[str]] = DEFAULT_ALIASES,
    scan_rows: int = 30,
    table: str | None = None,
    snapshot_columns: Mapping[str, str] | None = None,
) -> Table:
    """Read one export: find the format, the sheet and the header row; return raw cells.

    Raises :class:`~tagger.errors.InputError` naming the file (and sheet, row,
    column letters) when the file cannot be used as it is.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "users.csv").write_text(
    ...     "2024年7月用户明细,,,\\n用户ID,注册时间,最近一次活跃时间,昵称\\n"
    ...     "013912345678,2024-07-01,2024-07-20,NA\\n", encoding="utf-8")
    >>> table = read_export(folder / "users.csv")
    >>> table.header_row, table.encoding, table.letters["昵称"]
    (2, 'utf-8', 'D')
    >>> table.frame.loc[3].tolist()
    ['013912345678', '2024-07-01', '2024-07-20', 'NA']
    """
    if scan_rows < 1:
        raise ValueError("scan_rows must be at least 1")
    path = Path(path)
    if is_snapshot(path):  # a warehouse snapshot table (tagger.snapshot); ``table`` names it in a .duckdb
        return read_snapshot(path, aliases, table=table, columns=snapshot_columns)
    kind = _sniff(path)
    warnings = _extension_warnings(path, kind)
    if kind == "text":
        if sheet is not None:
            warnings.append(MESSAGES("text_has_no_sheets", sheet=sheet))
        table = _read_text(path, aliases, scan_rows)
    else:
        table = _read_workbook(path, kind, sheet, aliases, scan_rows)
    table.warnings[:0] = warnings
    return table


# --------------------------------------------------------------------------- format sniffing


def _sniff(path: Path) -> str:
    """``"zip"``, ``"ole"`` or ``"text"`` from the first bytes, since extensions lie.

    Files that can never hold the data (Excel's ``~$`` lock files, HTML or XML
    saved as ``.xls``, encrypted workbooks, binaries) are refused here with a
    message that names what the file really is.
    """
    if path.name.startswith("~$"):
        raise InputError(MESSAGES("lock_file", original=path.name[2:]), where=Location(path))
    if not path.exists():
        raise InputError(MESSAGES("not_found") + nearby_files(path), where=Location(path))
    if not path.is_file():
        raise InputError(MESSAGES("not_a_file"), where=Location(path))
    with path.open("rb") as handle:
        head = handle.read(4096)
    if not head:
        raise InputError(MESSAGES("empty_file"), where=Location(path))
    if head.startswith(ZIP_MAGIC):
        return "zip"
    container = ole_container(path, head)
    if container == "encrypted":
        raise InputError(MESSAGES("encrypted"), where=Location(path))
    if container == "ole":
        return "ole"
    _refuse_markup(path, head)
    if _looks_binary(head):
        raise InputError(MESSAGES("binary_file"), where=Location(path))
    return "text"


def _looks_binary(head: bytes) -> bool:
    """Binary data, not a text export that happens to hold a stray NUL or control character in a cell.

    UTF-16 text is full of NUL bytes; a csv with a NUL in one nickname has a handful
    (removed later with a warning naming the rows). Real binaries are dense with them.

    >>> _looks_binary(b"id,name\\n" + b"1001,abc\\n" * 400 + b"1002,a\\x00b\\n"), _looks_binary(bytes(range(256)) * 4)
    (False, True)
    """
    if b"\x00" not in head or head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    controls = sum(head.count(bytes([b])) for b in range(32) if b not in (9, 10, 13))
    return controls * 50 > len(head)


def _refuse_markup(path: Path, head: bytes) -> None:
    """Refuse HTML tables and XML Spreadsheet 2003 files, which BI tools save as ``.xls``."""
    encoding = next((name for bom, name in _BOMS if head.startswith(bom)), "utf-8")
    text = head.decode(encoding, errors="replace").lstrip("\ufeff \t\r\n").lower()
    if not text.startswith("<"):
        return
    key = "xml2003_as_excel" if "urn:schemas-microsoft-com:office:spreadsheet" in text else "html_as_excel"
    raise InputError(MESSAGES(key, ext=path.suffix or "''"), where=Location(path))


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


def _extension_warnings(path: Path, kind: str) -> list[str]:
    """Say so when the extension does not match the content, since ops will wonder later."""
    suffix = path.suffix.lower()
    if kind == "text":
        real = MESSAGES("format_text")
        mismatch = suffix in EXCEL_SUFFIXES["zip"] | EXCEL_SUFFIXES["ole"]
    else:
        real = MESSAGES("format_excel")
        mismatch = suffix not in EXCEL_SUFFIXES[kind]
    return [MESSAGES("extension_mismatch", ext=suffix or "''", real=real)] if mismatch else []


# --------------------------------------------------------------------------- workbooks


def _open_workbook(path: Path, kind: str) -> tuple[calamine.CalamineWorkbook, dict[str, str]]:
    """Open with calamine; from the bytes when the extension would mislead calamine's own choice.

    A zip-based workbook is first checked by :func:`tagger.preflight.check_archive`:
    calamine aborts the whole process on some hostile files (a cell bomb), so they
    must be refused before it sees them. Also returns, per sheet, the worksheet part
    that holds formulas or error cells (which calamine reads as blank).
    """
    parts = check_archive(path).formula_parts if kind == "zip" else {}
    try:
        if path.suffix.lower() in EXCEL_SUFFIXES[kind]:
            return calamine.CalamineWorkbook.from_path(str(path)), parts
        with path.open("rb") as handle:
            return calamine.CalamineWorkbook.from_filelike(handle), parts
    except calamine.PasswordError as error:
        raise InputError(MESSAGES("encrypted"), where=Location(path)) from error
    except (calamine.CalamineError, ValueError, OSError) as error:
        raise InputError(MESSAGES("unreadable_excel", detail=error), where=Location(path)) from error


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
        raise InputError(MESSAGES("unreadable_excel", detail=error), where=Location(path, name)) from error


@dataclass
class _Candidate:
    """A loaded sheet with its first rows (merged header cells filled) and where its header is."""

    name: str
    sheet: calamine.CalamineSheet
    head: list[list[str]]
    header: int | None


def _scan(
    book: calamine.CalamineWorkbook, path: Path, name: str, aliases: Mapping[str, Sequence[str]], scan_rows: int
) -> _Candidate:
    sheet = _load_sheet(book, path, name)
    rows = sheet.to_python(skip_empty_area=False, nrows=scan_rows)
    _fill_merged(rows, sheet.merged_cell_ranges or [])
    head = [[_header_text(value) for value in row] for row in rows]
    return _Candidate(name, sheet, head, _find_header(head, aliases))


def _read_workbook(
    path: Path, kind: str, sheet: str | None, aliases: Mapping[str, Sequence[str]], scan_rows: int
) -> Table:
    book, formula_parts = _open_workbook(path, kind)
    try:
        warnings: list[str] = []
        if sheet is not None:
            chosen = _named_sheet(book, path, sheet, aliases, scan_rows)
        else:
            chosen, warnings = _auto_sheet(book, path, aliases, scan_rows)
        assert chosen.header is not None
        rows = chosen.sheet.to_python(skip_empty_area=False)
    finally:
        book.close()
    data = _object_matrix(rows, chosen.header + 1)
    del rows
    table = _build_table(chosen.head[chosen.header], data, path, chosen.name, chosen.header + 1)
    table.warnings[:0] = warnings
    if chosen.name in formula_parts:
        table.formula_cells = _formula_cells_by_header(table, formula_cells(path, formula_parts[chosen.name]))
    return table


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
            MESSAGES("sheet_not_found", sheet=name, sheets=_describe_sheets(metas)), where=Location(path)
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
        raise InputError(MESSAGES("no_visible_sheet", sheets=_describe_sheets(metas)), where=Location(path))
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
    warnings = [MESSAGES("several_sheets", others=_quoted(others), used=chosen.name)] if others else []
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
    detail = MESSAGES("no_header_first_sheet", sheet=first.name, detail=seen)
    hidden = [
        meta.name
        for meta in metas
        if not _is_visible(meta) and _scan(book, path, meta.name, aliases, scan_rows).header is not None
    ]
    if hidden:
        detail += _sentence_break() + MESSAGES("hidden_has_header", sheets=_quoted(hidden))
    message = MESSAGES("no_header_in_sheets", sheets=_describe_sheets(metas), detail=detail)
    return InputError(message, where=Location(path))


def _describe_sheets(metas: Sequence[calamine.SheetMetadata]) -> str:
    items = [MESSAGES("sheet_item", name=meta.name, state=MESSAGES(_state_key(meta))) for meta in metas]
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


# --------------------------------------------------------------------------- header row


def _header_text(value: object) -> str:
    """A header cell as text: ``2024.0`` reads as ``2024``, an empty cell as ``''``.

    >>> _header_text(2024.0), _header_text(None), _header_text(" 注册时间 ")
    ('2024', '', ' 注册时间 ')
    """
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else str(value)


def _find_header(head: Sequence[Sequence[str]], aliases: Mapping[str, Sequence[str]]) -> int | None:
    """0-based index of the header row: the last row of the first run of matching rows.

    In a two-level header whose required columns are merged down across both
    rows, both rows match after merged cells are filled; the lower one names the
    data columns. Data rows never match, so the run ends at the header.

    >>> _find_header([["标题"], ["用户ID", "注册时间", "最近一次活跃时间"], ["1", "2", "3"]], DEFAULT_ALIASES)
    1
    """
    found: int | None = None
    for index, cells in enumerate(head):
        if is_header_row(cells, aliases):
            found = index
        elif found is not None:
            break
    return found


def _no_header_detail(head: Sequence[Sequence[str]], aliases: Mapping[str, Sequence[str]], scan_rows: int) -> str:
    """What the closest row to a header looked like and which required fields it lacks."""
    best: tuple[int, int, int] | None = None
    for index, cells in enumerate(head):
        matched = len(REQUIRED_FIELDS) - len(missing_required(match_columns(cells, aliases)))
        filled = sum(1 for cell in cells if normalize_header(cell))
        if filled and (best is None or (matched, filled) > best[:2]):
            best = (matched, filled, index)
    if best is None:
        return MESSAGES("no_header_empty", scan=scan_rows, missing=_field_names(REQUIRED_FIELDS))
    cells = head[best[2]]
    matched = match_columns(cells, aliases)
    missing = missing_required(matched)
    return MESSAGES(
        "no_header", scan=scan_rows, row=best[2] + 1, seen=_seen_headers(cells), missing=_field_names(missing),
        example=_mapping_example(missing, [c for c in cells if normalize_header(c) and c not in matched.values()],
                                 aliases),
    )


def _mapping_example(missing: Sequence[str], unused: Sequence[str], aliases: Mapping[str, Sequence[str]]) -> str:
    """``register_date = "开户时间"``: each missing field with the unused header most like one of its names.

    A header from the user's own row makes the fix a copy; when none is alike, a placeholder says what goes there.
    """
    parts = []
    left = list(dict.fromkeys(unused))
    for name in missing:
        names = [normalize_header(n) for n in (*aliases.get(name, ()), FIELD_LABELS.get(name, {}).get("zh", ""))]
        scored = [(max(difflib.SequenceMatcher(None, normalize_header(h), n).ratio() for n in names if n), h)
                  for h in left]
        score, header = max(scored, default=(0.0, ""))
        if score < 0.4:
            header = MESSAGES("your_header")
        else:
            left.remove(header)
        parts.append(f'{name} = "{header}"')
    return "; ".join(parts)


def _seen_headers(cells: Sequence[str]) -> str:
    seen = [f"{column_letter(index)} '{cell}'" for index, cell in enumerate(cells) if normalize_header(cell)]
    more = ["…"] if len(seen) > _LIST_LIMIT else []
    return _join(seen[:_LIST_LIMIT] + more)


def _field_names(fields: Sequence[str]) -> str:
    """Required fields by the names ops know (用户ID, 注册时间, …) in the current language."""
    lang = get_language()
    return _join([FIELD_LABELS.get(name, {}).get(lang, name) for name in fields])


def _join(items: Sequence[str]) -> str:
    return ("、" if get_language() == "zh" else ", ").join(items)


def _quoted(names: Sequence[str]) -> str:
    return _join([f"'{name}'" for name in names])


def _sentence_break() -> str:
    return "。" if get_language() == "zh" else ". "


# --------------------------------------------------------------------------- building the table


def _build_table(
    header: Sequence[object], data: np.ndarray, path: Path, sheet: str | None, header_row: int
) -> Table:
    """Name the columns, drop empty rows/columns and index rows by their source row number.

    ``data`` is modified in place (``''`` becomes ``None``) to avoid copying a
    million-row matrix.
    """
    empty = data == ""
    data[empty] = None
    has_data = ~empty.all(axis=0)
    warnings: list[str] = []
    names, columns, letters = _name_columns(header, has_data, path, sheet, header_row, warnings)
    rows = np.flatnonzero(~empty.all(axis=1))
    last = int(rows[-1]) + 1 if len(rows) else 0
    if len(rows) < last:
        dropped = np.setdiff1d(np.arange(last), rows) + header_row + 1
        warnings.append(MESSAGES("empty_rows", count=len(dropped), rows=_row_list(dropped)))
    if not len(rows):
        warnings.append(MESSAGES("no_data_rows", row=header_row))
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
            text = MESSAGES("unnamed_column", letter=letter)
            generated.append(letter)
        key = normalize_header(text)
        if key in seen:
            first, header_text = seen[key]
            message = MESSAGES("duplicate_header", first=first, second=letter, header=header_text, row=header_row)
            raise InputError(message, where=Location(path, sheet, header_row))
        seen[key] = (letter, text)
        names.append(text)
        columns.append(index)
        letters[text] = letter
    if generated:
        made = [f"'{MESSAGES('unnamed_column', letter=letter)}'" for letter in generated]
        warnings.append(MESSAGES("unnamed_columns", letters=_join(generated), names=_join(made)))
    return names, columns, letters


def _row_list(rows: np.ndarray, limit: int = 10) -> str:
    shown = [str(int(row)) for row in rows[:limit]]
    return _join(shown + (["…"] if len(rows) > limit else []))


# --------------------------------------------------------------------------- text files


def _read_text(path: Path, aliases: Mapping[str, Sequence[str]], scan_rows: int) -> Table:
    """Read csv/tsv/txt as strings only: decoding, delimiter and header row are found first."""
    encoding = _detect_encoding(path)
    head_text = _head_text(path, encoding, scan_rows)
    default = "\t" if encoding == "utf-16" else ","
    try:
        delimiter, head = _sniff_delimiter(head_text, aliases, default, scan_rows)
    except _HeadError as error:
        raise InputError(error.message, where=Location(path, row=error.line)) from None
    header = _find_header(head, aliases)
    if header is None:
        raise InputError(_no_header_detail(head, aliases, scan_rows), where=Location(path))
    width = len(head[header])
    _check_field_counts(path, encoding, delimiter, header, width)
    raw = _parse_csv(path, encoding, delimiter, header)
    values = raw.to_numpy(dtype=object)
    del raw
    table = _build_table(list(values[0]), values[1:], path, None, header + 1)
    table.encoding = encoding
    table.delimiter = delimiter
    return table


def _detect_encoding(path: Path) -> str:
    """BOM first, then strict UTF-8, then strict GB18030 (what Excel's Chinese "CSV" writes).

    Nothing is ever decoded with ``errors="ignore"``; when no encoding fits, the
    error names the row of the first bad byte.
    """
    with path.open("rb") as handle:
        head = handle.read(4)
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            offset, _ = _first_bad_byte(path, encoding)
            if offset is not None:
                raise _decode_error(path, "bad_bom_encoding", encoding, offset)
            return encoding
    utf8_offset, multibyte = _first_bad_byte(path, "utf-8")
    if utf8_offset is None:
        return "utf-8"
    if multibyte >= _UTF8_EVIDENCE_BYTES:
        raise _decode_error(path, "damaged_utf8", "utf-8", utf8_offset)
    gb_offset, _ = _first_bad_byte(path, "gb18030")
    if gb_offset is None:
        return "gb18030"
    if utf8_offset >= gb_offset:
        raise _decode_error(path, "bad_encoding", "utf-8", utf8_offset)
    raise _decode_error(path, "bad_encoding", "gb18030", gb_offset)


def _first_bad_byte(path: Path, encoding: str) -> tuple[int | None, int]:
    """Offset of the first undecodable byte (None if all decode) and the multi-byte evidence before it.

    The evidence is how many more bytes than characters were decoded: a file with
    Chinese text that decodes as UTF-8 for a while is UTF-8, whatever comes later.
    """
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    consumed = produced = 0
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(_CHUNK)
            pending = len(decoder.getstate()[0])
            try:
                produced += len(decoder.decode(chunk, final=not chunk))
            except UnicodeDecodeError as error:
                before = error.object[: error.start]
                evidence = consumed - pending - produced + len(before) - len(before.decode(encoding, "replace"))
                return consumed - pending + error.start, evidence
            consumed += len(chunk)
            if not chunk:
                return None, consumed - produced


def _decode_error(path: Path, key: str, encoding: str, offset: int) -> InputError:
    row = _line_at(path, encoding, offset)
    return InputError(MESSAGES(key, row=row, offset=offset, encoding=encoding), where=Location(path, row=row))


def _line_at(path: Path, encoding: str, offset: int) -> int:
    """1-based line holding byte ``offset``; the bytes before it decode, by construction."""
    decoder = codecs.getincrementaldecoder(encoding)("replace")
    lines = 1
    with path.open("rb") as handle:
        remaining = offset
        while remaining > 0:
            chunk = handle.read(min(_CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            lines += decoder.decode(chunk).count("\n")
    return lines


def _count_lines(path: Path, encoding: str) -> int:
    """Lines in a text file (best effort; quoted line breaks count too)."""
    size = path.stat().st_size
    return _line_at(path, encoding, size) - (1 if _ends_with_newline(path) else 0)


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(max(path.stat().st_size - 2, 0))
        return handle.read().endswith((b"\n", b"\n\x00"))


def _head_text(path: Path, encoding: str, scan_rows: int) -> str:
    """The first ``scan_rows`` lines, enough to find the delimiter and the header row."""
    with path.open(encoding=encoding, newline="") as handle:
        return "".join(line for _, line in zip(range(scan_rows), handle))


def _sniff_delimiter(
    text: str, aliases: Mapping[str, Sequence[str]], default: str, scan_rows: int
) -> tuple[str, list[list[str]]]:
    """The delimiter that makes one of the first rows a header row, with those rows parsed.

    Failing that (the caller then reports the missing headers), the delimiter that
    splits the first non-empty line into the most fields, so the report shows
    sensible "headers seen".
    """
    order = [default] + [d for d in DELIMITERS if d != default]
    parsed, problem = _parse_heads(text, order, scan_rows)
    for delimiter in order:
        if _find_header(parsed[delimiter], aliases) is not None:
            return delimiter, parsed[delimiter]
    if problem is not None:  # say what stopped the search, not "the first rows are empty"
        raise problem
    first = next((line for line in text.splitlines() if line.strip()), "")
    best = max(order, key=lambda d: (first.count(d), d == default))
    return best, parsed[best]


def _parse_head(text: str, delimiter: str, scan_rows: int) -> list[list[str]]:
    """The first rows; raises :class:`_HeadError` (with the line) when the csv module cannot parse one."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    try:
        for _, row in zip(range(scan_rows), reader):
            rows.append(row)
    except csv.Error as error:
        raise _HeadError(rows, _csv_error_message(error, reader.line_num), reader.line_num) from error
    return rows


class _HeadError(Exception):
    """A head row the csv module refused (a field over its size limit), with the rows parsed before it."""

    def __init__(self, rows: list[list[str]], message: str, line: int) -> None:
        super().__init__(message)
        self.rows, self.message, self.line = rows, message, line


def _parse_heads(text: str, order: Sequence[str], scan_rows: int) -> tuple[dict[str, list[list[str]]],
                                                                             _HeadError | None]:
    """The head parsed with each delimiter, and the first parse error (named if no header is found)."""
    parsed: dict[str, list[list[str]]] = {}
    problem: _HeadError | None = None
    for delimiter in order:
        try:
            parsed[delimiter] = _parse_head(text, delimiter, scan_rows)
        except _HeadError as error:
            parsed[delimiter] = error.rows
            problem = problem or error
    return parsed, problem


def _check_field_counts(path: Path, encoding: str, delimiter: str, header: int, width: int) -> None:
    """Refuse data rows whose field count differs from the header's.

    pandas raises for rows with too many fields but silently pads short ones, and
    a short row usually means a nickname broke a line, shifting every later
    value. Rows that are completely empty (blank lines, ``,,,``) are fine: they
    are dropped later like empty Excel rows.
    """
    counts = _fast_field_counts(path, encoding, delimiter)
    if counts is None:
        counts = _slow_field_counts(path, encoding, delimiter)
    suspects = np.flatnonzero(counts[header + 1 :] != width) + header + 1
    if not len(suspects):
        return
    for record, fields in _records(path, encoding, delimiter, suspects):
        if any(fields):
            message = _ragged_message(record + 1, fields, header + 1, width, delimiter)
            raise InputError(message, where=Location(path, row=record + 1))


def _ragged_message(row: int, fields: Sequence[str], header_row: int, width: int, delimiter: str) -> str:
    """A short record holding a line break is a quote that swallowed the lines after it."""
    if len(fields) < width and any("\n" in value or "\r" in value for value in fields):
        return MESSAGES("quote_swallowed", row=row, found=len(fields), expected=width)
    shown = _show_delimiter(delimiter)
    return MESSAGES("ragged_row", row=row, found=len(fields), header_row=header_row, expected=width, delimiter=shown)


def _fast_field_counts(path: Path, encoding: str, delimiter: str) -> np.ndarray | None:
    """Fields per line by counting bytes with numpy, when that is exact; else None.

    Exact when the file has no quote character and no bare CR, and the delimiter
    and LF bytes cannot occur inside a multi-byte character (always in UTF-8; in
    GB18030 only ``|`` can be a trail byte; UTF-16 never qualifies). Counting
    with ``csv.reader`` costs ~3 s per million rows; this ~0.3 s.
    """
    if encoding == "utf-16" or (encoding == "gb18030" and delimiter == "|"):
        return None
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        if mapped.find(b'"') != -1:
            return None
        buffer = np.frombuffer(mapped, dtype=np.uint8)
        try:
            counts = _count_fields(buffer, ord(delimiter))
        finally:
            del buffer
    return counts


def _count_fields(buffer: np.ndarray, delimiter: int) -> np.ndarray | None:
    """Fields per line of a quote-free file; 0 for a blank line; None if a bare CR ends lines.

    >>> _count_fields(np.frombuffer(b"a,b\\r\\n\\r\\nc\\n,", dtype=np.uint8), ord(","))
    array([2, 0, 1, 2])
    """
    newlines = np.flatnonzero(buffer == 10)
    carriage = np.count_nonzero(buffer == 13)
    if carriage and carriage != np.count_nonzero(buffer[newlines[newlines > 0] - 1] == 13):
        return None  # bare CR line ends: leave it to csv
    ends = newlines if buffer[-1] == 10 else np.append(newlines, len(buffer))
    starts = np.concatenate(([0], newlines + 1))[: len(ends)]
    lengths = ends - starts
    if carriage:
        lengths -= buffer[np.maximum(ends - 1, 0)] == 13
    # Line of each delimiter byte, counted per line (memory: 8 bytes per delimiter, not per byte).
    counts = np.bincount(np.searchsorted(ends, np.flatnonzero(buffer == delimiter)), minlength=len(ends)) + 1
    counts[lengths == 0] = 0
    return counts


def _slow_field_counts(path: Path, encoding: str, delimiter: str) -> np.ndarray:
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            return np.fromiter(map(len, reader), dtype=np.int64)
        except csv.Error as error:
            raise InputError(_csv_error_message(error, reader.line_num), where=Location(path)) from error


def _records(path: Path, encoding: str, delimiter: str, wanted: np.ndarray) -> Iterator[tuple[int, list[str]]]:
    """The records at 0-based positions ``wanted`` (sorted), parsed the way pandas will parse them."""
    targets = iter(int(position) for position in wanted)
    target = next(targets, None)
    with path.open(encoding=encoding, newline="") as handle:
        for position, fields in enumerate(csv.reader(handle, delimiter=delimiter)):
            if target is None:
                return
            if position == target:
                yield position, fields
                target = next(targets, None)


def _csv_error_message(error: csv.Error, line: int) -> str:
    if "field larger than field limit" in str(error):
        return MESSAGES("field_too_large", row=line, limit=csv.field_size_limit())
    return MESSAGES("csv_error", detail=error)


def _show_delimiter(delimiter: str) -> str:
    return MESSAGES("tab") if delimiter == "\t" else f"'{delimiter}'"


_PANDAS_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_PANDAS_EOF = re.compile(r"EOF inside string starting at row (\d+)")


def _parse_csv(path: Path, encoding: str, delimiter: str, header: int) -> pd.DataFrame:
    """All fields as ``str`` exactly as written: no NA sentinels, no numbers, no dates.

    ``dtype=object`` rather than ``dtype=str``: under pandas 3 ``str`` builds a
    string extension dtype that would then be converted cell by cell; ``object``
    keeps the parser's Python strings, equally unconverted.
    """
    try:
        return pd.read_csv(
            path,
            sep=delimiter,
            header=None,
            skiprows=header,
            dtype=object,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            encoding=encoding,
            engine="c",
            on_bad_lines="error",
        )
    except pd.errors.ParserError as error:
        raise _translate_parser_error(path, error, header, delimiter) from error


def _translate_parser_error(path: Path, error: Exception, header: int, delimiter: str) -> InputError:
    """pandas' C parser counts records from the top of the file (its EOF row is 0-based)."""
    text = str(error)
    if match := _PANDAS_FIELDS.search(text):
        expected, row, found = (int(group) for group in match.groups())
        message = MESSAGES(
            "ragged_row",
            row=row,
            found=found,
            header_row=header + 1,
            expected=expected,
            delimiter=_show_delimiter(delimiter),
        )
        return InputError(message, where=Location(path, row=row))
    if match := _PANDAS_EOF.search(text):
        row = int(match.group(1)) + 1
        return InputError(MESSAGES("unclosed_quote", row=row), where=Location(path, row=row))
    return InputError(MESSAGES("csv_error", detail=text), where=Location(path))
