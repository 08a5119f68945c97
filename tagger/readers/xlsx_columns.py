"""The data rows of an xlsx sheet read as typed Arrow columns (fastexcel), in the cell value contract.

python-calamine holds the parsed sheet in Rust and then every cell again as a
Python object: at a million users that is 2 GB. fastexcel parses the same cells
(calamine underneath) into one Arrow column per sheet column and frees the parse
before any Python object exists, and a value repeated down a column (a category,
a count) becomes one shared Python object instead of one per cell.

fastexcel gives one dtype per column, so a column is only read this way when
*every* cell under the header has the same type (``schema_sample_rows=None``,
``dtype_coercion="strict"``): an ID typed as a number after row 1,000 makes the
read fall back to python-calamine, which keeps each cell's own type. Within a
uniform column the values are converted exactly as python-calamine converts
them (text as stored, floats, booleans, a whole-day date as ``date``, a time of
day as ``time``); anything else (durations, the 1904 date system, dates in
Excel's fictitious 1900-02-29 region) falls back too.

Finding the header needs only the first rows, and parsing a whole sheet for
them would parse it twice: :func:`head_copy` makes a copy of the workbook whose
worksheets stop after those rows (their merged ranges kept), which
python-calamine reads in milliseconds.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tagger.deflate import open_for_reading

_CHUNK = 1 << 20
_HEAD_LIMIT = 64 << 20  # bytes of a part's first rows (or of what follows its rows) a head copy holds at most
_OVERLAP = 4096  # a row tag cut by a chunk boundary is looked for again from this far back
_SAMPLE = 10_000  # rows a text column's repetition is judged on
_ROW = re.compile(rb"<row\b[^>]*>")
_ROW_NUMBER = re.compile(rb'\sr="(\d+)"')
_SHEET_DATA_END = b"</sheetData>"
_DATE_1904 = re.compile(rb'date1904="(?:1|true)"')
_OOXML_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xltx", ".xltm"})
_UNNAMED = "__UNNAMED__"
_DAY_MS = 86_400_000
_EPOCH = dt.datetime(1970, 1, 1)
# python-calamine reads a serial below 1 as a time of day (fastexcel: that time on 1899-12-31); serials
# 1-60 (1900-01-01 to Excel's fictitious 1900-02-29) are where converters disagree, so they fall back.
_TIME_FROM_MS = int((dt.datetime(1899, 12, 31) - _EPOCH).total_seconds() * 1000)
_DATES_FROM_MS = int((dt.datetime(1900, 3, 1) - _EPOCH).total_seconds() * 1000)
_TIME_UNTIL_MS = _TIME_FROM_MS + _DAY_MS


def usable(path: Path) -> bool:
    """Whether ``path`` can take the columnar read: an OOXML workbook (not xlsb/ods) with fastexcel installed."""
    if path.suffix.lower() not in _OOXML_SUFFIXES:
        return False
    return all(importlib.util.find_spec(name) is not None for name in ("fastexcel", "pyarrow"))


def head_copy(path: Path, scan_rows: int) -> bytes | None:
    """The workbook with each worksheet cut after row ``scan_rows`` (merged ranges kept), as xlsx bytes.

    None when the workbook is not a plain xlsx (xlsb, ods), uses the 1904 date
    system, a row lacks its number or the first rows are implausibly large: the
    caller then reads the whole workbook. Finding the merged ranges (after the
    rows) means inflating the whole part once more: 0.2 s at 100,000 rows.

    >>> import tempfile, xlsxwriter, python_calamine
    >>> path = Path(tempfile.mkdtemp()) / "h.xlsx"
    >>> book = xlsxwriter.Workbook(str(path)); sheet = book.add_worksheet()
    >>> _ = sheet.merge_range("A1:B1", "标题"), [sheet.write_row(r, 0, [r, r]) for r in range(1, 50)], book.close()
    >>> head = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(head_copy(path, 3))).get_sheet_by_index(0)
    >>> head.to_python(), head.merged_cell_ranges
    ([['标题', ''], [1.0, 1.0], [2.0, 2.0]], [((0, 0), (0, 1))])
    """
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if "xl/workbook.xml" not in names or _DATE_1904.search(archive.read("xl/workbook.xml")):
                return None
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as copy:
                for name in names:
                    if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                        part = _cut_rows(archive, name, scan_rows)
                        if part is None:
                            return None
                        copy.writestr(name, part)
                    else:
                        copy.writestr(name, archive.read(name))
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, NotImplementedError):
        return None
    return out.getvalue()


def _cut_rows(archive: zipfile.ZipFile, name: str, scan_rows: int) -> bytes | None:
    """One worksheet part with its rows after ``scan_rows`` left out; None if a row has no number."""
    kept = bytearray()
    with open_for_reading(archive, archive.getinfo(name)) as handle:  # read to its end: ISA-L inflates faster
        while len(kept) <= _HEAD_LIMIT:
            chunk = handle.read(_CHUNK)
            start = max(len(kept) - _OVERLAP, 0)
            kept += chunk
            cut = _first_row_after(kept, start, scan_rows, final=not chunk)
            if cut == -2:
                return None
            if cut >= 0:
                rest = _after_sheet_data(handle, bytes(kept[cut:]))
                return None if rest is None else bytes(kept[:cut]) + _SHEET_DATA_END + rest
            if not chunk:
                return bytes(kept)
    return None


def _first_row_after(data: bytearray, start: int, scan_rows: int, *, final: bool) -> int:
    """Offset of the first ``<row>`` numbered beyond ``scan_rows`` or of ``</sheetData>``; -1 none yet, -2 unusable."""
    end = data.find(_SHEET_DATA_END, start)
    limit = end if end >= 0 else len(data)
    for match in _ROW.finditer(data, start, limit):
        number = _ROW_NUMBER.search(match[0])
        if number is None:
            return -2
        if int(number[1]) > scan_rows:
            return match.start()
    if end >= 0:
        return end
    return -2 if final else -1


def _after_sheet_data(handle: Any, carry: bytes) -> bytes | None:
    """What follows ``</sheetData>`` (merged ranges among it), reading the part on to find it."""
    while True:
        at = carry.find(_SHEET_DATA_END)
        if at >= 0:
            return _rest(handle, carry[at + len(_SHEET_DATA_END):])
        chunk = handle.read(_CHUNK)
        if not chunk:
            return b"</worksheet>"
        carry = carry[-len(_SHEET_DATA_END):] + chunk


def _rest(handle: Any, tail: bytes) -> bytes | None:
    """The part's remaining bytes, unless they exceed :data:`_HEAD_LIMIT`."""
    pieces = [tail]
    size = len(tail)
    while size <= _HEAD_LIMIT:
        chunk = handle.read(_CHUNK)
        if not chunk:
            return b"".join(pieces)
        pieces.append(chunk)
        size += len(chunk)
    return None


