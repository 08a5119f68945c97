"""Check a zip-based workbook (xlsx/xlsm/ods) before any parser touches it.

A hostile or broken workbook can hurt the process that parses it: python-calamine
*aborts the process* (an uncatchable Rust allocation failure) on a 5 KB xlsx that
claims cells at A1 and XFD1048576; openpyxl raises ``MemoryError`` on the same file;
one 300-million-character shared string takes 1.5-1.8 GB to load; a zip member that
inflates 1000:1 takes minutes; ``<!DOCTYPE``/``<!ENTITY`` declarations are the XML
entity-expansion and external-entity attacks. None of this shows in the file size.

:func:`check_archive` reads only the zip directory and streams each XML part once
through zlib, with numpy doing the byte scans, so it needs no more memory than one
chunk and takes about a second per 500 MB of sheet XML. It refuses, with an
:class:`~tagger.errors.InputError` naming the file, sheet and part:

* more than :data:`MAX_MEMBERS` parts, more than :data:`MAX_TOTAL_BYTES` uncompressed
  in all, or a large part that inflates more than :data:`MAX_RATIO` times (zip bomb);
  parts whose real size differs from the directory's (zipfile checks size and CRC);
* a ``<!DOCTYPE`` or ``<!ENTITY`` declaration in any XML part (OOXML never needs one);
* a cell reference (``r="XFD1048576"``) or ``<dimension ref>`` beyond Excel's limits of
  1,048,576 rows and 16,384 columns (XFD), or a sheet whose cells span a range that is
  both large and almost empty (the dense grid a parser would allocate);
* a run of text longer than :data:`MAX_TEXT_BYTES` anywhere in an XML part (an Excel
  cell holds at most 32,767 characters, ~160 KB even fully escaped).
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np

from tagger.deflate import open_for_reading
from tagger.errors import InputError, Location
from tagger.i18n import Catalog

__all__ = ["TEXT", "ArchiveReport", "check_archive"]

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLS = 16_384
MAX_MEMBERS = 1_000
MAX_TOTAL_BYTES = 16 << 30  # 16 GiB: tagger's own 1M-row workbook (formulas in every row) is > 4 GB of XML
MAX_RATIO = 100  # real sheet XML deflates 5-30x; a bomb inflates up to ~1000x
RATIO_MIN_BYTES = 8 << 20  # small parts may compress as well as they like
MAX_TEXT_BYTES = 1 << 20  # longest run of text between two '<'
# A sheet's cell range is refused when it holds more than SPARSE_FLOOR cells *and* more
# than SPARSE_RATIO times the cells the sheet actually has, or more than MAX_RANGE_CELLS.
SPARSE_FLOOR = 20_000_000
SPARSE_RATIO = 50
MAX_RANGE_CELLS = 200_000_000
_CHUNK = 8 << 20
_WINDOW = 12  # a reference is at most 3 letters + 7 digits (+ quote); longer is malformed
_XML_SUFFIXES = (".xml", ".rels", ".vml")
_ENTITY_MARKS = (b"<!DOCTYPE", b"<!ENTITY")
_BANGS = 1_000  # "!"s looked at one by one in a chunk before searching it for each mark
_FORMULA_ENDS = (b">", b" ", b"/")  # what follows "<f" in a formula element (<f>, <f t=…>, <f/>)
_ERROR_CELL = b't="e"'
_SPACE = np.zeros(256, dtype=bool)
_SPACE[[9, 10, 13, 32]] = True
_LETTER = np.zeros(256, dtype=bool)
_LETTER[65:91] = _LETTER[97:123] = True
_DIGIT = np.zeros(256, dtype=bool)
_DIGIT[48:58] = True

TEXT = Catalog(
    "preflight",
    {
        "bad_zip": {
            "zh": "文件以 ZIP（xlsx）开头但已损坏，无法作为 Excel 工作簿读取（{detail}）。请重新导出该文件，"
                  "或在 Excel 中打开后另存为 xlsx",
            "en": "the file starts like a zip (xlsx) but is damaged, so it cannot be read as an Excel workbook "
                  "({detail}); export it again, or open it in Excel and save it as xlsx",
        },
        "too_many_members": {
            "zh": "压缩包内有 {count} 个部件（上限 {limit}），不是正常的 Excel 工作簿，已拒绝读取。"
                  "请在 Excel 中打开后另存为 xlsx，或重新导出",
            "en": "the archive holds {count} parts (limit {limit}), which no normal workbook does; refused. "
                  "Open it in Excel and save it as xlsx, or export it again",
        },
        "too_large": {
            "zh": "工作簿解压后共 {size}（上限 {limit}），无法安全读取。请把数据拆成几个文件，或导出为 CSV",
            "en": "the workbook inflates to {size} (limit {limit}), too large to read safely; split the data into "
                  "several files or export it as CSV",
        },
        "zip_bomb": {
            "zh": "部件 {member} 从 {packed} 解压为 {size}（压缩比 {ratio}:1，上限 {limit}:1），疑似压缩炸弹，"
                  "已拒绝读取。请在 Excel 中打开后另存为 xlsx，或重新导出",
            "en": "part {member} inflates from {packed} to {size} (ratio {ratio}:1, limit {limit}:1), which looks "
                  "like a zip bomb; refused. Open it in Excel and save it as xlsx, or export it again",
        },
        "xml_entity": {
            "zh": "不是有效的 xlsx：部件 {member} 含 XML 实体声明（{mark}），"
                  "可能是 XML 实体攻击（实体膨胀或外部实体），已拒绝读取。请在 Excel 中打开后另存为 xlsx，或重新导出",
            "en": "not a valid xlsx: part {member} holds an XML entity declaration ({mark}), the form of XML "
                  "entity-expansion and external-entity attacks; refused. Open it in Excel and save it as xlsx, "
                  "or export it again",
        },
        "beyond_limits": {
            "zh": "引用了超出 Excel 上限的单元格 {ref}（最多 1,048,576 行、16,384 列即 XFD 列），"
                  "文件已损坏或被篡改，已拒绝读取。请重新导出该文件",
            "en": "refers to cell {ref}, beyond Excel's limits (1,048,576 rows, 16,384 columns up to XFD); the "
                  "file is damaged or tampered with and was refused. Export it again",
        },
        "sparse_range": {
            "zh": "单元格范围 {first}:{last} 共 {area} 个单元格，但只有 {cells} 个单元格有内容；读取它需要巨大内存，"
                  "已拒绝（单元格炸弹）。请在 Excel 中删除数据以外的行和列（或把数据复制到新工作簿）后另存为 xlsx",
            "en": "the cells span {first}:{last} ({area} cells) but only {cells} cells exist; reading it would need "
                  "an enormous amount of memory, so it was refused (cell bomb). Delete the rows and columns "
                  "outside the data in Excel (or copy the data to a new workbook) and save it as xlsx",
        },
        "huge_text": {
            "zh": "部件 {member} 中有一段 {size} 的文本，远超 Excel 单元格的上限（32,767 个字符），"
                  "已拒绝读取。请重新导出该文件",
            "en": "part {member} holds a run of text of {size}, far beyond what an Excel cell can hold "
                  "(32,767 characters); refused. Export the file again",
        },
    },
)


@dataclass
class ArchiveReport:
    """What the check saw (for tests and ``--verbose`` timing)."""

    members: int = 0
    total_bytes: int = 0
    scanned_bytes: int = 0
    max_rows: dict[str, int] = field(default_factory=dict)
    # Worksheet part of each sheet holding formulas or error cells (calamine reads both as blank).
    formula_parts: dict[str, str] = field(default_factory=dict)


def check_archive(path: str | Path) -> ArchiveReport:
    """Refuse a zip-based workbook that is a bomb or carries XML entities; see the module docstring."""
    path = Path(path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise InputError(TEXT("bad_zip", detail=error), where=Location(path)) from error
    with archive:
        infos = archive.infolist()
        report = ArchiveReport(members=len(infos), total_bytes=sum(i.file_size for i in infos))
        if len(infos) > MAX_MEMBERS:
            raise InputError(TEXT("too_many_members", count=len(infos), limit=MAX_MEMBERS), Location(path))
        if report.total_bytes > MAX_TOTAL_BYTES:
            raise InputError(TEXT("too_large", size=_size(report.total_bytes), limit=_size(MAX_TOTAL_BYTES)),
                             Location(path))
        for info in infos:
            if info.file_size > RATIO_MIN_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                ratio = info.file_size // max(info.compress_size, 1)
                raise InputError(TEXT("zip_bomb", member=info.filename, packed=_size(info.compress_size),
                                      size=_size(info.file_size), ratio=ratio, limit=MAX_RATIO), Location(path))
        sheets = _sheet_names(archive)
        for info in infos:
            if info.is_dir() or not info.filename.lower().endswith(_XML_SUFFIXES):
                continue
            sheet = sheets.get(info.filename)
            scan = _scan_member(archive, info, path, sheet, cells=info.filename.startswith("xl/worksheets/"))
            report.scanned_bytes += info.file_size
            if scan is not None:
                report.max_rows[sheet or info.filename] = scan[0]
                if scan[1]:
                    report.formula_parts[sheet or info.filename] = info.filename
    return report


class _Scan:
    """Running state of one member's scan."""

    def __init__(self) -> None:
        self.max_row = self.max_col = 0
        self.min_row = self.min_col = 1 << 40
        self.cells = 0
        self.last_lt = 0  # offset of the last '<' seen
        self.longest = 0  # longest run of bytes between two '<'
        self.bad_ref: bytes | None = None
        self.formulas = False  # a formula or an error cell seen


