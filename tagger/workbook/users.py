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
from tagger.values import month_number, normalize_id, parse_ids, parse_month
from tagger.vocabulary import word
from tagger.workbook.grid import join_plus, sheet_ref
from tagger.workbook.labels import HEADINGS, SHEETS
from tagger.workbook.readback import (Header, Prefixed, cell_text, find, find_heading, header_row, spellings,
                                      typed_columns)
from tagger.workbook.rowxml import ColumnCells, SheetRows
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
        "override_prompt": {"zh": "从列表中选择分群；留空表示采用自动分群", "en": "Pick a group; leave empty to keep the computed one"},
        "override_error": {"zh": "请从下拉列表中选择有效的分群名称", "en": "Choose one of the listed group names"},
        "bad_label": {
            "zh": "人工标签 '{value}' 不是有效的分群；可用：{allowed}",
            "en": "manual label '{value}' is not a valid group; valid: {allowed}",
        },
    },
)


def excel_serials(dates: pd.Series) -> list[float | None]:
    """Dates as Excel serial numbers (None for missing), computed for the whole column at once."""
    values = dates.to_numpy(dtype="datetime64[s]")
    serials = (values - EPOCH) / np.timedelta64(1, "D")
    return [None if np.isnan(s) else float(s) for s in serials]


@dataclass
class Column:
    """One column of the Users sheet: its values (constants, or the cached values of a formula)."""

    key: str
    heading: str
    kind: str  # text | date | number | auto | formula | input
    values: Sequence[Any]
    width: float
    style: str | None = None
    template: list[str] = field(default_factory=list)  # formula split on fx.ROW


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
            values = [v if isinstance(v, str) else i for v, i in zip(raw[header].tolist(), frame["user_id"].tolist())]
            columns.append(Column(key, heading, "text", values, content_width(values, 21)))
        elif name in DATE_FIELDS:
            columns.append(Column(key, heading, "date", excel_serials(frame[name]), 20, "date"))
        elif header in count_fields or name == "active_days" or header in layer_columns:
            # Numbers the formulas read (N() counts text as 0, so they are written as numbers).
            field_name = count_fields.get(header) or (name if name in frame else layer_columns[header])
            columns.append(Column(field_name, heading, "number",
                                  _counts_as_read(raw[header], frame[field_name]), max(width, 10)))
        else:
            values = raw[header].tolist()
            columns.append(Column(key, heading, "auto", values, content_width(values, width)))
    return columns


_CODE = re.compile(r"[0-9A-Za-z_\-+.@:]{1,64}")  # an ID, phone number, plate or e-mail: shown whole


def display_width(text: str) -> int:
    """Columns ``text`` takes in Excel's default font: a CJK or full-width character counts two.

    >>> display_width("手机号"), display_width("13800138000")
    (6, 11)
    """
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def content_width(values: Sequence[Any], least: float, sample: int = 2_000, widest: int = 60) -> float:
    """A width that shows the column's values, from a sample of its first rows.

    IDs, phone numbers and other unbroken digits or ASCII codes are never clipped; free
    text stops at ``widest`` (the cell still holds all of it).
    """
    texts = [v if isinstance(v, str) else f"{v:.16G}" if isinstance(v, float) else str(v)
             for v in values[:sample] if v is not None and v == v and v != ""]
    if not texts:
        return least
    longest = max(texts, key=display_width)
    needed = display_width(longest) + 2
    if not _CODE.fullmatch(longest):  # free text stops at the cap
        needed = min(needed, widest)
    return max(least, needed)


def _counts_as_read(raw: pd.Series, parsed: pd.Series) -> list[Any]:
    """Parsed counts (``12次`` → 12); unreadable cells keep their text, which formulas count as 0."""
    out: list[Any] = []
    for value, number in zip(raw.tolist(), parsed.tolist()):
        if number == number and number is not None:  # not NaN
            out.append(float(number))
        elif value is None or (isinstance(value, float) and value != value) or value == "":
            out.append(None)
        else:
            out.append(str(value))
    return out


