"""A few columns of a big sheet read straight from its XML, in one pass, as python-calamine reads them.

``tagger refresh`` needs three columns (ID, 人工标签, 备注) of a Users sheet of 32 on up
to a million rows. python-calamine parses every cell of the sheet and then makes a
Python object of each (2 GB at a million rows), and knowing which cells hold a typed
formula takes a second pass over the XML. :func:`scan_columns` streams the sheet's XML
once, picks out just the cells of the wanted columns with one regular expression and
reads each of them, its formula included, from its own few bytes.

Only the cell forms whose value is certain are read here: text (inline, shared or a
formula's cached string), a number under a format that is not a date, a boolean, an
empty cell, a formula with its text. Anything else in a wanted column (a date, an
error, rich text, an ``_x000D_`` escape, an entity XML does not define, cells without
their reference first) makes :func:`scan_columns` return None, and the caller reads the
sheet with python-calamine as before: the result is the same either way, only the time
differs.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import unescape

import numpy as np

from tagger.columns import column_letter
from tagger.deflate import open_for_reading
from tagger.workbook.rowxml import sheet_paths

CHUNK = 1 << 24  # bytes of sheet XML scanned at a time; a chunk is cut after its last whole row
Row = tuple[int, list[Any]]  # (1-based Excel row, one value per wanted column)

# Number formats python-calamine never reads as a date: General, 0, 0.00, #,##0, #,##0.00, percentages,
# scientific, fractions and text (@). Any other format, or one a workbook redefines, is left to calamine.
_PLAIN_FORMATS = frozenset({0, 1, 2, 3, 4, 9, 10, 11, 12, 13, 48, 49})
# A workbook's own format with no date or time in it (LibreOffice saves General as format 164).
_CUSTOM_FORMAT = re.compile(rb'<numFmt\b(?=[^>]*\bnumFmtId="(\d+)")(?=[^>]*\bformatCode="([^"]*)")[^>]*>')
_PLAIN_CODE = re.compile(rb"(?i:general)|@|[0#,.%]+")
_NUMBER = re.compile(rb"-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_ATTRIBUTE = re.compile(rb'\s([A-Za-z:]+)="([^"]*)"')
_FORMULA = re.compile(rb"<f>([^<]*)</f>|<f [^>]*?>([^<]*)</f>")  # a formula with its text, as openpyxl sees it
_BARE_FORMULA = re.compile(rb"<f\b[^>]*/>")  # a shared formula's later cells: their cached value is read
_VALUE = re.compile(rb"<v>([^<]*)</v>|<v\s*/>")
# A <t> without xml:space="preserve" loses its leading and trailing XML whitespace, as python-calamine reads it.
_TEXT = rb'<t( xml:space="preserve")?>([^<]*)</t>|<t(?: xml:space="preserve")?\s*/>'
# Excel in East Asian locales adds phonetic runs and properties after the text; python-calamine skips them.
_PHONETIC = rb"(?:<rPh\b[^>]*>.*?</rPh>)*(?:<phoneticPr\b[^>]*/>)?"
_INLINE = re.compile(rb"<is>(?:" + _TEXT + rb")" + _PHONETIC + rb"</is>", re.S)
_SHARED_ITEM = re.compile(rb"<si>(.*?)</si>|<si\s*/>", re.S)
_SHARED_TEXT = re.compile(rb"(?:" + _TEXT + rb")" + _PHONETIC, re.S)
_XML_SPACE = " \t\n"
_ENTITY = re.compile(rb"&(?:lt|gt|amp|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);")


class Unsure(Exception):
    """A wanted cell in a form this module does not read: python-calamine reads the sheet instead."""


@dataclass
class _Shared:
    """A cell whose text is the shared string ``index``, looked up once every cell is found."""

    index: int


@dataclass
class _Scan:
    """What one pass over the sheet found: the wanted cells' values, row by row."""

    positions: dict[int, list[int]]  # sheet column → positions in the wanted columns
    first_row: int
    width: int
    rows: list[Row] = field(default_factory=list)  # in sheet order; None where a wanted cell is empty or absent
    last_cell: int = -1  # row * 16,384 + column of the last wanted cell read: each must come after it
    shared: bool = False  # some cell refers to a shared string
    numbers: set[int] = field(default_factory=set)  # style indexes of the number cells read
    started: bool = False  # <sheetData> found
    letters: dict[bytes, int] = field(init=False)  # column letters → sheet column
    pattern: re.Pattern[bytes] = field(init=False)

    def __post_init__(self) -> None:
        self.letters = {column_letter(c).encode(): c for c in self.positions}
        alternatives = b"|".join(re.escape(letters) for letters in sorted(self.letters))
        # Plain inline text (the writer's own form) is read by the pattern itself; any other cell by _cell.
        self.pattern = re.compile(rb'<c r="(' + alternatives + rb')(\d+)"(?:(?: s="\d+")? t="inlineStr">'
                                  rb"<is><t>([^<&_\r]*)</t></is></c>|([^>]*?)(/>|>(.*?)</c>))", re.S)


