"""Turning raw cells into typed columns: user IDs, dates, counts and yes/no flags.

Readers hand over cells as they were stored (text, numbers, dates, ``None``).
Each parser here is vectorised over a whole column and returns the parsed column
together with a boolean mask of the cells it could not accept, so the caller can
name their rows and columns. Nothing is guessed: a form that could mean two dates
(``1/7/2024``) is refused rather than read one way, unless the user says the order
(``--date-order mdy`` / ``[columns] date_order``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import unicodedata

import numpy as np
import pandas as pd

EXCEL_EPOCH = pd.Timestamp("1899-12-30")
# Serials outside this window are not plausible dates of a user's life in an app
# (1982-01-01 .. 2119-06-04); a plain number there is more likely a count or an ID.
SERIAL_MIN, SERIAL_MAX = 29952, 80000
_ID_NOISE = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff\u00a0\u3000]+")
_DATE = re.compile(
    r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:[ T]+(?P<H>\d{1,2})[:：](?P<M>\d{2})(?:[:：](?P<S>\d{2})(?:\.\d+)?)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?$"
)
# Exact layouts tried first, vectorised; anything else goes through _DATE cell by cell.
FAST_LAYOUTS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d")
_COMPACT_DATE = re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$")
_SERIAL_TEXT = re.compile(r"^\d{5}(?:\.\d+)?$")
_COUNT_TEXT = re.compile(r"^(?P<n>[+-]?\d+(?:\.\d+)?)\s*(?:次|个|回)?$")
TRUE_WORDS = {"是", "有", "开车", "y", "yes", "true", "t", "1", "1.0", "√", "✓"}
FALSE_WORDS = {"否", "无", "没有", "未开车", "不开车", "n", "no", "false", "f", "0", "0.0", "×", "✗"}
EMPTY_WORDS = {"", "-", "--", "—", "n/a", "null", "none", "nan", "#n/a"}


def _is_blank(series: pd.Series, kinds: pd.Series, missing: pd.Series) -> pd.Series:
    """Missing cells and text of only blanks (the text cells are looked at only when there are some)."""
    if not (kinds == "text").any():
        return missing
    return missing | series.map(lambda v: isinstance(v, str) and not v.strip())


def normalize_id(value: object) -> str:
    """The form IDs are matched in: NFKC (full-width digits), no invisible or blank characters.

    >>> normalize_id("１００１\\u200b ")
    '1001'
    """
    text = str(value)
    if text.isascii() and text.isalnum():  # the usual ID: nothing to normalise
        return text
    text = unicodedata.normalize("NFKC", text)
    text = _ID_NOISE.sub("", text)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def parse_ids(series: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """User IDs as exact text.

    Returns ``(ids, blank, lossy)``: ``lossy`` marks IDs stored as numbers with 16 or
    more digits, whose digits after the 15th were already lost in Excel.
    Integral numbers below that are turned into their digits (``1001.0`` -> ``"1001"``).
    """
    values = series.to_numpy(dtype=object)
    out = np.empty(len(values), dtype=object)
    lossy = np.zeros(len(values), dtype=bool)
    for i, v in enumerate(values):
        if isinstance(v, str):
            out[i] = normalize_id(v)
        elif v is None or (isinstance(v, float) and np.isnan(v)):
            out[i] = ""
        elif isinstance(v, (int, np.integer)) and not isinstance(v, bool):
            out[i] = str(int(v))
            lossy[i] = abs(int(v)) >= 10**15
        elif isinstance(v, (float, np.floating)) and float(v).is_integer():
            out[i] = str(int(v))
            lossy[i] = abs(float(v)) >= 10**15
        else:
            out[i] = normalize_id(v)
    ids = pd.Series(out, index=series.index, dtype=object)
    return ids, pd.Series(ids == "", index=series.index), pd.Series(lossy, index=series.index)


def _from_parts(parts: pd.DataFrame, tz: str) -> pd.Series:
    """Assemble timestamps from extracted y/m/d/H/M/S text; invalid dates become NaT."""
    numbers = {
        "year": pd.to_numeric(parts["y"]), "month": pd.to_numeric(parts["m"]), "day": pd.to_numeric(parts["d"]),
        "hour": pd.to_numeric(parts["H"]).fillna(0), "minute": pd.to_numeric(parts["M"]).fillna(0),
        "second": pd.to_numeric(parts["S"]).fillna(0) if "S" in parts else 0,
    }
    stamps = pd.to_datetime(pd.DataFrame(numbers), errors="coerce")
    if "tz" in parts and parts["tz"].notna().any():
        with_tz = parts["tz"].notna()
        offsets = parts.loc[with_tz, "tz"].str.replace("Z", "+00:00").str.replace(
            r"^([+-]\d{2})(\d{2})$", r"\1:\2", regex=True)
        minutes = offsets.map(lambda o: (1 if o[0] == "+" else -1) * (int(o[1:3]) * 60 + int(o[4:6])))
        utc = stamps[with_tz] - pd.to_timedelta(minutes, unit="m")
        local = utc.dt.tz_localize("UTC").dt.tz_convert(tz).dt.tz_localize(None)
        stamps = stamps.astype("datetime64[ns]")
        stamps.loc[with_tz] = local.astype("datetime64[ns]")
    return stamps


# Day-and-month-first dates (09/13/2024 13:52, 13.09.2024, 9/13/2024 1:52 PM): read only in an order the user names.
DATE_ORDERS: tuple[str, ...] = ("mdy", "dmy", "ymd")
_DAY_MONTH = re.compile(
    r"^(?P<a>\d{1,2})\s*[-/.]\s*(?P<b>\d{1,2})\s*[-/.]\s*(?P<y>\d{4})"
    r"(?:[ T]+(?P<H>\d{1,2})[:：](?P<M>\d{2})(?:[:：](?P<S>\d{2})(?:\.\d+)?)?\s*(?P<p>[AaPp]\.?[Mm]\.?)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?$"
)
_AMBIGUOUS = re.compile(r"^\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{4})(?:\s.*)?$")
_TZ_SUFFIX = re.compile(r"\d\s*(?:Z|[+-]\d{2}:?\d{2})\s*$", re.M)
# Dates before this are not plausible for a user of an app; Excel day 0-60 (1900-01-00 .. the
# fictitious 1900-02-29) is what a date format on a small number shows.
PLAUSIBLE_FROM = pd.Timestamp("1982-01-01")


def ambiguous_date(value: object) -> tuple[str, str] | None:
    """The two readings of a day/month-order-ambiguous date such as ``1/7/2024``, else None.

    >>> ambiguous_date("1/7/2024")
    ('2024-01-07', '2024-07-01')
    >>> ambiguous_date("13/7/2024") is None, ambiguous_date("2024/7/1") is None
    (True, True)
    """
    if not isinstance(value, str):
        return None
    match = _AMBIGUOUS.match(unicodedata.normalize("NFKC", value))
    if not match:
        return None
    first, second, year = int(match[1]), int(match[2]), int(match[3])
    readings = []
    for month, day in ((first, second), (second, first)):
        with contextlib.suppress(ValueError):  # no such day in that reading
            readings.append(dt.date(year, month, day).isoformat())
    return (readings[0], readings[1]) if len(readings) == 2 and readings[0] != readings[1] else None


def _day_month_parts(values: pd.Series) -> pd.DataFrame:
    """``a``/``b``/``y`` (and the time) of each day-and-month-first text; rows that are not one hold NaN."""
    texts = values.map(lambda v: unicodedata.normalize("NFKC", v).strip() if type(v) is str else "")
    return texts.str.extract(_DAY_MONTH)


def proven_date_order(series: pd.Series) -> tuple[str, int] | None:
    """The order a column's day-and-month-first dates must be in, and the first cell that allows only it.

    ``09/13/2024`` has no 13th month, so the column is month-day-year (``mdy``); ``13/09/2024`` proves
    ``dmy``. None when no cell decides it, or when cells contradict each other (no order reads them all).

    >>> proven_date_order(pd.Series(["01/07/2024", "09/13/2024 13:52"])), proven_date_order(pd.Series(["1/7/2024"]))
    (('mdy', 1), None)
    >>> proven_date_order(pd.Series(["13/9/2024", "9/13/2024"])) is None
    True
    """
    parts = _day_month_parts(series.reset_index(drop=True)).dropna(subset=["y"])
    month_first, day_first = pd.to_numeric(parts["b"]) > 12, pd.to_numeric(parts["a"]) > 12
    if month_first.any() == day_first.any():
        return None
    proof = month_first if month_first.any() else day_first
    return ("mdy" if month_first.any() else "dmy"), int(proof[proof].index[0])


def has_day_month_dates(series: pd.Series) -> bool:
    """Whether any text cell is a day-and-month-first date, which needs a date order to be read.

    >>> has_day_month_dates(pd.Series(["2024-07-01", 45474])), has_day_month_dates(pd.Series(["7/1/2024"]))
    (False, True)
    """
    return first_day_month_date(series) is not None


def first_day_month_date(series: pd.Series) -> int | None:
    """Position of the first day-and-month-first date among ``series`` (None when there is none).

    >>> first_day_month_date(pd.Series(["2024-07-01", None, "7/1/2024"]))
    2
    """
    found = _day_month_parts(series.reset_index(drop=True))["y"].notna().to_numpy()
    return int(found.argmax()) if found.any() else None


def _ordered_dates(values: pd.Series, order: str, tz: str) -> pd.Series:
    """Day-and-month-first texts read in ``order`` (``mdy``/``dmy``); others, and impossible dates, NaT."""
    parts = _day_month_parts(values)
    found = parts["y"].notna()
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    if not found.any():
        return result
    parts = parts[found]
    month, day = (parts["a"], parts["b"]) if order == "mdy" else (parts["b"], parts["a"])
    hour = pd.to_numeric(parts["H"])
    pm = parts["p"].fillna("").str.upper().str.startswith("P")
    am = parts["p"].fillna("").str.upper().str.startswith("A")
    hour = hour.where(~(pm | am), hour % 12 + pm * 12).where(~(pm | am) | (hour <= 12), 99)  # 13:05 PM: no time
    frame = pd.DataFrame({"y": parts["y"], "m": month, "d": day, "H": hour, "M": parts["M"], "S": parts["S"],
                          "tz": parts["tz"]})
    result[found[found].index] = _from_parts(frame, tz)
    return result


def timezone_cells(series: pd.Series) -> pd.Series:
    """Text cells that end in a timezone (``Z``, ``+08:00``), which :func:`parse_dates` converts.

    >>> timezone_cells(pd.Series(["2024-07-31T16:30:00Z", "2024-07-01", 45474, "2024-07-01 08:00+0800"])).tolist()
    [True, False, False, True]
    """
    found = pd.Series(False, index=series.index)
    texts = [v for v in series.to_numpy() if type(v) is str]
    if not texts or not _TZ_SUFFIX.search("\n".join(texts)):  # one search over the column first
        return found
    for position, value in enumerate(series.to_numpy()):
        if type(value) is str and _TZ_SUFFIX.search(value):
            found.iloc[position] = True
    return found


def parse_dates(series: pd.Series, tz: str = "Asia/Shanghai",
                order: str | None = None) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Dates from real dates, Excel serials, ``2024-07-01``, ``2024/7/1``, ``2024年7月1日``, ``20240701``.

    Times are kept; timezone suffixes (``Z``, ``+08:00``) are converted to ``tz`` and
    dropped. Returns ``(dates, bad, blank)`` where ``bad`` marks cells that hold
    something that is not one of the accepted forms. ``order`` ``"mdy"`` or ``"dmy"``
    also reads ``09/13/2024`` / ``13/09/2024`` that way; without it they are bad.

    >>> d, bad, _ = parse_dates(pd.Series(["09/13/2024 13:52", "9/1/2024 1:05 PM", "13/09/2024"]), order="mdy")
    >>> [x.strftime("%Y-%m-%d %H:%M") if pd.notna(x) else None for x in d], bad.tolist()
    (['2024-09-13 13:52', '2024-09-01 13:05', None], [False, False, True])

    >>> d, bad, blank = parse_dates(pd.Series(["2024/7/1", "2024年7月2日 08:30", 45474, None, "1/7/2024"]))
    >>> [x.strftime("%Y-%m-%d %H:%M") if pd.notna(x) else None for x in d]
    ['2024-07-01 00:00', '2024-07-02 08:30', '2024-07-01 00:00', None, None]
    >>> bad.tolist(), blank.tolist()
    ([False, False, False, False, True], [False, False, False, True, False])
    """
    result = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    missing = series.isna()  # once: both the kinds and the blanks start from it
    kinds = kinds_of(series, missing)
    blank = _is_blank(series, kinds, missing)

    placeholder = placeholder_dates(series, kinds)
    if placeholder.any():  # "never" markers such as 9999-12-31: missing, named by the caller
        blank = blank | placeholder
        kinds = kinds.where(~placeholder, "other")
    real = kinds == "date"
    if real.any():
        result[real] = _real_dates(series[real])
    numeric = kinds == "number"
    if numeric.any():
        result[numeric] = _from_serial(series[numeric].astype(float))
    text = _read_fast_layouts(series, (kinds == "text") & ~blank, result)
    if text.any():
        _read_other_texts(series[text], tz, order, result)
    bad = result.isna() & ~blank
    return result, bad, blank