def plan_users(result: TagResult) -> UsersPlan:
    """Columns and letters of the Users sheet for ``result``."""
    lang = get_language()
    columns = _source_columns(result)
    tags = result.tags
    month = parse_month(result.month)
    frame = result.users.frame
    keys = [c.key for c in columns]
    letters = {c.key: xl_col_to_name(i) for i, c in enumerate(columns)}

    def add(key: str, kind: str, values: Sequence[Any], width: float, style: str | None = None) -> None:
        letters[key] = xl_col_to_name(len(columns))
        columns.append(Column(key, HEADINGS(key), kind, values, width, style))
        keys.append(key)

    labels = {key: segment_label(key) for key in {*tags["segment"].unique(), *tags["group"].unique()}}
    group_labels = tags["group"].map(labels)
    age = (month - month_number(frame["register_date"])).astype(int).to_numpy()
    add("segment", "formula", shared_texts(tags["segment"], labels.get), 14, "text")
    add("group", "formula", shared_texts(tags["group"], labels.get), 16, "text")
    add("tags", "formula", shared_texts(tags["tags"]), 20, "text")
    add("primary", "formula", shared_texts(tags["primary"]), 12, "text")
    add("why", "formula", fx.explain(tags, month, group_labels, lang), 40, "text")
    layers = result.config.value_layers
    if "value_layer" in tags and layers is not None:
        add("value_layer", "formula", [layers.name(k, lang) for k in tags["value_layer"]], 14, "text")
    overrides, remarks = _typed_columns(result)
    add("override", "input", overrides, 14, "input")
    add("remark", "input", remarks, 24, "input")
    yes, no = fx.TEXT("yes"), fx.TEXT("no")
    add("active", "formula", [yes if a else no for a in tags["active"].to_numpy(bool).tolist()], 9, "center")
    add("age", "formula", age.tolist(), 9)
    add("idle", "formula", [None if v is pd.NA else int(v) for v in tags["idle_months"].tolist()], 9)
    add("prev_state", "formula", shared_texts(tags["prev_group"], lambda k: fx.prev_state_label(k, lang)), 14,
        "text")
    count_features = [f for f in result.config.features if f.key in result.users.feature_columns]
    windows = _window_columns(result, columns, letters, keys)
    count_letters = [windows.get(f.field, letters[f.field]) for f in count_features]
    if count_features:
        counts = pd.DataFrame({f.field: window_usage(frame, f.field) for f in count_features}).fillna(0.0)
        add("usage_total", "formula", counts.sum(axis=1).tolist(), 10)
    sessions = result.config.preference_share_of == "sessions" and "active_days" in letters
    if sessions and count_features:
        base = share_base(counts, window_usage(frame, "active_days"))
        add("pref_base", "formula", base.tolist(), 10)
    prev_kind = result.prev_source
    prev_key = "prev_active_date" if prev_kind == "export" else None
    if prev_kind == "history" and result.prev_tags is not None:
        stored = result.prev_tags.set_index("user_id")["last_active_date"]
        add("prev_hist", "date", excel_serials(stored.reindex(frame["user_id"].to_numpy()).reset_index(drop=True)),
            20, "date")
        prev_key = "prev_hist"
    if result.prev_tags is not None:
        stored_group = result.prev_tags.set_index("user_id")["group"]
        prev_groups = stored_group.reindex(frame["user_id"].to_numpy())
        add("prev_group_hist", "text",
            [segment_label(g) if isinstance(g, str) and g else TEXT("not_in_prev") for g in prev_groups], 16)

    if "rule" in tags and (tags["rule"] != "").any():  # which [[rules]] fired, when the config has rules
        add("rule", "text", tags["rule"].tolist(), 18, "text")
        add("rule_channel", "text", tags["channel"].tolist(), 12, "text")
        add("rule_content", "text", tags["content"].tolist(), 28, "text")
    # The group that acts (this month's 人工标签 first) and last month's label, read-only: after
    # the helper columns, so the columns the formulas read keep their letters.
    effective = tags["effective_group"] if "effective_group" in tags else tags["group"]
    add("effective_group", "formula", shared_texts(effective, segment_label), 18, "text")
    if "prev_override" in tags and (tags["prev_override"] != "").any():  # read-only: it acts on nothing
        add("prev_override", "text", tags["prev_override"].map(lambda k: segment_label(k) if k else "").tolist(),
            14, "text")

    cells = fx.UserCells(
        register=letters["register_date"], last=letters["last_active_date"],
        prev=letters.get(prev_key) if prev_key else None,
        prev_kind=prev_kind if prev_key and prev_key in letters else "none",
        drove=letters.get("drove"), counts=count_letters,
        top=letters.get("top_feature_3m"), age=letters["age"], active=letters["active"], idle=letters["idle"],
        segment=letters["segment"], group=letters["group"], prev_state=letters["prev_state"],
        total=letters.get("usage_total"), primary=letters["primary"], tags=letters["tags"], why=letters["why"],
        features=result.config.features, count_features=count_features, base=letters.get("pref_base"),
    )
    templates = {
        "age": fx.age(cells), "active": fx.active(cells, lang), "idle": fx.idle(cells, lang),
        "segment": fx.segment(cells, lang), "group": fx.group(cells, lang),
        "prev_state": fx.prev_state(cells, lang), "primary": fx.primary(cells, lang),
        "tags": fx.tags(cells, lang), "why": fx.why(cells, lang),
        "effective_group": fx.effective_group(letters["override"], letters["group"]),
    }
    if count_features:
        templates["usage_total"] = fx.total(cells)
    if "value_layer" in letters and layers is not None:
        value, frequency, recency = (_shared_letter(result, columns, letters, f"layer_{axis}")
                                     for axis in ("value", "frequency", "recency"))
        assert value is not None
        templates["value_layer"] = fx.value_layer(value, frequency, recency, letters["active"],
                                                  [layers.name(k, lang) for k in LAYER_KEYS], lang)
    if "pref_base" in letters:
        days = windows.get("active_days", letters["active_days"])
        templates["pref_base"] = fx.share_base(days, cells)
    for name, letter in windows.items():
        templates[name + WINDOW_SUFFIX] = fx.window(letters[name], letters[name + PREV_SUFFIX])
    for column in columns:
        if column.key in templates:
            column.template = templates[column.key].split(fx.ROW)
    return UsersPlan(columns=columns, letters=letters, sheets=list(sheet_names(len(tags))), rows=len(tags))


