"""Text exports (csv/tsv/txt): the encoding, the delimiter, the header row and ragged rows.

Excel's Chinese "CSV" is GB18030, "Unicode text" is UTF-16 with tabs, BI tools write
UTF-8 with or without a BOM; nothing is ever decoded with ``errors="ignore"``. Every
field is kept as the ``str`` written in the file (no NA sentinels, numbers or dates),
and a record whose field count differs from the header's is refused with its row,
since it usually means a nickname broke a line and shifted every later value.
"""

from __future__ import annotations

import codecs
import csv
import io
import mmap
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from tagger.errors import InputError, Location
from tagger.readers.base import Request, mismatch_warnings
from tagger.readers.excel import WORKBOOK_SUFFIXES
from tagger.readers.header import _find_header, _no_header_detail
from tagger.readers.messages import TEXT
from tagger.readers.table import SheetInfo, Table, _build_table

TEXT_SUFFIXES = frozenset({".csv", ".tsv", ".txt"})
DELIMITERS: tuple[str, ...] = (",", "\t", ";", "|")
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CHUNK = 1 << 20
# A UTF-8 file that decoded this many multi-byte characters before a bad byte is a
# damaged UTF-8 file: trying GB18030 on it would only produce mojibake.
_UTF8_EVIDENCE_BYTES = 16


class TextReader:
    """Delimited text; recognised last, as whatever is neither a workbook nor binary."""

    name = "text"
    suffixes = TEXT_SUFFIXES
    offered: tuple[str, ...] = (".csv", ".tsv", ".txt")
    by_suffix = False

    def recognise(self, path: Path, head: bytes) -> bool:
        _refuse_markup(path, head)
        return not _looks_binary(head)

    def extension_warnings(self, path: Path) -> list[str]:
        return mismatch_warnings(path, path.suffix.lower() in WORKBOOK_SUFFIXES, "format_text")

    def sheets(self, path: Path) -> list[SheetInfo]:
        """One visible sheet named after the file, so a sheet picker can treat every export alike."""
        encoding = _detect_encoding(path)
        return [SheetInfo(path.name, True, _count_lines(path, encoding))]

    def read(self, path: Path, request: Request) -> Table:
        table = _read_text(path, request.aliases, request.scan_rows)
        if request.sheet is not None:
            table.warnings.insert(0, TEXT("text_has_no_sheets", sheet=request.sheet))
        return table

    def head(self, path: Path, sheet: str | None, rows: int, aliases: Mapping[str, Sequence[str]]) -> list[list[str]]:
        """The first rows, decoded and split exactly as :meth:`read` would."""
        encoding = _detect_encoding(path)
        default = "\t" if encoding == "utf-16" else ","
        try:
            _, head = _sniff_delimiter(_head_text(path, encoding, rows), aliases, default, rows)
        except _HeadError as error:
            raise InputError(error.message, where=Location(path, row=error.line)) from None
        return head


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
    raise InputError(TEXT(key, ext=path.suffix or "''"), where=Location(path))


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
    return InputError(TEXT(key, row=row, offset=offset, encoding=encoding), where=Location(path, row=row))


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
        # strict=False: at most scan_rows lines, from a file that is usually far longer (or shorter)
        return "".join(line for _, line in zip(range(scan_rows), handle, strict=False))


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
        for _, row in zip(range(scan_rows), reader, strict=False):  # at most scan_rows rows of any text
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
        return TEXT("quote_swallowed", row=row, found=len(fields), expected=width)
    shown = _show_delimiter(delimiter)
    return TEXT("ragged_row", row=row, found=len(fields), header_row=header_row, expected=width, delimiter=shown)


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
        return TEXT("field_too_large", row=line, limit=csv.field_size_limit())
    return TEXT("csv_error", detail=error)


def _show_delimiter(delimiter: str) -> str:
    return TEXT("tab") if delimiter == "\t" else f"'{delimiter}'"


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
        message = TEXT(
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
        return InputError(TEXT("unclosed_quote", row=row), where=Location(path, row=row))
    return InputError(TEXT("csv_error", detail=text), where=Location(path))


__all__ = ["DELIMITERS", "TEXT_SUFFIXES", "TextReader"]