def _scan_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, sheet: str | None,
                 *, cells: bool) -> tuple[int, bool] | None:
    """Stream one XML part; returns a worksheet's largest row and whether it holds formulas or error cells.

    None for other parts.
    """
    where = Location(path, sheet)
    state = _Scan()
    try:
        with open_for_reading(archive, info) as handle:
            size = _stream_member(handle, state, info, path, where, cells=cells)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
        raise InputError(TEXT("bad_zip", detail=f"{info.filename}: {error}"), Location(path)) from error
    state.longest = max(state.longest, size - state.last_lt)  # the run after the last '<'
    _refuse_huge_text(state, info, path)
    if not cells:
        return None
    _check_dimension(archive, info, where)
    _check_used_range(state, where)
    return state.max_row, state.formulas


def _stream_member(handle: IO[bytes], state: _Scan, info: zipfile.ZipInfo, path: Path, where: Location,
                   *, cells: bool) -> int:
    """Read the part chunk by chunk into ``state``, refusing it at the first chunk that shows a problem.

    Returns the part's size. Each chunk is looked at together with the tail of the one before
    (``carry``), so a mark or a reference split between two chunks is still seen.
    """
    carry = b""
    offset = 0  # offset in the member of the first byte of the current chunk
    while True:
        chunk = handle.read(_CHUNK)
        final = not chunk
        buffer = carry + chunk
        _refuse_entities(buffer, info, path)
        if chunk:
            _track_text_runs(state, chunk, offset)
        if cells:
            state.formulas = state.formulas or _holds_formula(buffer)
            carry = buffer[_scan_refs(state, buffer, final):]
        else:
            carry = buffer[-16:]
        offset += len(chunk)
        _refuse_huge_text(state, info, path)
        if cells and state.bad_ref is not None:
            raise InputError(TEXT("beyond_limits", ref=_show_ref(state.bad_ref)), where)
        if final:
            return offset