def _real_dates(values: pd.Series) -> pd.Series:
    """Cells that already are dates (datetime, date, Timestamp), as naive timestamps."""
    try:
        stamps = pd.to_datetime(values.to_numpy())
        if getattr(stamps, "tz", None) is not None:
            raise TypeError("timezone-aware")
    except (TypeError, ValueError):  # mixed or zoned values: one at a time
        stamps = pd.to_datetime(values.map(_as_datetime))
    return pd.Series(stamps, index=values.index).astype("datetime64[ns]")


def _read_fast_layouts(series: pd.Series, text: pd.Series, result: pd.Series) -> pd.Series:
    """Read the text cells ``text`` marks that have a common export layout into ``result``; returns the rest.

    Each layout is parsed in one vectorised pass over the cells still unread.
    """
    for layout in FAST_LAYOUTS:
        if not text.any():
            break
        fast = pd.to_datetime(series[text], format=layout, errors="coerce")
        hit = fast.notna()
        result[hit[hit].index] = fast[hit].astype("datetime64[ns]")
        text = text & ~hit.reindex(series.index, fill_value=False)
    return text


def _read_other_texts(texts: pd.Series, tz: str, order: str | None, result: pd.Series) -> None:
    """Read the text forms the fast layouts miss into ``result``; cells of no accepted form stay NaT.

    Those are ``2024年7月1日`` and other ``_DATE`` forms, ``20240701``, serials stored as text, and
    day-and-month-first dates when ``order`` is ``"mdy"`` or ``"dmy"``.
    """
    raw = texts.map(lambda s: unicodedata.normalize("NFKC", s).strip())
    parts = raw.str.extract(_DATE)
    matched = parts["y"].notna()
    if matched.any():
        result[matched[matched].index] = _from_parts(parts[matched], tz)
    rest = raw[~matched]
    compact = rest.str.extract(_COMPACT_DATE)
    is_compact = compact["y"].notna()
    if is_compact.any():
        result[is_compact[is_compact].index] = _from_parts(compact[is_compact].assign(H=None, M=None, S=None), tz)
    left = rest[~is_compact]
    serial_text = left[left.str.match(_SERIAL_TEXT)]
    if len(serial_text):
        result[serial_text.index] = _from_serial(serial_text.astype(float))
    if order in ("mdy", "dmy"):
        ordered = _ordered_dates(left, order, tz)
        hit = ordered.notna()
        result[hit[hit].index] = ordered[hit]