def scan_columns(path: Any, sheet: str, columns: Sequence[int | None], first_row: int) -> list[Row] | None:
    """Rows from ``first_row`` (1-based) down whose first wanted column holds a value; None when unsure.

    Each row is ``(excel_row, [value per column])`` with the values python-calamine's
    ``to_python`` gives (text, float, bool; None for an empty cell or a column given as
    None), except that a formula cell gives its formula text with a leading ``=``.
    """
    if not columns or columns[0] is None:
        return None
    try:
        with zipfile.ZipFile(path) as package:
            return _read(package, sheet, columns, first_row)
    except (Unsure, KeyError, zipfile.BadZipFile, zlib.error, EOFError, OSError, UnicodeDecodeError, ValueError):
        return None


def _read(package: zipfile.ZipFile, sheet: str, columns: Sequence[int | None], first_row: int) -> list[Row]:
    member = sheet_paths(package).get(sheet)
    if member is None:
        raise Unsure(sheet)
    positions: dict[int, list[int]] = {}
    for position, column in enumerate(columns):
        if column is not None:
            positions.setdefault(column, []).append(position)
    scan = _Scan(positions, first_row, len(columns))
    with open_for_reading(package, package.getinfo(member)) as stream:
        for piece, last in _whole_rows(stream):
            _scan_piece(scan, piece, last)
        if not scan.started:
            raise Unsure("no rows")
    parts = _parts(package)
    if scan.numbers and not scan.numbers <= _plain_styles(package, parts.get("styles")):
        raise Unsure("a number under a date format")
    strings = _shared_strings(package, parts.get("sharedStrings"), scan) if scan.shared else {}
    return _rows(scan, strings)


def _whole_rows(stream: Any) -> Iterator[tuple[bytes, bool]]:
    """The part's XML in pieces that each end after a ``</row>``, and whether it is the last piece."""
    carry = b""
    while chunk := stream.read(CHUNK):
        data = carry + chunk
        cut = data.rfind(b"</row>")
        if cut < 0:
            carry = data
            continue
        cut += len(b"</row>")
        yield data[:cut], False
        carry = data[cut:]
    yield carry, True


def _scan_piece(scan: _Scan, piece: bytes, last: bool) -> None:
    """Read the wanted cells of ``piece``; every cell must start with its reference for none to be missed.

    Cells come in sheet order, row by row and left to right, from every writer seen; each
    row's list is made once, when its first wanted cell is met, and a cell out of that order
    (or written twice) leaves the sheet to calamine.
    """
    start = 0
    if not scan.started and b"</row>" in piece:  # the first rows: <sheetData> opens before them
        start = piece.find(b"<sheetData")
        if start < 0:  # a namespace prefix on every element (<x:c>): not read here
            raise Unsure("no plain <sheetData>")
        scan.started = True
    end = piece.find(b"</sheetData>") if last else -1
    end = len(piece) if end < 0 else end
    if not _references_first(piece, start, end):
        raise Unsure("a cell without its reference first")
    rows, positions, letters, width, first_row = scan.rows, scan.positions, scan.letters, scan.width, scan.first_row
    previous = scan.last_cell
    for match in scan.pattern.finditer(piece, start, end):
        row = int(match[2])
        if row < first_row:
            continue
        plain = match[3]
        if plain is not None:
            value = plain.decode("utf-8").strip(_XML_SPACE) or None
        else:
            value = _cell(scan, match[4], match[6] or b"")
        column = letters[match[1]]
        cell = row * 16_384 + column
        if cell <= previous:
            raise Unsure("cells out of order or written twice")
        if cell // 16_384 != previous // 16_384:
            rows.append((row, [None] * width))
        previous = cell
        values = rows[-1][1]
        for position in positions[column]:
            values[position] = value
    scan.last_cell = previous


def _references_first(piece: bytes, start: int, end: int) -> bool:
    """Whether every ``<c`` of ``piece[start:end]`` opens as ``<c r="``, the only form the pattern sees.

    Within <sheetData> only cells open with "<c" (a "<" in text is escaped). numpy compares
    the bytes, so the other thread (the export's read) runs meanwhile.
    """
    data = np.frombuffer(piece, dtype=np.uint8, count=end - start, offset=start)
    opens = np.flatnonzero((data[:-1] == 60) & (data[1:] == 99))
    tail = np.frombuffer(piece[end:end + 4].ljust(4, b"\0"), dtype=np.uint8)
    data = np.concatenate([data, tail])
    return all(bool((data[opens + 2 + k] == byte).all()) for k, byte in enumerate(b' r="'))


