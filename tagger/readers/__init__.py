"""Read the monthly user export (xlsx/xlsm/xls/ods, csv/tsv/txt, or a Parquet/DuckDB snapshot) into raw cells.

Exports arrive from BI tools and from people: HTML or GBK text saved as ``.xls``,
title rows above the header, merged two-level headers, a hidden ``配置`` sheet in
front, UTF-16 "Unicode text", 18-digit IDs, nicknames such as ``NA``. This package
finds the real format, the sheet and the header row, and returns every cell as it
was stored (no type guessing), so that parsing and validation downstream can name
the exact source row and column of each problem.

Each format is one module with one reader class (:class:`~tagger.readers.base.Reader`),
chosen by :func:`sniff` from the file's first bytes, since extensions lie, as pandas
chooses an Excel engine: :mod:`~tagger.readers.excel` (zip and OLE workbooks),
:mod:`~tagger.readers.text` (delimited text), :mod:`~tagger.readers.parquet` and
:mod:`~tagger.readers.duckdb` (warehouse snapshots, chosen by extension). Adding a
format is one module and one entry in :data:`READERS`.

Cell value contract: each element of :attr:`Table.frame` is ``str`` (exactly as
stored, not stripped), ``int``, ``float``, ``bool``, ``datetime.datetime``,
``datetime.date``, ``datetime.time``/``timedelta`` or ``None`` for an empty cell.
Text files only ever give ``str`` or ``None``. The frame index is the 1-based
source row (Excel row number; for text files the record number, which is what
Excel shows when it opens the file).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from tagger.columns import DEFAULT_ALIASES
from tagger.errors import InputError, Location
from tagger.readers.base import SCAN_ROWS, Reader, Request
from tagger.readers.duckdb import DuckDBReader
from tagger.readers.excel import EXCEL_SUFFIXES, OLE_MAGIC, ZIP_MAGIC, ExcelReader, ole_container
from tagger.readers.messages import TEXT
from tagger.readers.parquet import ParquetReader
from tagger.readers.table import SheetInfo, Table
from tagger.readers.text import DELIMITERS, TEXT_SUFFIXES, TextReader
from tagger.suggest import nearby_files

# Every input format by its sniffed name. Content is tried in this order (text, the
# fallback, last); readers chosen ``by_suffix`` are picked by extension before that.
READERS: dict[str, Reader] = {
    reader.name: reader
    for reader in (
        ExcelReader("zip", offered=(".xlsx", ".xlsm", ".ods")),
        ExcelReader("ole", offered=(".xls",)),
        TextReader(),
        ParquetReader(),
        DuckDBReader(),
    )
}
# The extensions of the files a person picks as an export (the wizard's list, refresh's folder scan).
EXPORT_SUFFIXES: tuple[str, ...] = tuple(suffix for reader in READERS.values() for suffix in reader.offered)


def sniff(path: str | Path) -> str:
    """The name of the reader for ``path`` (a key of :data:`READERS`), from its first bytes.

    Files that can never hold the data (Excel's ``~$`` lock files, HTML or XML
    saved as ``.xls``, encrypted workbooks, binaries) are refused here with a
    message that names what the file really is.
    """
    path = Path(path)
    claimed = claimed_by_suffix(path)
    if claimed is not None:
        return claimed
    if path.name.startswith("~$"):
        raise InputError(TEXT("lock_file", original=path.name[2:]), where=Location(path))
    if not path.exists():
        raise InputError(TEXT("not_found") + nearby_files(path), where=Location(path))
    if not path.is_file():
        raise InputError(TEXT("not_a_file"), where=Location(path))
    with path.open("rb") as handle:
        head = handle.read(4096)
    if not head:
        raise InputError(TEXT("empty_file"), where=Location(path))
    for reader in READERS.values():
        if not reader.by_suffix and reader.recognise(path, head):
            return reader.name
    raise InputError(TEXT("binary_file"), where=Location(path))


def claimed_by_suffix(path: Path) -> str | None:
    """The reader chosen by extension alone (a Parquet file, a DuckDB database), if any."""
    suffix = path.suffix.lower()
    return next((r.name for r in READERS.values() if r.by_suffix and suffix in r.suffixes), None)


def list_sheets(path: str | Path) -> list[SheetInfo]:
    """The worksheets of ``path`` in workbook order (chart sheets left out).

    A text file is shown as one visible sheet named after the file, so a sheet
    picker can treat every export alike.
    """
    path = Path(path)
    return READERS[sniff(path)].sheets(path)


def read_export(
    path: str | Path,
    *,
    sheet: str | None = None,
    aliases: Mapping[str, Sequence[str]] = DEFAULT_ALIASES,
    scan_rows: int = SCAN_ROWS,
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
    reader = READERS[sniff(path)]
    warnings = reader.extension_warnings(path)
    result = reader.read(path, Request(sheet, aliases, scan_rows, table, snapshot_columns))
    result.warnings[:0] = warnings
    return result


def head_rows(
    path: str | Path,
    sheet: str | None = None,
    rows: int = SCAN_ROWS,
    aliases: Mapping[str, Sequence[str]] = DEFAULT_ALIASES,
) -> list[list[str]]:
    """The first ``rows`` rows of ``path`` as text, decoded and split as :func:`read_export` would.

    For picking the header by hand when none is recognised (the wizard): the rows
    come through the same reader, so they show what tagger itself reads.
    """
    path = Path(path)
    return READERS[sniff(path)].head(path, sheet, rows, aliases)


__all__ = [
    "DELIMITERS", "EXCEL_SUFFIXES", "EXPORT_SUFFIXES", "TEXT", "OLE_MAGIC", "READERS", "SCAN_ROWS",
    "TEXT_SUFFIXES", "ZIP_MAGIC",
    "Reader", "Request", "SheetInfo", "Table", "claimed_by_suffix", "head_rows", "list_sheets", "ole_container",
    "read_export", "sniff",
]