_YEAR_TEXT = re.compile(r"^\s*(\d{4})(?:\s*[-/.年]|\d{4}(?:\D|$))")


def _year(value: object, kind: str) -> int | None:
    if kind == "date":
        return int(value.year) if hasattr(value, "year") else None
    if kind == "text" and isinstance(value, str):
        match = _YEAR_TEXT.match(unicodedata.normalize("NFKC", value))
        return int(match[1]) if match else None
    return None


def placeholder_dates(series: pd.Series, kinds: pd.Series | None = None) -> pd.Series:
    """Dates outside what a timestamp can hold (``9999-12-31``, ``0001-01-01``): "never" placeholders.

    Exports write them for "no date"; they are read as missing rather than refused or crashing.

    >>> placeholder_dates(pd.Series(["9999-12-31", "2024-07-01", dt.datetime(1, 1, 1), "00010101", 45474])).tolist()
    [True, False, True, True, False]
    """
    kinds = kinds_of(series) if kinds is None else kinds
    found = pd.Series(False, index=series.index)
    dates = kinds == "date"
    if dates.any():
        date_years = np.array([getattr(v, "year", None) or _IN_RANGE[0] for v in series[dates].to_numpy()])
        found[dates] = (date_years < _IN_RANGE[0]) | (date_years > _IN_RANGE[1])
    texts = (kinds == "text").to_numpy()
    if texts.any():
        values = series.to_numpy()[texts]
        if any(v[:4].strip() and v.lstrip()[:2] not in ("19", "20") for v in values):  # rare: check each
            years = [_year(v, "text") for v in values]
            found[texts] = [y is not None and not _IN_RANGE[0] <= y <= _IN_RANGE[1] for y in years]
    return found