def _shared_letter(result: TagResult, columns: list[Column], letters: dict[str, str], name: str) -> str | None:
    """The letter of a value-layer column, also when another field's column holds it (e.g. a usage count)."""
    if name in letters:
        return letters[name]
    header = result.users.mapping.get(name)
    if header is None:
        return None
    key = next(column.key for column in columns if column.heading == str(header))
    return letters[key]


def _window_columns(result: TagResult, columns: list[Column], letters: dict[str, str],
                    keys: list[str]) -> dict[str, str]:
    """Monthly counts: each count's two earlier months (history, data) and its 3-month window (formula).

    Returns field → letter of its window column; empty when the export holds 3-month totals or
    history had no earlier month.
    """
    frame = result.users.frame
    names = [f for f in usage_fields(result.users, result.config) if f + PREV_SUFFIX in frame]
    headers = {c.key: c.heading for c in columns}
    out: dict[str, str] = {}
    for name in names:
        for suffix, kind, values, text in (
            (PREV_SUFFIX, "number", frame[name + PREV_SUFFIX].astype(float).tolist(), "usage_prev"),
            (WINDOW_SUFFIX, "formula", window_usage(frame, name).fillna(0.0).tolist(), "usage_window"),
        ):
            letters[name + suffix] = xl_col_to_name(len(columns))
            columns.append(Column(name + suffix, TEXT(text, header=headers.get(name, name)), kind, values, 12))
            keys.append(name + suffix)
        out[name] = letters[name + WINDOW_SUFFIX]
    return out


def shared_texts(series: pd.Series, convert: Callable[[Any], Any] | None = None) -> list[Any]:
    """A few distinct values over a million rows: one Python object per distinct value, not per row.

    The Users sheet keeps its columns until the rows are streamed; a list of references to
    a handful of label strings costs 8 bytes a row instead of ~70.
    """
    lookup = {key: (convert(key) if convert else key) for key in series.unique()}
    return [lookup.get(key, key) for key in series.tolist()]


def _typed_columns(result: TagResult) -> tuple[list[str], list[str]]:
    """人工标签 and 备注 as the sheet shows them: carried by a refresh, else the stored ones ``tag`` applied."""
    carried, tags = result.carried, result.tags
    if carried is not None:
        return carried.overrides.tolist(), carried.remarks.tolist()
    blank = [""] * len(tags)
    labels = tags["override"].map(lambda k: segment_label(k) if k else "").tolist() if "override" in tags else blank
    return labels, tags["remark"].tolist() if "remark" in tags else blank


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
        values = column.values[start:stop]
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
    override = plan.columns[[c.key for c in plan.columns].index("override")]
    col_override = [c.key for c in plan.columns].index("override")
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

    records: pd.DataFrame  # user_id, label (group key), label_text, remark, where (sheet and row)
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
    typed = []  # (excel row, raw ID, label text, remark): IDs are parsed together below, not row by row
    for excel_row, (raw_id, label, note) in typed_columns(path, ws.title, [id_col, label_col, remark_col], index + 2):
        if raw_id is None or (isinstance(raw_id, str) and not raw_id.strip()):
            continue
        typed.append((excel_row, raw_id, cell_text(label), cell_text(note)))
    ids, _, lossy = parse_ids(pd.Series([t[1] for t in typed], dtype=object))
    edits = TypedEdits(pd.DataFrame(), set(), [], prefixed)
    records = []
    for (excel_row, _, label_text, remark), parsed, lost in zip(typed, ids.tolist(), lossy.tolist()):
        where = Location(path, ws.title, excel_row)
        if lost:
            edits.lossy.append(where)
            continue
        user = normalize_id(parsed)
        edits.seen.add(user)
        key = ""
        if label_text:
            key = labels.get(normalize_header(label_text), "")
            if not key:
                allowed = "、".join(dict.fromkeys(segment_label(k) for k in labels.values()))
                letter = column_letter(label_col) if label_col is not None else None
                raise InputError(TEXT("bad_label", value=label_text, allowed=allowed),
                                 Location(path, ws.title, excel_row, HEADINGS("override"), letter))
        records.append({"user_id": user, "label": key, "label_text": label_text, "remark": remark,
                        "where": where})
    edits.records = pd.DataFrame(records, columns=["user_id", "label", "label_text", "remark", "where"])
    return edits
