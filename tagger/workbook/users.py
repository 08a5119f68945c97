"""The Users sheet (用户明细): every input column, then the tags as live formulas.

xlsxwriter writes the header row, widths, filter, panes and validation; the data rows
are built a block at a time by :mod:`tagger.workbook.rowxml` and streamed into the file,
so a million-row export stays flat in memory. IDs and every text cell are inline strings
(user data is never a formula or a link); the parsed date and count columns are real
dates and numbers, because the formulas read them. Every computed column is a formula from
:mod:`tagger.formulas` carrying the value Python computed. Past Excel's 1,048,576 rows the
sheet continues on ``用户明细(2)`` with the same columns, so no row is ever dropped.

:class:`UsersPlan` is built before anything is written: the summary sheets need its
column letters and sheet names for their ``COUNTIF`` formulas.

:func:`read` is the other direction, for ``tagger refresh``: the IDs, 人工标签 and 备注
people typed, found by heading.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from tagger import formulas as fx
from tagger.columns import column_letter, normalize_header
from tagger.config import LAYER_KEYS
from tagger.errors import InputError, Location
from tagger.i18n import LANGUAGES, Catalog, get_language
from tagger.window import PREV_SUFFIX, usage_fields, window_usage
from tagger.preferences import share_base
from tagger.segments import GROUPS, SEGMENTS
from tagger.segments import label as segment_label
from tagger.values import month_number, parse_ids, parse_month
from tagger.vocabulary import word
from tagger.workbook.grid import join_plus, sheet_ref
from tagger.workbook.labels import HEADINGS, SHEETS
from tagger.workbook.readback import (Header, Prefixed, cell_text, find, find_heading, header_row, spellings,
                                      keyed_rows)
from tagger.workbook.rowxml import Coded, ColumnCells, Patched, SheetRows, Values, block_of, part_of
from tagger.workbook.sheet import Published, Tab
from tagger.workbook.styles import Styles

if TYPE_CHECKING:
    from tagger.pipeline import Progress, TagResult
    from tagger.workbook.sheet import SheetContext

EXCEL_MAX_ROWS = 1_048_576
EPOCH = np.datetime64("1899-12-30T00:00:00", "s")
DATE_FIELDS = ("register_date", "last_active_date", "prev_active_date")
WINDOW_SUFFIX = "_win"

TEXT = Catalog(
    "users_sheet",
    {
        "not_in_prev": {"zh": "不在上月数据", "en": "not in last month"},
        "override_title": word("manual_label"),
        "usage_prev": {"zh": "{header}(前两月)", "en": "{header} (2 months before)"},
        "usage_window": {"zh": "{header}(近三月)", "en": "{header} (3 months)"},
        "override_prompt": {"zh": "从列表中选择分群；留空表示采用自动分群",
                            "en": "Pick a group; leave empty to keep the computed one"},
        "override_error": {"zh": "请从下拉列表中选择有效的分群名称", "en": "Choose one of the listed group names"},
        "bad_label": {
            "zh": "人工标签 '{value}' 不是有效的分群；可用：{allowed}",
            "en": "manual label '{value}' is not a valid group; valid: {allowed}",
        },
    },
)


def excel_serials(dates: pd.Series) -> np.ndarray:
    """Dates as Excel serial numbers (NaN for missing: a blank cell), computed for the whole column at once."""
    values = dates.to_numpy(dtype="datetime64[s]")
    serials: np.ndarray = (values - EPOCH) / np.timedelta64(1, "D")
    return serials


@dataclass
class Column:
    """One column of the Users sheet: its values (constants, or the cached values of a formula).

    ``values`` stay arrays or coded columns (:mod:`tagger.workbook.rowxml`'s ``Values``) until
    their rows are streamed: a Python object per cell for a million users would be most of
    the run's memory. :meth:`block` gives rows as Python objects.
    """

    key: str
    heading: str
    kind: str  # text | date | number | auto | formula | input
    values: Values
    width: float
    style: str | None = None
    template: list[str] = field(default_factory=list)  # formula split on fx.ROW

    def block(self, start: int, stop: int) -> list[Any]:
        """Rows ``start:stop`` of the column as Python objects."""
        return block_of(self.values, start, stop)


@dataclass
class UsersPlan:
    """The Users sheet(s) before writing: columns, letters and sheet names."""

    columns: list[Column]
    letters: dict[str, str]
    sheets: list[tuple[str, int, int]]
    rows: int

    def ranges(self, key: str) -> list[str]:
        """Whole-column references to ``key`` on every Users sheet (headers never match a label)."""
        letter = self.letters[key]
        return [f"{sheet_ref(name)}!${letter}:${letter}" for name, _, _ in self.sheets]

    def countif(self, key: str, criterion: str) -> str:
        return join_plus(f"COUNTIF({r},{criterion})" for r in self.ranges(key))

    def countifs(self, *pairs: tuple[str, str]) -> str:
        per_sheet = [", ".join(f"{self._on(sheet, key)},{crit}" for key, crit in pairs) for sheet in self.sheets]
        return join_plus(f"COUNTIFS({args})" for args in per_sheet)

    def counta(self, key: str) -> str:
        """Filled cells below the header."""
        return join_plus(f"(COUNTA({r})-1)" for r in self.ranges(key))

    def _on(self, sheet: tuple[str, int, int], key: str) -> str:
        letter = self.letters[key]
        return f"{sheet_ref(sheet[0])}!${letter}:${letter}"


def sheet_names(rows: int) -> Iterator[tuple[str, int, int]]:
    """(name, first, stop) for each Users sheet needed to hold ``rows`` data rows."""
    per_sheet = EXCEL_MAX_ROWS - 1
    base = SHEETS("users")
    for part, start in enumerate(range(0, max(rows, 1), per_sheet)):
        yield (base if part == 0 else f"{base}({part + 1})"), start, min(start + per_sheet, rows)


def _source_columns(result: TagResult) -> list[Column]:
    """The export's own columns, with the parsed dates and counts the formulas read."""
    raw = result.table.frame
    users = result.users
    frame = users.frame
    layer_columns = {header: name for name, header in users.mapping.items() if name.startswith("layer_")}
    by_header = {header: name for name, header in users.mapping.items() if not name.startswith("layer_")}
    by_header.update({header: name for header, name in layer_columns.items() if header not in by_header})
    count_fields = {header: f"usage_{key}" for key, header in users.feature_columns.items()}
    columns = []
    for index, header in enumerate(raw.columns):
        name = by_header.get(header)
        heading = str(header)
        width = min(max(display_width(heading) + 2, 10), 40)
        key = name or f"col{index}"
        if name == "user_id":
            ids = zip(raw[header].tolist(), frame["user_id"].tolist(), strict=True)
            shown = np.array([v if isinstance(v, str) else i for v, i in ids], dtype=object)
            columns.append(Column(key, heading, "text", shown, content_width(shown, 21)))
        elif name in DATE_FIELDS:
            columns.append(Column(key, heading, "date", excel_serials(frame[name]), 20, "date"))
        elif header in count_fields or name == "active_days" or header in layer_columns:
            # Numbers the formulas read (N() counts text as 0, so they are written as numbers).
            field_name = count_fields.get(header) or (
                name if name is not None and name in frame else layer_columns[header])
            columns.append(Column(field_name, heading, "number",
                                  _counts_as_read(raw[header], frame[field_name]), max(width, 10)))
        else:
            values = _as_stored(raw[header])
            columns.append(Column(key, heading, "auto", values, content_width(values, width)))
    return columns


_CODE = re.compile(r"[0-9A-Za-z_\-+.@:]{1,64}")  # an ID, phone number, plate or e-mail: shown whole


def display_width(text: str) -> int:
    """Columns ``text`` takes in Excel's default font: a CJK or full-width character counts two.

    >>> display_width("手机号"), display_width("13800138000")
    (6, 11)
    """
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def content_width(values: Values, least: float, sample: int = 2_000, widest: int = 60) -> float:
    """A width that shows the column's values, from a sample of its first rows.

    IDs, phone numbers and other unbroken digits or ASCII codes are never clipped; free
    text stops at ``widest`` (the cell still holds all of it).
    """
    texts = [v if isinstance(v, str) else f"{v:.16G}" if isinstance(v, float) else str(v)
             for v in block_of(values, 0, sample) if v is not None and v == v and v != ""]
    if not texts:
        return least
    longest = max(texts, key=display_width)
    needed = display_width(longest) + 2
    if not _CODE.fullmatch(longest):  # free text stops at the cap
        needed = min(needed, widest)
    return max(least, needed)


def _as_stored(column: pd.Series) -> Values:
    """A column as an array whose values, a block at a time, are the column's own (``Series.tolist``'s).

    An object or plain number column is its array itself (no copy); any other type (dates,
    pandas' own types: rare here) is listed, since its array's values differ from its cells'.
    """
    if isinstance(column.dtype, np.dtype) and column.dtype.kind in "Obiuf":
        return column.to_numpy()
    return column.tolist()


def _counts_as_read(raw: pd.Series, parsed: pd.Series) -> Patched:
    """Parsed counts (``12次`` → 12); unreadable cells keep their text, which formulas count as 0.

    The numbers stay one float array; only the cells that are not numbers (blank, or text)
    are listed apart.
    """
    numbers = parsed.to_numpy(dtype=float, na_value=np.nan)
    positions = np.flatnonzero(np.isnan(numbers))
    others: list[Any] = []
    for value in raw.take(positions).tolist():
        if value is None or (isinstance(value, float) and value != value) or value == "":
            others.append(None)
        else:
            others.append(str(value))
    return Patched(numbers, positions, others)


class UsersRun:
    """What the column specs read: the run's frames, computed once, and the letters placed so far."""

    def __init__(self, result: TagResult, sources: list[Column]) -> None:
        self.result = result
        self.lang = get_language()
        self.month = parse_month(result.month)
        self.tags = result.tags
        self.frame = result.users.frame
        self.layers = result.config.value_layers
        self.sources = sources
        self.count_features = [f for f in result.config.features if f.key in result.users.feature_columns]
        self.letters = {c.key: xl_col_to_name(i) for i, c in enumerate(sources)}

    @cached_property
    def labels(self) -> dict[Any, str]:
        """Segment and group key → label, for the few keys the run has."""
        return {key: segment_label(key) for key in {*self.tags["segment"].unique(), *self.tags["group"].unique()}}

    @cached_property
    def typed(self) -> tuple[Coded, Coded]:
        """人工标签 and 备注 as the sheet shows them."""
        return _typed_columns(self.result)

    @cached_property
    def counts(self) -> pd.DataFrame:
        """Each counted feature over the preference window (blank as 0)."""
        return pd.DataFrame({f.field: window_usage(self.frame, f.field) for f in self.count_features}).fillna(0.0)

    @property
    def prev_key(self) -> str | None:
        """The column holding the last activity before the month, as the pipeline decided where it comes from."""
        if self.result.prev_source == "export":
            return "prev_active_date"
        if self.result.prev_source == "history" and self.result.prev_tags is not None:
            return "prev_hist"
        return None

    def over_window(self, name: str) -> str:
        """The letter of a count over the preference window: its 3-month column when there is one."""
        return self.letters.get(name + WINDOW_SUFFIX, self.letters[name])

    def cells(self) -> fx.UserCells:
        """The letters the formulas read, once every column is placed."""
        letters, prev_key = self.letters, self.prev_key
        return fx.UserCells(
            register=letters["register_date"], last=letters["last_active_date"],
            prev=letters.get(prev_key) if prev_key else None,
            prev_kind=self.result.prev_source if prev_key and prev_key in letters else "none",
            drove=letters.get("drove"), counts=[self.over_window(f.field) for f in self.count_features],
            top=letters.get("top_feature_3m"), age=letters["age"], active=letters["active"], idle=letters["idle"],
            segment=letters["segment"], group=letters["group"], prev_state=letters["prev_state"],
            total=letters.get("usage_total"), primary=letters["primary"], tags=letters["tags"], why=letters["why"],
            features=self.result.config.features, count_features=self.count_features, base=letters.get("pref_base"),
        )


CachedValues = Callable[[UsersRun], Values]
Formula = Callable[[UsersRun, fx.UserCells], str]


def _always(run: UsersRun) -> bool:
    return True


@dataclass(frozen=True)
class Spec:
    """One computed column of the Users sheet: how it looks, its cached values and its formula.

    ``kind`` is a :class:`Column` kind; ``formula`` is given the letters of every placed
    column, since a formula may read a column placed after its own. ``when`` leaves the
    column out of runs it does not apply to.
    """

    key: str
    kind: str
    width: float
    style: str | None
    values: CachedValues
    formula: Formula | None = None
    when: Callable[[UsersRun], bool] = _always
    heading: str | None = None  # default: HEADINGS(key)

    def expand(self, run: UsersRun) -> list[Spec]:
        return [self] if self.when(run) else []


@dataclass(frozen=True)
class Family:
    """Columns whose number the run decides (a pair per monthly count)."""

    expand: Callable[[UsersRun], list[Spec]]


def _window_specs(run: UsersRun) -> list[Spec]:
    """Monthly counts: each count's two earlier months (history, data) and its 3-month window (formula).

    None when the export holds 3-month totals or history had no earlier month. The formulas
    read a count through its window column when it has one (:meth:`UsersRun.over_window`).
    """
    headers = {c.key: c.heading for c in run.sources}
    specs = []
    for name in usage_fields(run.result.users, run.result.config):
        if name + PREV_SUFFIX not in run.frame:
            continue
        header = headers.get(name, name)
        specs.append(Spec(name + PREV_SUFFIX, "number", 12, None, _earlier_months(name),
                          heading=TEXT("usage_prev", header=header)))
        specs.append(Spec(name + WINDOW_SUFFIX, "formula", 12, None, _over_window(name), _window_formula(name),
                          heading=TEXT("usage_window", header=header)))
    return specs


def _earlier_months(name: str) -> CachedValues:
    return lambda run: _as_stored(run.frame[name + PREV_SUFFIX].astype(float))


def _over_window(name: str) -> CachedValues:
    return lambda run: _as_stored(window_usage(run.frame, name).fillna(0.0))


def _window_formula(name: str) -> Formula:
    return lambda run, cells: fx.window(run.letters[name], run.letters[name + PREV_SUFFIX])


def _layer_names(run: UsersRun) -> Coded:
    layers = run.layers
    assert layers is not None  # by the column's ``when``
    return coded(run.tags["value_layer"], lambda k: layers.name(k, run.lang))


def _value_layer_formula(run: UsersRun, cells: fx.UserCells) -> str:
    assert run.layers is not None  # by the column's ``when``
    value, frequency, recency = (_shared_letter(run, f"layer_{axis}") for axis in ("value", "frequency", "recency"))
    assert value is not None  # [value_layers] requires a value column
    return fx.value_layer(value, frequency, recency, run.letters["active"],
                          [run.layers.name(k, run.lang) for k in LAYER_KEYS], run.lang)


def _shared_letter(run: UsersRun, name: str) -> str | None:
    """The letter of a value-layer column, also when another field's column holds it (e.g. a usage count)."""
    if name in run.letters:
        return run.letters[name]
    header = run.result.users.mapping.get(name)
    if header is None:
        return None
    key = next(column.key for column in run.sources if column.heading == str(header))
    return run.letters[key]


def _yes_no(run: UsersRun) -> Coded:
    labels = np.array([fx.TEXT("no"), fx.TEXT("yes")], dtype=object)
    return Coded(run.tags["active"].to_numpy(bool).astype(np.uint8), labels)


def _ages(run: UsersRun) -> np.ndarray:
    ages: np.ndarray = (run.month - month_number(run.frame["register_date"])).astype(int).to_numpy()
    return ages


def _idle(run: UsersRun) -> Patched:
    """Whole months since the last activity; None (no cached number) where there is none."""
    idle = run.tags["idle_months"]
    missing = np.flatnonzero(idle.isna().to_numpy())
    return Patched(idle.to_numpy(dtype="int64", na_value=0), missing, [None] * len(missing))


def _sessions_base(run: UsersRun) -> bool:
    """``share_of = "sessions"`` with active days and counts to share."""
    share_of_sessions = run.result.config.preference_share_of == "sessions"
    return share_of_sessions and "active_days" in run.letters and bool(run.count_features)


def _prev_hist(run: UsersRun) -> np.ndarray:
    assert run.result.prev_tags is not None  # by the column's ``when``
    stored = run.result.prev_tags.set_index("user_id")["last_active_date"]
    return excel_serials(stored.reindex(run.frame["user_id"].to_numpy()).reset_index(drop=True))


def _prev_groups(run: UsersRun) -> np.ndarray:
    """Last month's group labels, one shared label object per row (分群流转 counts them as a Series)."""
    assert run.result.prev_tags is not None  # by the column's ``when``
    stored_group = run.result.prev_tags.set_index("user_id")["group"]
    prev_groups = stored_group.reindex(run.frame["user_id"].to_numpy())
    labels = coded(prev_groups, lambda g: segment_label(g) if isinstance(g, str) and g else TEXT("not_in_prev"))
    per_row: np.ndarray = labels.labels[labels.codes]
    return per_row


def _rules_fired(run: UsersRun) -> bool:
    """Which [[rules]] fired, when the config has rules."""
    return "rule" in run.tags and bool((run.tags["rule"] != "").any())


def _prev_overridden(run: UsersRun) -> bool:
    return "prev_override" in run.tags and bool((run.tags["prev_override"] != "").any())


def _effective_groups(run: UsersRun) -> Coded:
    effective = run.tags["effective_group"] if "effective_group" in run.tags else run.tags["group"]
    return coded(effective, segment_label)


def _texts(column: str) -> CachedValues:
    """A column of the tags as it is (a few distinct texts, coded)."""
    return lambda run: coded(run.tags[column])


def _labelled(column: str) -> CachedValues:
    """A column of segment or group keys, as their labels."""
    return lambda run: coded(run.tags[column], run.labels.get)


def _why(run: UsersRun) -> Coded:
    """分群说明: a sentence per user, though it only depends on (segment, months idle, group).

    :func:`formulas.explain` is asked once per distinct combination, and the rows are codes
    into those sentences.
    """
    tags = run.tags
    combined = np.zeros(len(tags), dtype=np.int64)
    for name in ("segment", "idle_months", "group"):
        codes, uniques = pd.factorize(tags[name], use_na_sentinel=False)
        combined = combined * len(uniques) + codes
    codes, _ = pd.factorize(combined)
    first = np.unique(codes, return_index=True)[1]
    sample = tags.iloc[first]
    sentences = fx.explain(sample, run.month, sample["group"].map(run.labels), run.lang)
    return Coded(_small(codes, len(sentences)), _objects(sentences))


# The Users sheet after the export's own columns, in order. The helper columns the formulas read
# (活跃, 注册月数 …) come after the tags people look at; 生效分群 and last month's label come after
# the helpers, so the columns the formulas read keep their letters.
COMPUTED: tuple[Spec | Family, ...] = (
    Spec("segment", "formula", 14, "text", _labelled("segment"), lambda r, c: fx.segment(c, r.lang)),
    Spec("group", "formula", 16, "text", _labelled("group"), lambda r, c: fx.group(c, r.lang)),
    Spec("tags", "formula", 20, "text", _texts("tags"), lambda r, c: fx.tags(c, r.lang)),
    Spec("primary", "formula", 12, "text", _texts("primary"), lambda r, c: fx.primary(c, r.lang)),
    Spec("why", "formula", 40, "text", _why, lambda r, c: fx.why(c, r.lang)),
    Spec("value_layer", "formula", 14, "text", _layer_names, _value_layer_formula,
         when=lambda r: "value_layer" in r.tags and r.layers is not None),
    Spec("override", "input", 14, "input", lambda r: r.typed[0]),
    Spec("remark", "input", 24, "input", lambda r: r.typed[1]),
    Spec("active", "formula", 9, "center", _yes_no, lambda r, c: fx.active(c, r.lang)),
    Spec("age", "formula", 9, None, _ages, lambda r, c: fx.age(c)),
    Spec("idle", "formula", 9, None, _idle, lambda r, c: fx.idle(c, r.lang)),
    Spec("prev_state", "formula", 14, "text",
         lambda r: coded(r.tags["prev_group"], lambda k: fx.prev_state_label(k, r.lang)),
         lambda r, c: fx.prev_state(c, r.lang)),
    Family(_window_specs),
    Spec("usage_total", "formula", 10, None, lambda r: _as_stored(r.counts.sum(axis=1)), lambda r, c: fx.total(c),
         when=lambda r: bool(r.count_features)),
    Spec("pref_base", "formula", 10, None,
         lambda r: _as_stored(pd.Series(share_base(r.counts, window_usage(r.frame, "active_days")))),
         lambda r, c: fx.share_base(r.over_window("active_days"), c), when=_sessions_base),
    Spec("prev_hist", "date", 20, "date", _prev_hist,
         when=lambda r: r.result.prev_source == "history" and r.result.prev_tags is not None),
    Spec("prev_group_hist", "text", 16, None, _prev_groups, when=lambda r: r.result.prev_tags is not None),
    Spec("rule", "text", 18, "text", _texts("rule"), when=_rules_fired),
    Spec("rule_channel", "text", 12, "text", _texts("channel"), when=_rules_fired),
    Spec("rule_content", "text", 28, "text", _texts("content"), when=_rules_fired),
    Spec("effective_group", "formula", 18, "text", _effective_groups,
         lambda r, c: fx.effective_group(r.letters["override"], r.letters["group"])),
    Spec("prev_override", "text", 14, "text",
         lambda r: coded(r.tags["prev_override"], lambda k: segment_label(k) if k else ""),
         when=_prev_overridden),
)


def plan_users(result: TagResult) -> UsersPlan:
    """Columns and letters of the Users sheet for ``result``: the export's columns, then :data:`COMPUTED`."""
    columns = _source_columns(result)
    run = UsersRun(result, columns[:])
    formulas: list[tuple[Column, Formula]] = []
    for entry in COMPUTED:
        for spec in entry.expand(run):
            run.letters[spec.key] = xl_col_to_name(len(columns))
            column = Column(spec.key, spec.heading or HEADINGS(spec.key), spec.kind, spec.values(run), spec.width,
                            spec.style)
            columns.append(column)
            if spec.formula is not None:
                formulas.append((column, spec.formula))
    cells = run.cells()
    for column, formula in formulas:
        column.template = formula(run, cells).split(fx.ROW)
    return UsersPlan(columns=columns, letters=run.letters, sheets=list(sheet_names(len(result.tags))),
                     rows=len(result.tags))


def coded(series: pd.Series, convert: Callable[[Any], Any] | None = None) -> Coded:
    """A few distinct values over a million rows: a small code per row, ``convert`` once per value.

    The Users sheet keeps its columns until the rows are streamed; a byte or two a row
    instead of a reference (8 bytes) to a string. A missing cell keeps what it holds (None
    and NaN stay apart: a formula's cached value shows them differently).

    >>> column = coded(pd.Series(["b", None, "a", "b"], dtype=object), lambda v: v and v.upper())
    >>> column.block(0, 4), column.codes.dtype.name
    (['B', None, 'A', 'B'], 'uint8')
    """
    codes, uniques = pd.factorize(series)
    values = list(uniques)
    missing = np.flatnonzero(codes < 0)
    if len(missing):
        kinds: dict[tuple[type, bool], int] = {}
        for position, value in zip(missing.tolist(), series.take(missing).tolist(), strict=True):
            kind = (type(value), value is None)
            if kind not in kinds:
                kinds[kind] = len(values)
                values.append(value)
            codes[position] = kinds[kind]
    labels = [convert(v) for v in values] if convert else values
    return Coded(_small(codes, len(labels)), _objects(labels))


def _small(codes: np.ndarray, count: int) -> np.ndarray:
    """``codes`` (0 … count-1) in the narrowest unsigned integer type that holds them."""
    return codes.astype(np.min_scalar_type(max(count - 1, 0)))


def _objects(values: Sequence[Any]) -> np.ndarray:
    """A one-dimensional object array of ``values`` (never split into a 2-D one)."""
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        out[i] = value
    return out


def _typed_columns(result: TagResult) -> tuple[Coded, Coded]:
    """人工标签 and 备注 as the sheet shows them: carried by a refresh, else the stored ones ``tag`` applied."""
    carried, tags = result.carried, result.tags
    if carried is not None:
        return coded(pd.Series(carried.overrides)), coded(pd.Series(carried.remarks))
    blank = Coded(np.zeros(len(tags), dtype=np.uint8), _objects([""]))
    labels = coded(tags["override"], lambda k: segment_label(k) if k else "") if "override" in tags else blank
    return labels, coded(tags["remark"]) if "remark" in tags else blank


def tabs(result: TagResult) -> list[Tab]:
    """One tab per 1,048,575 users, each holding its (first, stop) rows of the tags."""
    return [Tab(name, (start, stop)) for name, start, stop in sheet_names(len(result.tags))]


def write_users(ctx: SheetContext, ws: Worksheet, tab: Tab) -> Published:
    """Set up one Users sheet; publishes its rows, streamed in by :func:`rowxml.splice`."""
    start, stop = tab.part
    return Published(rows=[_write_part(ws, ctx.styles, ctx.users, tab.name, start, stop, ctx.progress)])


def _cells(styles: Styles, plan: UsersPlan, start: int, stop: int) -> list[ColumnCells]:
    """How each column's cells are written, with xlsxwriter's style index of each format.

    Text and 人工标签/备注 cells are text; dates and counts numbers (an unreadable count keeps
    its text); carried-through columns keep each cell's own type; computed columns are one
    shared formula each, carrying Python's values.
    """
    def index(name: str | None) -> int | None:
        return styles[name]._get_xf_index() if name else None

    text, date = index("text"), index("date")
    out = []
    shared = 0
    for col, column in enumerate(plan.columns):
        values = part_of(column.values, start, stop)
        if column.kind == "formula":
            first = "2".join(column.template)  # the formula of the first data row, shared below it
            out.append(ColumnCells(col, "formula", values, index(column.style),
                                          formula=first.removeprefix("="), shared_index=shared))
            shared += 1
        elif column.kind in ("text", "input"):
            out.append(ColumnCells(col, "text", values, text if column.kind == "text" else index(column.style)))
        elif column.kind in ("date", "number"):
            out.append(ColumnCells(col, "number", values, index(column.style) if column.kind == "date" else None,
                                          text_style=text, date_style=date))
        else:
            out.append(ColumnCells(col, "auto", values, text_style=text, date_style=date))
    return out


def _write_part(ws: Worksheet, styles: Styles, plan: UsersPlan, name: str, start: int, stop: int,
                progress: Progress) -> SheetRows:
    header = styles["header"]
    computed = styles["header_computed"]
    editable = styles["header_input"]
    ws.freeze_panes(1, 1)
    ws.autofilter(0, 0, max(stop - start, 1), len(plan.columns) - 1)
    ws.set_row(0, 32)
    for col, column in enumerate(plan.columns):
        fmt = styles["input"] if column.kind == "input" else None
        ws.set_column(col, col, column.width, fmt)
        head = computed if column.kind == "formula" else editable if column.kind == "input" else header
        ws.write_string(0, col, column.heading, head)
    col_override = [c.key for c in plan.columns].index("override")
    override = plan.columns[col_override]
    ws.data_validation(1, col_override, max(stop - start, 1), col_override, {
        "validate": "list", "source": "=LabelList", "ignore_blank": True,
        "input_title": override.heading, "input_message": TEXT("override_prompt"),
        "error_title": override.heading, "error_message": TEXT("override_error"), "error_type": "warning",
    })
    return SheetRows(name, 1, stop - start, _cells(styles, plan, start, stop), on_block=progress.advance)


# --------------------------------------------------------------------------- reading it back (tagger refresh)


def valid_labels() -> dict[str, str]:
    """Every label a person may type as 人工标签 (either language, or the key) → group key."""
    keys = (*GROUPS, *SEGMENTS)
    return {normalize_header(text): key for key in keys
            for text in (key, *(segment_label(key, lang) for lang in LANGUAGES))}


def find_header(head: list[tuple[Any, ...]], id_spellings: set[str]) -> Header | None:
    """The heading row of a sheet people type 人工标签 on (an ID column and one starting 人工标签), or None."""
    return header_row(head, [id_spellings, Prefixed(spellings("override"))])


@dataclass
class TypedEdits:
    """What people typed on one Users sheet, and what the caller should warn about."""

    records: pd.DataFrame  # rows with a label or a remark: user_id, label (group key), label_text, remark, where
    seen: set[str]  # every user ID on the sheet, labelled or not
    lossy: list[Location]  # rows skipped: an ID Excel turned into a rounded number
    prefixed: tuple[str, Location] | None  # the 人工标签 heading as found, when only its start matched


def read(ws: Any, header: Header, id_spellings: set[str], path: Path) -> TypedEdits:
    """Overrides and remarks of one sheet, found by heading; a label that is no group stops the run."""
    index, names = header
    id_col = find(names, id_spellings)
    label_col, by_prefix = find_heading(names, spellings("override"))
    prefixed = None
    if by_prefix and label_col is not None:
        found = cell_text(list(ws.iter_rows(min_row=index + 1, max_row=index + 1))[0][label_col])
        prefixed = found, Location(path, ws.title, index + 1, found, column_letter(label_col))
    remark_col = find(names, spellings("remark"))
    labels = valid_labels()
    wanted = [id_col, label_col, remark_col]
    rows = [(excel_row, values) for excel_row, values in keyed_rows(path, ws.title, wanted, index + 2)
            if not (isinstance(values[0], str) and not values[0].strip())]
    parsed, _, lossy = parse_ids(pd.Series([values[0] for _, values in rows], dtype=object))
    lost = lossy.to_numpy(bool)
    users: list[str] = parsed.tolist()  # parse_ids gives IDs in their matching form (normalize_id)
    seen = {user for user, gone in zip(users, lost.tolist(), strict=True) if not gone}
    lossy_rows = [Location(path, ws.title, rows[i][0]) for i in np.flatnonzero(lost).tolist()]
    edits = TypedEdits(pd.DataFrame(), seen, lossy_rows, prefixed)
    records = []
    # Most rows hold only an ID: the user is seen (an emptied cell clears), nothing was typed.
    typed = [i for i, (_, values) in enumerate(rows) if values[1] is not None or values[2] is not None]
    for i in typed:
        if lost[i]:
            continue
        excel_row, (_, label, note) = rows[i]
        label_text, remark = cell_text(label), cell_text(note)
        if not label_text and not remark:
            continue
        where = Location(path, ws.title, excel_row)
        key = ""
        if label_text:
            key = labels.get(normalize_header(label_text), "")
            if not key:
                allowed = "、".join(dict.fromkeys(segment_label(k) for k in labels.values()))
                letter = column_letter(label_col) if label_col is not None else None
                raise InputError(TEXT("bad_label", value=label_text, allowed=allowed),
                                 Location(path, ws.title, excel_row, HEADINGS("override"), letter))
        records.append({"user_id": users[i], "label": key, "label_text": label_text, "remark": remark,
                        "where": where})
    edits.records = pd.DataFrame(records, columns=["user_id", "label", "label_text", "remark", "where"])
    return edits
