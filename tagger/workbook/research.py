"""The 用户调研 (Research) sheet: the users drawn for user research, with a place to type the answers.

``tagger contacts --research N`` draws a seeded sample of a group (the article's
无开车无APP活跃: 重点进行用户调研) and stores it in history. A refresh writes the sample
here with the answers and reasons typed so far; ``tagger refresh`` reads the two
input columns back by heading (:func:`tagger.refresh.read_last_workbook`), stores them
in history, and 复盘 counts the users per answer and per reason. Everything on the
sheet is data: typed text is written back as text, never as a formula.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from tagger.columns import normalize_header
from tagger.errors import Location
from tagger.i18n import LANGUAGES, Catalog
from tagger.segments import GROUPS, SEGMENTS
from tagger.segments import label as segment_label
from tagger.values import normalize_id, parse_ids
from tagger.vocabulary import word
from tagger.workbook.grid import Grid
from tagger.workbook.readback import Header, cell_text, find, header_row

if TYPE_CHECKING:
    from tagger.workbook.sheet import SheetContext, Tab

SHEETS = Catalog("research_sheet_name", {"research": {"zh": "用户调研", "en": "Research"}})

TEXT = Catalog(
    "research_sheet",
    {
        "research_month": {"zh": "数据月份", "en": "Data month"},
        "research_user": word("user_id"),
        "research_group": {"zh": "抽样分群", "en": "Sampled group"},
        "research_drawn": {"zh": "抽样日期", "en": "Drawn on"},
        "research_answer": word("answer"),
        "research_reason": word("reason"),
        "title": {"zh": "用户调研：抽样用户的调研结果与原因（黄色列可填写，tagger refresh 会带入并在复盘中汇总）",
                  "en": "User research: the answers and reasons of the drawn users (type in the yellow columns; "
                        "tagger refresh carries them and Review counts them)"},
    },
)
# Columns in sheet order; the last two are the inputs refresh reads back.
COLUMNS = ("research_month", "research_user", "research_group", "research_drawn", "research_answer",
           "research_reason")
INPUTS = ("research_answer", "research_reason")
HEADER_ROW = 2


def _group_text(key: object) -> str:
    return segment_label(str(key)) if key in (*GROUPS, *SEGMENTS) else str(key or "")


def _day(value: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def write_research(ctx: SheetContext, ws: Any, tab: Tab) -> None:
    """One row per drawn user: month, ID, group, date drawn (data), answer and reason (inputs)."""
    styles, result = ctx.styles, ctx.result
    frame: pd.DataFrame = result.research
    grid = Grid(ws, SHEETS("research"))
    grid.text(0, 0, TEXT("title"), styles["title"])
    for col, key in enumerate(COLUMNS):
        grid.text(HEADER_ROW, col, TEXT(key), styles["header_input" if key in INPUTS else "header"])
        ws.set_column(col, col, 36 if key in INPUTS else 18)
    for row, record in enumerate(frame.to_dict("records"), start=HEADER_ROW + 1):
        grid.text(row, 0, str(record.get("month") or ""), styles["text"])
        grid.text(row, 1, str(record.get("user_id") or ""), styles["text"])
        grid.text(row, 2, _group_text(record.get("group")), styles["text"])
        drawn = _day(record.get("drawn"))
        if drawn is not None:
            ws_date = dt.datetime.combine(drawn, dt.time())
            grid.number(row, 3, (ws_date - dt.datetime(1899, 12, 30)).days, styles["day"])
        grid.text(row, 4, str(record.get("answer") or ""), styles["input_text"])
        grid.text(row, 5, str(record.get("reason") or ""), styles["input_text"])
    ws.freeze_panes(HEADER_ROW + 1, 2)
    grid.flush()



# --------------------------------------------------------------------------- reading it back (tagger refresh)

READ_KEYS = ("research_month", "research_user", "research_answer", "research_reason")


def _spellings(key: str) -> set[str]:
    return {normalize_header(TEXT(key, lang)) for lang in LANGUAGES}


def find_header(head: list[tuple[Any, ...]]) -> Header | None:
    """The heading row of a 用户调研 table among a sheet's first rows (either language), or None."""
    return header_row(head, [_spellings(k) for k in READ_KEYS])


def read(ws: Any, header: Header, path: Path) -> tuple[pd.DataFrame, list[Location]]:
    """The answers and reasons typed on 用户调研: month, user_id, answer, reason (found by heading).

    Rows keep whatever order ops sorted them into; text stays text (``cell_text``).
    An ID Excel turned into a rounded number is skipped; its cell is returned so the
    caller warns as it does for the Users sheet.
    """
    index, names = header
    cols = {key: find(names, _spellings(key)) for key in READ_KEYS}
    records, lossy_rows = [], []
    for excel_row, row in enumerate(ws.iter_rows(min_row=index + 2), start=index + 2):
        values = {key: cell_text(row[c]) if c is not None and c < len(row) else "" for key, c in cols.items()}
        if not values["research_user"] or not values["research_month"]:
            continue
        raw_id = getattr(row[cols["research_user"]], "value", None) if cols["research_user"] is not None else None
        ids, _, lossy = parse_ids(pd.Series([raw_id], dtype=object))
        if lossy.iloc[0]:
            lossy_rows.append(Location(path, ws.title, excel_row))
            continue
        records.append({"month": values["research_month"], "user_id": normalize_id(ids.iloc[0]),
                        "answer": values["research_answer"], "reason": values["research_reason"]})
    return pd.DataFrame(records, columns=["month", "user_id", "answer", "reason"]), lossy_rows


__all__ = ["SHEETS", "TEXT", "COLUMNS", "INPUTS", "write_research", "find_header", "read"]