def _holds_formula(buffer: bytes) -> bool:
    """Whether ``buffer`` holds a formula element or an error cell (python-calamine reads both as blank).

    Two searches of the buffer (``<f``, then ``t="e"``) instead of one per form.

    >>> _holds_formula(b'<c r="A1"><f>1+1</f>'), _holds_formula(b'<filterColumn/><c t="e">'), _holds_formula(b"<c/>")
    (True, True, False)
    """
    at = buffer.find(b"<f")
    while at >= 0:
        if buffer[at + 2 : at + 3] in _FORMULA_ENDS:
            return True
        at = buffer.find(b"<f", at + 2)
    return _ERROR_CELL in buffer


def _refuse_entities(buffer: bytes, info: zipfile.ZipInfo, path: Path) -> None:
    """An XML entity declaration (the form of entity expansion and external entity attacks) refuses the file."""
    mark = _declaration(buffer)
    if mark is not None:
        raise InputError(TEXT("xml_entity", member=info.filename, mark=mark.decode()), Location(path))


def _declaration(buffer: bytes) -> bytes | None:
    """The first of :data:`_ENTITY_MARKS` in ``buffer``, or None.

    Sheet XML is full of ``<`` but rarely holds a ``!``, which ``find`` (memchr) skips to
    at memory speed: each one is looked at, up to :data:`_BANGS`; a buffer with more
    (text full of exclamation marks) is searched for each mark in full.

    >>> _declaration(b'<c><v>1!</v></c><!DOCTYPE x>'), _declaration(b'<t>wow!!</t><!-- ok -->')
    (b'<!DOCTYPE', None)
    """
    at = buffer.find(b"!")
    for _ in range(_BANGS):
        if at < 0:
            return None
        if at and buffer[at - 1] == 60:  # "<!"
            for mark in _ENTITY_MARKS:
                if buffer.startswith(mark, at - 1):
                    return mark
        at = buffer.find(b"!", at + 1)
    return next((mark for mark in _ENTITY_MARKS if mark in buffer), None)