def read_columns(
    path: Path, sheet: str, start: tuple[int, int], header: int, raw_header: Sequence[object]
) -> tuple[np.ndarray, np.ndarray] | None:
    """The cells under the 0-based ``header`` row as an object matrix from column A, and where they are empty.

    ``start`` is where the sheet's cells begin (row, column; from the head copy),
    ``raw_header`` the header row as stored (merged cells not filled), which
    checks that fastexcel's columns line up with the sheet's. None when a column
    mixes types, or anything else is not certain: the caller reads with
    python-calamine then.
    """
    import fastexcel

    try:
        loaded = fastexcel.read_excel(str(path)).load_sheet(
            sheet, header_row=header - start[0], schema_sample_rows=None, dtype_coercion="strict")
        batch = loaded.to_arrow()
    except (fastexcel.FastExcelError, OSError, ValueError):  # a column mixing types among them
        return None
    del loaded
    first = _first_column(batch.schema.names, raw_header)
    if first is None:
        return None
    width = first + batch.num_columns
    data = np.full((batch.num_rows, width), None, dtype=object)
    empty = np.ones((batch.num_rows, width), dtype=bool)
    for index in range(batch.num_columns):
        column = batch.column(index)
        converted = _convert(column)
        if converted is None:
            return None
        data[:, first + index], empty[:, first + index] = converted
    return data, empty