# The years a nanosecond timestamp holds in full (1677-09-21 .. 2262-04-11).
_IN_RANGE = (1678, 2261)


# What pandas infers for a column of one type (nulls aside), as the kind :func:`_kind` gives each cell.
_UNIFORM_KINDS = {"string": "text", "datetime": "date", "date": "date", "datetime64": "date",
                  "floating": "number", "integer": "number", "mixed-integer-float": "number"}


def kinds_of(series: pd.Series, missing: pd.Series | None = None) -> pd.Series:
    """:func:`_kind` of every cell; a column of one type (what the columnar reader gives) is told at once.

    >>> kinds_of(pd.Series(["a", None, "b"])).tolist(), kinds_of(pd.Series([1.0, "x", True])).tolist()
    (['text', 'other', 'text'], ['number', 'text', 'other'])
    """
    kind = _UNIFORM_KINDS.get(pd.api.types.infer_dtype(series, skipna=True))
    if kind is None:
        return series.map(_kind)
    kinds = pd.Series(kind, index=series.index, dtype=object)
    missing = series.isna() if missing is None else missing
    if missing.any():  # None, NaN, NaT: each as _kind says (NaT is a date to it)
        kinds[missing] = series[missing].map(_kind)
    return kinds


def _kind(value: object) -> str:
    if isinstance(value, (dt.datetime, dt.date, pd.Timestamp, np.datetime64)):
        return "date"
    if isinstance(value, bool):
        return "other"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return "other" if isinstance(value, float) and np.isnan(value) else "number"
    if isinstance(value, str):
        return "text"
    return "other"