def _refuse_huge_text(state: _Scan, info: zipfile.ZipInfo, path: Path) -> None:
    """A run of text far longer than a cell can hold refuses the file."""
    if state.longest > MAX_TEXT_BYTES:
        raise InputError(TEXT("huge_text", member=info.filename, size=_size(state.longest)), Location(path))


def _check_used_range(state: _Scan, where: Location) -> None:
    """Refuse a sheet whose cells span a range far larger than they fill (a few cells at A1 and XFD1048576)."""
    if not state.cells:
        return
    area = (state.max_row - state.min_row + 1) * (state.max_col - state.min_col + 1)
    if area > MAX_RANGE_CELLS or (area > SPARSE_FLOOR and area > SPARSE_RATIO * state.cells):
        first = _ref_text(state.min_col, state.min_row)
        last = _ref_text(state.max_col, state.max_row)
        raise InputError(TEXT("sparse_range", first=first, last=last, area=f"{area:,}",
                              cells=f"{state.cells:,}"), where)


def _track_text_runs(state: _Scan, chunk: bytes, offset: int) -> None:
    """Longest stretch without ``<`` (text inside an element never holds one unescaped).

    A run longer than ``MAX_TEXT_BYTES`` must cover a whole aligned block of half that
    size, so ``find`` (memchr) on each block rules it out; only a chunk with a block free
    of ``<`` gets the exact count.
    """
    first = chunk.find(b"<")
    if first < 0:
        state.longest = max(state.longest, offset + len(chunk) - state.last_lt)
        return
    state.longest = max(state.longest, offset + first - state.last_lt)
    last = chunk.rfind(b"<")
    block = MAX_TEXT_BYTES // 2
    if any(chunk.find(b"<", i, i + block) < 0 for i in range(first, last, block)):
        positions = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 60)
        state.longest = max(state.longest, int(np.diff(positions).max(initial=0)))
    state.last_lt = offset + last


def _scan_refs(state: _Scan, buffer: bytes, final: bool) -> int:
    """Find every ``r="…"`` attribute value in ``buffer``; returns how many bytes were dealt with.

    References whose value could run past the buffer are left for the next call (the
    caller carries ``buffer[processed:]`` over), unless this is the last buffer. Only
    1-D gathers and lookups over the references found (a 1M-row sheet has ~20M), and the
    reference values are computed only for the longest and shortest ones, since only the
    extremes matter.
    """
    span = 32  # room for the quote, 5 letters, 9 digits and the closing quote past any start
    data = np.frombuffer(buffer + (b"\0" * span if final else b""), dtype=np.uint8)
    limit = len(buffer) if final else max(len(buffer) - span, 0)
    if limit <= 0:
        return 0
    equals = np.flatnonzero(data[2 : limit + 2] == 61)  # '=' first: ~3 per cell, then filter those
    quote = data[equals + 3]
    found = equals[(data[equals + 1] == 114) & _SPACE[data[equals]] & ((quote == 34) | (quote == 39))] + 4
    if not len(found):
        return limit
    letters = np.zeros(len(found), dtype=np.int8)
    going = np.ones(len(found), dtype=bool)
    for k in range(5):
        going &= _LETTER[data[found + k]]
        letters += going
    digits = np.zeros(len(found), dtype=np.int8)
    going = np.ones(len(found), dtype=bool)
    start = found + letters
    for k in range(9):
        going &= _DIGIT[data[start + k]]
        digits += going
    closing = data[found + letters + digits]
    bad = (letters > 3) | (digits == 0) | (digits > 7) | ((closing != 34) & (closing != 39))
    if bad.any():
        state.bad_ref = _ref_bytes(data, int(found[np.flatnonzero(bad)[0]]))
        return limit
    cells = letters > 0
    max_row, where = _extreme_row(data, found, letters, digits, max)
    if max_row > EXCEL_MAX_ROWS:
        state.bad_ref = _ref_bytes(data, where)
    state.max_row = max(state.max_row, max_row)
    if cells.any():
        at, letters, digits = found[cells], letters[cells], digits[cells]
        state.cells += len(at)
        state.min_row = min(state.min_row, _extreme_row(data, at, letters, digits, min)[0])
        max_col, where = _extreme_col(data, at, letters, max)
        if max_col > EXCEL_MAX_COLS:
            state.bad_ref = _ref_bytes(data, where)
        state.max_col = max(state.max_col, max_col)
        state.min_col = min(state.min_col, _extreme_col(data, at, letters, min)[0])
    return limit


