"""Make the export's text safe to write to xlsx without losing anything silently.

Three things in user text break or silently change a workbook:

* C0 control characters (``\\x00``-``\\x08``, ``\\x0b``, ``\\x0c``, ``\\x0e``-``\\x1f``): openpyxl
  raises ``IllegalCharacterError``; xlsxwriter writes ``_x0008_``, which other readers
  return next month as the literal text ``a_x0008_b``. They are removed (tab, line feed
  and carriage return are ordinary text and stay).
* Lone surrogates (from a broken UTF-16 source): xlsxwriter raises ``UnicodeEncodeError``
  and openpyxl saves a file it cannot open again. They become U+FFFD.
* Cells over 32,767 characters, Excel's limit: xlsxwriter truncates them and only
  returns ``-2``. They are cut at 32,767 characters here, with a warning, and the full
  text is returned so the caller can keep it (the history database stores it).

Columns are checked as a whole first (their text joined once and searched with one
regular expression, their longest cell measured once), so a million-row column with
nothing to clean costs a few tens of milliseconds; only columns that hold such
characters are cleaned cell by cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["EXCEL_MAX_CHARS", "Cleaned", "clean_frame", "sheet_name", "has_bad_characters"]

EXCEL_MAX_CHARS = 32_767
SHEET_NAME_MAX = 31
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f]")


@dataclass
class Cleaned:
    """What :func:`clean_frame` changed: per column, the rows (frame index labels) touched."""

    characters: dict[str, list[object]] = field(default_factory=dict)
    truncated: dict[str, list[tuple[object, int]]] = field(default_factory=dict)  # (row, original length)
    full_text: list[tuple[object, str, str]] = field(default_factory=list)  # (row, column, full text)

    def __bool__(self) -> bool:
        return bool(self.characters or self.truncated)


def has_bad_characters(text: str) -> bool:
    """Whether ``text`` holds a control character or a lone surrogate.

    >>> has_bad_characters("a\\x08b"), has_bad_characters("第一行\\n第二行\\t")
    (True, False)
    """
    return _BAD.search(text) is not None


def clean_text(text: str) -> str:
    """``text`` without C0 controls (tab/LF/CR kept) and with lone surrogates as U+FFFD.

    >>> clean_text("a\\x08b\\ud800c\\td")
    'ab\\ufffdc\\td'
    """
    return _SURROGATE.sub("\ufffd", _CONTROL.sub("", text))


# Columns pandas infers as holding no text at all (nulls aside): nothing to clean in them.
_NO_TEXT = frozenset({"empty", "floating", "integer", "mixed-integer-float", "decimal", "complex", "boolean",
                      "datetime64", "datetime", "date", "timedelta64", "timedelta", "time", "period", "interval"})


def clean_frame(frame: pd.DataFrame) -> Cleaned:
    """Clean every text cell of ``frame`` in place; returns what changed, by column and row."""
    report = Cleaned()
    for column in frame.columns:
        series = frame[column]
        if series.dtype != object:
            continue
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        if inferred in _NO_TEXT:
            continue
        values = series.to_numpy()
        texts = series.dropna().tolist() if inferred == "string" else [v for v in values if type(v) is str]
        if not texts:
            continue
        joined = "\n".join(texts)
        dirty = _BAD.search(joined) is not None
        long = len(joined) > EXCEL_MAX_CHARS and max(map(len, texts)) > EXCEL_MAX_CHARS
        if not (dirty or long):
            continue
        values = values.copy()
        if dirty:
            positions = _positions(values, lambda v: _BAD.search(v) is not None)
            for i in positions:
                values[i] = clean_text(values[i])
            report.characters[str(column)] = [series.index[i] for i in positions]
        if long:
            positions = _positions(values, lambda v: len(v) > EXCEL_MAX_CHARS)
            rows = []
            for i in positions:
                row = series.index[i]
                rows.append((row, len(values[i])))
                report.full_text.append((row, str(column), values[i]))
                values[i] = values[i][:EXCEL_MAX_CHARS]
            report.truncated[str(column)] = rows
        frame[column] = pd.Series(values, index=series.index, dtype=object)
    return report


def _positions(values: np.ndarray, test) -> list[int]:
    return [i for i, v in enumerate(values) if type(v) is str and test(v)]


def sheet_name(text: str, taken: set[str] | None = None) -> str:
    """A valid, unique Excel sheet name made from ``text`` (e.g. a group label or a month).

    Excel refuses ``[ ] : * ? / \\``, more than 31 characters, a leading or trailing
    apostrophe, an empty name and a name already used ignoring case. ``taken`` (lower
    case names) is updated with the result.

    >>> taken = set()
    >>> sheet_name("2024/07", taken), sheet_name("2024:07", taken), sheet_name("", taken)
    ('2024-07', '2024-07 (2)', 'Sheet')
    >>> len(sheet_name("很长的名字" * 10))
    31
    """
    name = _SHEET_FORBIDDEN.sub("-", clean_text(str(text))).strip().strip("'").strip() or "Sheet"
    name = name[:SHEET_NAME_MAX]
    taken = taken if taken is not None else set()
    candidate, number = name, 1
    while candidate.casefold() in taken:
        number += 1
        suffix = f" ({number})"
        candidate = name[: SHEET_NAME_MAX - len(suffix)] + suffix
    taken.add(candidate.casefold())
    return candidate
