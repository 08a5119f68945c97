"""The 触达跟踪 (Channel reach) sheet: one row per (date, group, channel, campaign) that ops fill in.

Inputs (yellow): 日期, 分群 and 渠道 (dropdowns), 活动/内容, 触达人数, 送达数, 点击数,
回访活跃数, 成本. Rates are formulas on every row (送达率 = 送达/触达, 点击率 = 点击/送达,
激活率 = 回访活跃/触达, 单用户激活成本 = 成本/回访活跃), empty until their inputs are.
Right of the table, ``SUMIFS`` summaries per channel and per group. The headings come
from :data:`tagger.workbook.labels.HEADINGS` (``reach_*``): ``tagger refresh`` finds the
columns by them. The table starts with the carried rows of an earlier workbook, else with
this month's playbook rows (group, channel, content) ready to be completed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from xlsxwriter.utility import xl_col_to_name

from tagger.campaigns import day_text, reach_key
from tagger.columns import normalize_header
from tagger.config import Config
from tagger.history import TRACKING_FIELDS, TRACKING_NUMBERS
from tagger.i18n import Catalog, get_language
from tagger.segments import label as segment_label
from tagger.workbook.grid import Grid
from tagger.workbook.labels import HEADINGS, SHEETS
from tagger.workbook.params import PICKABLE_GROUPS
from tagger.workbook.readback import Header, cell_text, find, header_row, spellings
from tagger.workbook.styles import Styles

if TYPE_CHECKING:
    from tagger.pipeline import TagResult
    from tagger.workbook.sheet import SheetContext, Tab

INPUTS: tuple[str, ...] = ("reach_date", "reach_group", "reach_channel", "reach_content", "reach_targeted",
                           "reach_delivered", "reach_clicked", "reach_reactivated", "reach_cost")
RATES: tuple[str, ...] = ("reach_delivery_rate", "reach_click_rate", "reach_activation_rate", "reach_cost_per_user")
COUNTS: tuple[str, ...] = ("reach_targeted", "reach_delivered", "reach_clicked", "reach_reactivated", "reach_cost")
# (rate, numerator, denominator): each rate is numerator / denominator.
RATE_PARTS: dict[str, tuple[str, str]] = {
    "reach_delivery_rate": ("reach_delivered", "reach_targeted"),
    "reach_click_rate": ("reach_clicked", "reach_delivered"),
    "reach_activation_rate": ("reach_reactivated", "reach_targeted"),
    "reach_cost_per_user": ("reach_cost", "reach_reactivated"),
}
ROWS = 100
TOP = 3
EPOCH = dt.datetime(1899, 12, 30)

TEXT = Catalog(
    "reach_sheet",
    {
        "title": {"zh": "触达跟踪：渠道效益监控", "en": "Channel reach: what each push, SMS and campaign brought back"},
        "help": {
            "zh": "每次触达填一行（黄色列）；比率自动计算。右侧按渠道、按分群汇总。",
            "en": "One row per send (yellow columns); rates fill in by themselves. Summaries per channel and group "
                  "on the right.",
        },
        "by_channel": {"zh": "按渠道汇总", "en": "By channel"},
        "by_group": {"zh": "按分群汇总", "en": "By group"},
    },
)


def rate(numerator: float | None, denominator: float | None) -> float | None:
    """Python twin of the row formula: a rate only when the denominator is positive and the numerator filled."""
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def rate_formula(numerator: str, denominator: str) -> str:
    return f'=IF(AND(N({denominator})>0,{numerator}<>""),{numerator}/{denominator},"")'


def _carried(row: Mapping[str, object]) -> dict[str, object]:
    """A carried reach row keyed by heading key, whether it came keyed by key or by heading text."""
    by_heading = {HEADINGS(k): k for k in (*INPUTS, *RATES)}
    out: dict[str, object] = {}
    for key, value in row.items():
        name = key if key in INPUTS else by_heading.get(str(key))
        if name in INPUTS and value not in (None, ""):
            out[name] = value
    return out


def play_headline(strategy: str, content: str) -> str:
    """``strategy：content``, without repeating a strategy the content already starts with."""
    if not strategy or content.startswith(strategy):
        return content or strategy
    return f"{strategy}：{content}" if content else strategy


def _starter_rows(result: TagResult) -> list[dict[str, object]]:
    """This month's playbook, one row per play, for ops to complete."""
    lang = get_language()
    channels = {c.key: c.label(lang) for c in result.config.channels}
    return [{"reach_group": segment_label(p.group), "reach_channel": channels.get(p.channel, p.channel),
             "reach_content": play_headline(p.text("strategy", lang), p.text("content", lang))}
            for p in result.config.playbook if p.group in PICKABLE_GROUPS]


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, (dt.datetime, dt.date)):
        moment = value if isinstance(value, dt.datetime) else dt.datetime(value.year, value.month, value.day)
        return (moment - EPOCH).total_seconds() / 86400
    return None