def _cell(scan: _Scan, attributes: bytes, body: bytes) -> Any:
    """One cell's value from its attributes and content (see the module docstring for the forms read)."""
    formula = _FORMULA.match(body)
    if formula is not None:
        return "=" + unescape((formula[1] or formula[2] or b"").decode("utf-8"), {"&quot;": '"', "&apos;": "'"})
    found = dict(_ATTRIBUTE.findall(attributes))
    kind = found.get(b"t", b"n")
    bare = _BARE_FORMULA.match(body)
    rest = body[bare.end():] if bare else body
    if not rest:
        return None
    if kind == b"inlineStr":
        inline = _INLINE.fullmatch(rest)
        if inline is None:
            raise Unsure("rich inline text")
        return _text(inline[2] or b"", trim=not inline[1])
    value = _VALUE.fullmatch(rest)
    if value is None:
        raise Unsure("a cell's content")
    raw = value[1] or b""
    if kind == b"str":
        return _text(raw)
    if kind == b"s" and raw.isdigit():
        scan.shared = True
        return _Shared(int(raw))
    if kind == b"b" and raw in (b"0", b"1"):
        return raw == b"1"
    if kind == b"n" and _NUMBER.fullmatch(raw):
        scan.numbers.add(int(found.get(b"s", b"0") or b"0"))
        return float(raw)
    raise Unsure("a date, an error or another kind of cell")


def _text(raw: bytes, *, trim: bool = False) -> str | None:
    """Cell text as python-calamine gives it; None for empty (as ``to_python``'s ``""`` reads)."""
    if b"_x" in raw or b"\r" in raw:
        raise Unsure("an escaped character")
    if b"&" in raw:
        if raw.count(b"&") != len(_ENTITY.findall(raw)):
            raise Unsure("an entity XML does not define")
        text = _ENTITY.sub(_entity, raw).decode("utf-8")
    else:
        text = raw.decode("utf-8")
    return (text.strip(_XML_SPACE) if trim else text) or None


def _entity(match: re.Match[bytes]) -> bytes:
    name = match[0][1:-1]
    named = {b"lt": b"<", b"gt": b">", b"amp": b"&", b"quot": b'"', b"apos": b"'"}
    if name in named:
        return named[name]
    code = int(name[2:], 16) if name[1:2] in (b"x", b"X") else int(name[1:])
    return chr(code).encode("utf-8")


def _parts(package: zipfile.ZipFile) -> dict[str, str]:
    """The workbook's styles and shared-strings parts by kind, from its relationships."""
    rels = package.read("xl/_rels/workbook.xml.rels")
    found = {}
    for relationship in re.finditer(rb"<Relationship\b[^>]*>", rels):
        attributes = dict(_ATTRIBUTE.findall(relationship[0]))
        kind = attributes.get(b"Type", b"").rsplit(b"/", 1)[-1].decode()
        target = attributes.get(b"Target", b"").decode()
        if kind in ("styles", "sharedStrings") and target:
            found[kind] = target.lstrip("/") if target.startswith("/") else "xl/" + target
    return found


def _plain_styles(package: zipfile.ZipFile, part: str | None) -> set[int]:
    """Indexes of the cell styles whose number format python-calamine never reads as a date."""
    if part is None:
        return {0}  # no styles: every number is a plain number
    xml = package.read(part)
    custom = {int(fmt[1]): fmt[2] for fmt in _CUSTOM_FORMAT.finditer(xml)}
    plain_formats = {fmt for fmt in _PLAIN_FORMATS if fmt not in custom}
    plain_formats |= {fmt for fmt, code in custom.items() if _PLAIN_CODE.fullmatch(code)}
    cell_styles = re.search(rb"<cellXfs\b[^>]*>(.*?)</cellXfs>", xml, re.S)
    if cell_styles is None:
        return {0}
    plain = set()
    for index, style in enumerate(re.finditer(rb"<xf\b[^>]*>", cell_styles[1])):
        number_format = re.search(rb'\bnumFmtId="(\d+)"', style[0])
        fmt = int(number_format[1]) if number_format else 0
        if fmt in plain_formats:
            plain.add(index)
    return plain


def _shared_strings(package: zipfile.ZipFile, part: str | None, scan: _Scan) -> dict[int, str | None]:
    """The shared strings the wanted cells refer to; rich text among them is left to calamine."""
    if part is None:
        raise Unsure("no shared strings")
    wanted = {value.index for _, values in scan.rows for value in values if isinstance(value, _Shared)}
    found: dict[int, str | None] = {}
    for index, item in enumerate(_SHARED_ITEM.finditer(package.read(part))):
        if index in wanted:
            text = _SHARED_TEXT.fullmatch(item[1] or b"")
            if text is None:
                raise Unsure("rich shared text")
            found[index] = _text(text[2] or b"", trim=not text[1])
    if len(found) != len(wanted):
        raise Unsure("a shared string that does not exist")
    return found


def _rows(scan: _Scan, strings: dict[int, str | None]) -> list[Row]:
    """The rows whose first wanted column holds a value, in sheet order."""
    if scan.shared:
        for _, values in scan.rows:
            for position, value in enumerate(values):
                if isinstance(value, _Shared):
                    values[position] = strings[value.index]
    return [(row, values) for row, values in scan.rows if values[0] is not None]


__all__ = ["scan_columns", "CHUNK"]