def _first_column(names: Sequence[str], raw_header: Sequence[object]) -> int | None:
    """The sheet column of fastexcel's first column, checked against every text header cell.

    >>> _first_column(["__UNNAMED__0", "ID", "ID_1", "x"], ["", "", "ID", "ID", "x"])
    1
    >>> _first_column(["ID", "x"], ["", "ID", "y"]) is None
    True
    """
    texts = [(col, value) for col, value in enumerate(raw_header) if isinstance(value, str) and value]
    if not texts or texts[0][1] not in names:
        return None
    first = texts[0][0] - names.index(texts[0][1])
    if first < 0:
        return None
    for col, text in texts:
        at = col - first
        if at >= len(names) or not (names[at] == text or names[at].startswith(f"{text}_")):
            return None
    return first


def _convert(column: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """One Arrow column as python-calamine's objects (None where empty) and its empty mask; None if unsure."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    missing = column.is_null().to_numpy(zero_copy_only=False)
    if pa.types.is_null(kind):
        return np.full(len(column), None, dtype=object), np.ones(len(column), dtype=bool)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        empty = missing | pc.equal(column, "").fill_null(False).to_numpy(zero_copy_only=False)
        values = _strings(column)
    elif pa.types.is_floating(kind):
        numbers = column.fill_null(0.0).to_numpy(zero_copy_only=False).astype(np.float64)
        empty, values = missing, _shared(numbers.view(np.int64), lambda keys: keys.view(np.float64).tolist())
    elif pa.types.is_boolean(kind):
        flags = column.fill_null(False).to_numpy(zero_copy_only=False)
        empty, values = missing, np.array([False, True], dtype=object)[flags.astype(np.intp)]
    elif pa.types.is_timestamp(kind) and kind.unit == "ms" and kind.tz is None:
        millis = column.cast(pa.int64()).fill_null(_DATES_FROM_MS).to_numpy(zero_copy_only=False)
        if ((millis < _DATES_FROM_MS) & ((millis < _TIME_FROM_MS) | (millis >= _TIME_UNTIL_MS))).any():
            return None
        empty, values = missing, _shared(millis, _moments)
    else:
        return None
    values[empty] = None
    return values, empty


def _strings(column: Any) -> np.ndarray:
    """Text cells as ``str``; a column of few distinct values shares one object per value.

    Whether values repeat is judged on the first rows, so a column of IDs is not hashed for nothing.
    """
    import pyarrow.compute as pc

    sample = column.slice(0, _SAMPLE)
    if pc.count_distinct(sample).as_py() * 4 > len(sample):
        return np.asarray(column.to_numpy(zero_copy_only=False), dtype=object)
    encoded = pc.dictionary_encode(column)
    distinct = [*encoded.dictionary.to_pylist(), None]  # None for the empty cells (all of them, at worst)
    return _take(distinct, encoded.indices.fill_null(len(distinct) - 1).to_numpy(zero_copy_only=False))


def _shared(keys: np.ndarray, objects: Callable[[np.ndarray], list[Any]]) -> np.ndarray:
    """One Python object per distinct key (``objects`` makes them from the sorted distinct keys), shared."""
    distinct, inverse = np.unique(keys, return_inverse=True)
    return _take(objects(distinct), inverse)


def _take(objects: list[Any], positions: np.ndarray) -> np.ndarray:
    table = np.empty(len(objects), dtype=object)
    table[:] = objects
    return table[positions.reshape(-1)]


def _moments(millis: np.ndarray) -> list[Any]:
    """Milliseconds since 1970 as python-calamine gives them: a time of day, a whole-day date, else datetime.

    >>> _moments(np.array([_TIME_FROM_MS + 43_200_000, 1_719_792_000_000, 1_719_835_200_000]))
    [datetime.time(12, 0), datetime.date(2024, 7, 1), datetime.datetime(2024, 7, 1, 12, 0)]
    """
    stamps = millis.astype("datetime64[ms]")
    moments = stamps.astype(object)
    days = (millis % _DAY_MS == 0) & (millis >= _TIME_UNTIL_MS)
    moments[days] = stamps[days].astype("datetime64[D]").astype(object)
    times = np.flatnonzero(millis < _TIME_UNTIL_MS)
    moments[times] = [moment.time() for moment in moments[times]]
    return list(moments)


__all__ = ["head_copy", "read_columns", "usable"]