def write_reach(ctx: SheetContext, ws: Any, tab: Tab) -> None:
    """Fill the Channel reach sheet."""
    styles, result = ctx.styles, ctx.result
    grid = Grid(ws, SHEETS("reach"))
    carried = [_carried(r) for r in (result.carried.reach_rows if result.carried is not None else [])]
    rows = carried or _starter_rows(result)
    total_rows = max(ROWS, len(rows) + 50)
    columns = [*INPUTS, *RATES]
    col = {key: i for i, key in enumerate(columns)}
    widths = {"reach_date": 12, "reach_group": 16, "reach_channel": 14, "reach_content": 40}
    for key, i in col.items():
        ws.set_column(i, i, widths.get(key, 11))
    grid.text(0, 0, TEXT("title"), styles["title"])
    grid.text(1, 0, TEXT("help"), styles["subtitle"])
    ws.set_row(TOP, 32)
    for key, i in col.items():
        grid.text(TOP, i, HEADINGS(key), styles["header_input" if key in INPUTS else "header_computed"])
    first, last = TOP + 1, TOP + total_rows
    input_style = {"reach_date": "input_day", "reach_cost": "input_money", "reach_content": "input_text",
                   "reach_group": "input_text", "reach_channel": "input_text"}
    for i in range(total_rows):
        row = first + i
        values = rows[i] if i < len(rows) else {}
        for key in INPUTS:
            fmt = styles[input_style.get(key, "input_int")]
            value = values.get(key)
            number = _number(value)
            if number is not None:
                grid.number(row, col[key], number, fmt)
            elif isinstance(value, str) and value:
                grid.text(row, col[key], value, fmt)
            else:
                grid.blank(row, col[key], fmt)
        for key in RATES:
            num, den = RATE_PARTS[key]
            cell = {k: grid.ref(row, col[k], sheet=False, absolute=False) for k in (num, den)}
            cached = rate(_number(values.get(num)), _number(values.get(den)))
            grid.formula(row, col[key], rate_formula(cell[num], cell[den]), cached,
                         styles["money" if key == "reach_cost_per_user" else "pct"])
    _validations(ws, col, first, last)
    ws.freeze_panes(TOP + 1, 0)
    ws.autofilter(TOP, 0, last, len(columns) - 1)
    _summaries(grid, styles, result, rows, col, first, last, len(columns) + 1)
    grid.flush()


def _validations(ws: Any, col: dict[str, int], first: int, last: int) -> None:
    ws.data_validation(first, col["reach_group"], last, col["reach_group"],
                       {"validate": "list", "source": "=GroupList"})
    ws.data_validation(first, col["reach_channel"], last, col["reach_channel"],
                       {"validate": "list", "source": "=ChannelList"})
    ws.data_validation(first, col["reach_date"], last, col["reach_date"],
                       {"validate": "date", "criteria": ">=", "value": dt.date(2000, 1, 1)})
    for key in COUNTS:
        ws.data_validation(first, col[key], last, col[key], {"validate": "decimal", "criteria": ">=", "value": 0})