def _as_datetime(value: object) -> pd.Timestamp:
    if isinstance(value, pd.Timestamp):
        stamp = value
    elif isinstance(value, dt.datetime):
        stamp = pd.Timestamp(value)
    elif isinstance(value, dt.date):
        stamp = pd.Timestamp(value.year, value.month, value.day)
    else:
        stamp = pd.Timestamp(value)
    return stamp.tz_localize(None) if stamp.tzinfo is not None else stamp


def _from_serial(serials: pd.Series) -> pd.Series:
    ok = serials.between(SERIAL_MIN, SERIAL_MAX)
    out = pd.Series(pd.NaT, index=serials.index, dtype="datetime64[ns]")
    out[ok] = EXCEL_EPOCH + pd.to_timedelta(serials[ok], unit="D")
    return out.dt.round("s")


# Columns pandas infers as holding no booleans (nulls aside): no cell of them can be True or False.
_NO_BOOLS = frozenset({"floating", "integer", "mixed-integer-float", "string", "empty", "decimal"})


def parse_counts(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Usage counts as floats: numbers, ``1,234``, ``12次``; blank/``-``/``--`` are missing (NaN).

    Returns ``(counts, bad)``; negative or unreadable cells are NaN and marked bad.

    >>> c, bad = parse_counts(pd.Series([3, "1,234", "12次", "--", "-5", "many"]))
    >>> c.tolist()[:3], bad.tolist()
    ([3.0, 1234.0, 12.0], [False, False, False, False, True, True])
    """
    # Plain numbers and digit strings parse in one vectorised pass; only the rest
    # (blanks, "1,234", "12次", "--", yes/no cells, junk) is looked at cell by cell.
    counts = pd.to_numeric(series, errors="coerce").astype(float)
    slow = ~np.isfinite(counts.to_numpy())
    if pd.api.types.infer_dtype(series, skipna=True) not in _NO_BOOLS:  # True would read as 1
        slow |= series.map(type).isin((bool, np.bool_)).to_numpy()
    empty = pd.Series(False, index=series.index)
    if slow.any():
        rest = series[slow]
        counts[slow] = pd.to_numeric(rest.map(_count_value), errors="coerce").astype(float)
        empty[slow] = rest.map(lambda v: v is None or (isinstance(v, float) and np.isnan(v))
                               or (isinstance(v, str) and v.strip().casefold() in EMPTY_WORDS)).astype(bool)
    bad = (counts.isna() & ~empty) | (counts < 0)
    counts[counts < 0] = np.nan
    return counts, bad


def _count_value(value: object) -> object:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return value
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip().replace(",", "")
        match = _COUNT_TEXT.match(text)
        return float(match["n"]) if match else None
    return None


def parse_flags(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Yes/no cells (是/否, Y/N, 1/0, true/false, 有/无) as a nullable boolean column.

    >>> f, bad = parse_flags(pd.Series(["是", "否", "Y", 0, None, "也许"]))
    >>> f.tolist(), bad.tolist()
    ([True, False, True, False, <NA>, <NA>], [False, False, False, False, False, True])
    """
    def one(value: object) -> object:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return None
        text = unicodedata.normalize("NFKC", str(value)).strip().casefold()
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
        return None if text in EMPTY_WORDS else "bad"

    # A flag column holds a handful of distinct values: each is read once.
    values = series.to_numpy(dtype=object)
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    read = np.array([*(one(v) for v in distinct), None], dtype=object)[codes]  # code -1 picks the None
    for i in np.flatnonzero(codes < 0).tolist():  # factorize's missing (None, NaN, NaT, NA): each as one() reads it
        read[i] = one(values[i])
    raw = pd.Series(read, index=series.index, dtype=object)
    bad = raw.map(lambda v: v == "bad")
    flags = raw.where(~bad, None).astype("boolean")
    return flags, bad


def month_number(dates: pd.Series) -> pd.Series:
    """Months since year 0 (``year * 12 + month - 1``), so calendar months subtract.

    >>> month_number(pd.Series(pd.to_datetime(["2024-01-31", "2024-02-01"]))).tolist()
    [24288, 24289]
    """
    return (dates.dt.year * 12 + dates.dt.month - 1).astype("Int64")


def month_key(number: int) -> str:
    """``'YYYY-MM'`` of a month number.

    >>> month_key(24294)
    '2024-07'
    """
    year, month0 = divmod(int(number), 12)
    return f"{year:04d}-{month0 + 1:02d}"


def parse_month(text: str) -> int:
    """Month number of ``'2024-07'``, ``'2024/7'``, ``'202407'`` or ``'2024年7月'``; ValueError otherwise.

    >>> parse_month("2024年7月") == parse_month("2024-07") == parse_month("202407")
    True
    """
    match = re.fullmatch(r"\s*(\d{4})\s*(?:[-/.年_]\s*)?(\d{1,2})\s*月?\s*", unicodedata.normalize("NFKC", text))
    if not match or not 1 <= int(match[2]) <= 12 or not _IN_RANGE[0] <= int(match[1]) <= _IN_RANGE[1]:
        raise ValueError(f"not a month: {text!r} (use YYYY-MM, e.g. 2024-07)")
    return int(match[1]) * 12 + int(match[2]) - 1