def _extreme_row(data: np.ndarray, at: np.ndarray, letters: np.ndarray, digits: np.ndarray,
                 pick) -> tuple[int, int]:
    """The largest (``pick=max``) or smallest row number.

    Only references with the most (fewest) digits can hold it; among those, keep the
    ones with the extreme digit at each place in turn, which leaves a handful at once.
    """
    count = int(digits.max() if pick is max else digits.min())
    origin = at[digits == count]
    start = origin + letters[digits == count]
    value = 0
    for k in range(count):
        digit = data[start + k]
        best = digit.max() if pick is max else digit.min()
        keep = digit == best
        start, origin = start[keep], origin[keep]
        value = value * 10 + int(best) - 48
    return value, int(origin[0])


def _extreme_col(data: np.ndarray, at: np.ndarray, letters: np.ndarray, pick) -> tuple[int, int]:
    count = int(letters.max() if pick is max else letters.min())
    origin = start = at[letters == count]
    value = 0
    for k in range(count):
        letter = data[start + k] & 0xDF  # lower to upper case
        best = letter.max() if pick is max else letter.min()
        start = start[letter == best]
        value = value * 26 + int(best) - 64
    return value, int(start[0]) if len(start) else int(origin[0])


def _ref_bytes(data: np.ndarray, at: int) -> bytes:
    raw = bytes(data[at : at + _WINDOW])
    return raw.split(b'"')[0].split(b"'")[0]


_DIMENSION = re.compile(rb"<dimension\s+ref=[\"']([A-Za-z]{0,4})(\d{0,8})(?::([A-Za-z]{0,4})(\d{0,8}))?[\"']")


def _check_dimension(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: Location) -> None:
    """``<dimension ref>`` (near the top of the sheet) must lie within Excel's limits."""
    with archive.open(info) as handle:
        head = handle.read(4096)
    match = _DIMENSION.search(head)
    if not match:
        return
    for letters, digits in ((match[1], match[2]), (match[3], match[4])):
        if letters is None:
            continue
        col = _col_number(letters.decode().upper())
        row = int(digits) if digits else 1
        if col > EXCEL_MAX_COLS or row > EXCEL_MAX_ROWS:
            raise InputError(TEXT("beyond_limits", ref=(letters + digits).decode()), where)


def _col_number(letters: str) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ord(ch) - 64
    return number


def _ref_text(col: int, row: int) -> str:
    letters = ""
    while col > 0:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row}"


def _show_ref(raw: bytes) -> str:
    text = raw.decode("ascii", "replace").strip("\0")
    return text if len(text) < _WINDOW else text + "…"


def _size(count: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} B"


def _sheet_names(archive: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet part name -> sheet name, from workbook.xml and its rels (best effort)."""
    import defusedxml.ElementTree as ElementTree

    try:
        book = archive.read("xl/workbook.xml")
        rels = archive.read("xl/_rels/workbook.xml.rels")
    except (KeyError, zipfile.BadZipFile, zlib.error, OSError):
        return {}
    if any(mark in book or mark in rels for mark in _ENTITY_MARKS):
        return {}  # the scan refuses it with the right message
    try:
        targets = {
            rel.get("Id"): rel.get("Target", "")
            for rel in ElementTree.fromstring(rels)
            if rel.tag.endswith("Relationship")
        }
        names: dict[str, str] = {}
        for sheet in ElementTree.fromstring(book).iter():
            if not sheet.tag.endswith("}sheet"):
                continue
            rid = next((v for k, v in sheet.attrib.items() if k.endswith("}id")), None)
            target = targets.get(rid)
            if target:
                part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
                names[part] = sheet.get("name", "")
        return names
    except Exception:  # noqa: BLE001 - names are only for messages; the scan still runs
        return {}