def _summaries(grid: Grid, styles: Styles, result: TagResult, rows: list[dict[str, object]],
               col: dict[str, int], first: int, last: int, left: int) -> None:
    """Per channel and per group: sums by SUMIFS and the same four rates over the sums."""
    lang = get_language()

    def area(key: str) -> str:
        letter = xl_col_to_name(col[key])
        return f"${letter}${first + 1}:${letter}${last + 1}"

    blocks = [
        ("by_channel", "reach_channel", [c.label(lang) for c in result.config.channels]),
        ("by_group", "reach_group", [segment_label(k) for k in PICKABLE_GROUPS]),
    ]
    heads = [*COUNTS, *RATES]
    row = TOP
    for title, key, names in blocks:
        grid.text(row - 1, left, TEXT(title), styles["section"])
        grid.text(row, left, HEADINGS(key), styles["header"])
        for j, head in enumerate(heads):
            grid.text(row, left + 1 + j, HEADINGS(head), styles["header"])
        for i, name in enumerate(names):
            r = row + 1 + i
            grid.text(r, left, name, styles["label"])
            sums: dict[str, float] = {}
            for j, count in enumerate(COUNTS):
                total = sum(_number(v.get(count)) or 0.0 for v in rows if v.get(key) == name)
                sums[count] = total
                grid.formula(r, left + 1 + j, f"=SUMIFS({area(count)},{area(key)},{grid.ref(r, left, sheet=False)})",
                             total, styles["money" if count == "reach_cost" else "int"])
            for j, head in enumerate(RATES):
                num, den = RATE_PARTS[head]
                cells = {k: grid.ref(r, left + 1 + COUNTS.index(k), sheet=False) for k in (num, den)}
                grid.formula(r, left + 1 + len(COUNTS) + j, rate_formula(cells[num], cells[den]),
                             rate(sums[num], sums[den]), styles["money" if head == "reach_cost_per_user" else "pct"])
        row = row + len(names) + 4
    grid.ws.set_column(left, left, 16)
    grid.ws.set_column(left + 1, left + len(heads), 10)


# --------------------------------------------------------------------------- reading it back (tagger refresh)

# Input headings → the tracking field each carries (history.TRACKING_FIELDS).
REACH_FIELDS = {f"reach_{name}": name for name in TRACKING_FIELDS}


def find_header(head: list[tuple[Any, ...]]) -> Header | None:
    """The heading row of a 触达跟踪 table among a sheet's first rows (either language), or None."""
    return header_row(head, [spellings(k) for k in ("reach_date", "reach_group", "reach_channel", "reach_content")])


def _table_span(names: list[str], first: int) -> range:
    """Columns of the table that starts at ``first``: up to the first empty heading (summaries sit beyond)."""
    stop = first
    while stop < len(names) and names[stop]:
        stop += 1
    return range(first, stop)


def read(ws: Any, header: Header, config: Config) -> list[dict[str, Any]]:
    """Rows of 触达跟踪 as dicts (date, group, channel, content, numbers, extra columns by heading).

    Only the table under the header is read (a summary beside it, after an empty
    column, is the writer's, not ops'). Every row with a date, group, channel or
    content is carried, pre-filled playbook rows included: the writer writes
    exactly the carried rows, so ops' deletions and edits of those rows stick.
    """
    index, names = header
    headings = [cell_text(c) for c in list(ws.iter_rows(min_row=index + 1, max_row=index + 1))[0]]
    date_col = find(names, spellings("reach_date"))
    span = _table_span(names, date_col if date_col is not None else 0)
    known: dict[int, str] = {}
    for key in (*REACH_FIELDS, *RATES):  # a rate is recreated as a formula, never carried
        col = find([n if i in span else "" for i, n in enumerate(names)], spellings(key))
        if col is not None:
            known[col] = REACH_FIELDS.get(key, "")
    rows = []
    for row in ws.iter_rows(min_row=index + 2, max_col=span.stop):
        entry = _reach_entry(row, span, known, headings)
        filled = any(entry.get(k) for k in ("date", "group", "channel", "content"))
        if not filled or normalize_header(entry.get("channel")) in spellings("reach_channel"):
            continue
        entry["key"] = reach_key(entry, config)
        rows.append(entry)
    return rows


def _reach_entry(row: tuple[Any, ...], span: range, known: dict[int, str], headings: list[str]) -> dict[str, Any]:
    entry: dict[str, Any] = {"extra": {}}
    for col in span:
        cell = row[col] if col < len(row) else None
        if cell is None or getattr(cell, "value", None) is None:
            continue
        name = known.get(col)
        if name == "":
            continue  # a rate the writer recreates as a formula
        if name in TRACKING_NUMBERS:
            value = cell.value
            entry[name] = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        elif name == "date":
            entry[name] = day_text(cell.value)
        elif name is not None:
            entry[name] = cell_text(cell)
        elif col < len(headings) and headings[col]:
            entry["extra"][headings[col]] = cell_text(cell)
    return entry
