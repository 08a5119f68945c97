"""The Users sheet (用户明细): every input column, then the tags.

Written row by row in xlsxwriter's ``constant_memory`` mode so a million-row
export stays under ~1.5 GB. IDs and every text cell go through ``write_string``
(user data is never a formula or a link); the parsed date columns are written as
real dates. Past Excel's 1,048,576 rows the sheet continues on ``用户明细(2)``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from xlsxwriter.worksheet import Worksheet

from tagger.segments import label as segment_label
from tagger.workbook.labels import HEADINGS, SHEETS
from tagger.workbook.styles import Styles

if TYPE_CHECKING:
    from tagger.pipeline import Progress, TagResult

EXCEL_MAX_ROWS = 1_048_576
EPOCH = np.datetime64("1899-12-30T00:00:00", "s")


def excel_serials(dates: pd.Series) -> list[float | None]:
    """Dates as Excel serial numbers (None for missing), computed for the whole column at once."""
    values = dates.to_numpy(dtype="datetime64[s]")
    serials = (values - EPOCH) / np.timedelta64(1, "D")
    return [None if np.isnan(s) else float(s) for s in serials]


def _cell_writer(ws: Worksheet, styles: Styles) -> Callable[[int, int, Any], None]:
    text = styles["text"]
    date = styles["date"]

    def write(row: int, col: int, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, str):
            if value:
                ws.write_string(row, col, value, text)
        elif isinstance(value, bool):
            ws.write_boolean(row, col, value)
        elif isinstance(value, (int, float, np.integer, np.floating)):
            if not (isinstance(value, float) and np.isnan(value)):
                ws.write_number(row, col, float(value))
        elif isinstance(value, (dt.datetime, dt.date)):
            ws.write_datetime(row, col, value, date)
        else:
            ws.write_string(row, col, str(value), text)

    return write


def user_columns(result: "TagResult") -> tuple[list[str], list[list[Any]], list[str]]:
    """Headings, column values and kinds (``text``/``date``/``auto``) of the Users sheet."""
    raw = result.table.frame
    mapping = result.users.mapping
    frame = result.users.frame
    by_header = {header: field for field, header in mapping.items()}
    headings: list[str] = []
    columns: list[list[Any]] = []
    kinds: list[str] = []
    for header in raw.columns:
        field = by_header.get(header)
        headings.append(str(header))
        if field == "user_id":
            columns.append([v if isinstance(v, str) else i for v, i in zip(raw[header], frame["user_id"])])
            kinds.append("text")
        elif field in ("register_date", "last_active_date", "prev_active_date"):
            columns.append(excel_serials(frame[field]))
            kinds.append("date")
        else:
            columns.append(raw[header].tolist())
            kinds.append("auto")
    tags = result.tags
    segment_names = {key: segment_label(key) for key in tags["segment"].unique()}
    group_names = {key: segment_label(key) for key in tags["group"].unique()}
    headings += [HEADINGS("segment"), HEADINGS("group"), HEADINGS("tags"), HEADINGS("primary")]
    columns += [
        tags["segment"].map(segment_names).tolist(),
        tags["group"].map(group_names).tolist(),
        tags["tags"].tolist(),
        tags["primary"].tolist(),
    ]
    kinds += ["text"] * 4
    return headings, columns, kinds


def sheet_names(rows: int) -> Iterator[tuple[str, int, int]]:
    """(name, first, stop) for each Users sheet needed to hold ``rows`` data rows."""
    per_sheet = EXCEL_MAX_ROWS - 1
    base = SHEETS("users")
    for part, start in enumerate(range(0, max(rows, 1), per_sheet)):
        yield (base if part == 0 else f"{base}({part + 1})"), start, min(start + per_sheet, rows)


def write_users(workbook: Any, styles: Styles, result: "TagResult", progress: "Progress") -> list[str]:
    """Write the Users sheet(s); returns the sheet names used."""
    headings, columns, kinds = user_columns(result)
    rows = len(result.tags)
    names = []
    for name, start, stop in sheet_names(rows):
        ws = workbook.add_worksheet(name)
        names.append(name)
        _write_part(ws, styles, headings, columns, kinds, start, stop, progress)
    return names


def _write_part(ws: Worksheet, styles: Styles, headings: list[str], columns: list[list[Any]], kinds: list[str],
                start: int, stop: int, progress: "Progress") -> None:
    text, date, header = styles["text"], styles["date"], styles["header"]
    write_auto = _cell_writer(ws, styles)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(stop - start, 1), len(headings) - 1)
    for col, (heading, kind) in enumerate(zip(headings, kinds)):
        width = 20 if kind == "date" else min(max(len(heading) * 2 + 2, 10), 40)
        ws.set_column(col, col, width)
        ws.write_string(0, col, heading, header)
    write_string, write_number = ws.write_string, ws.write_number
    for i in range(start, stop):
        row = i - start + 1
        for col, kind in enumerate(kinds):
            value = columns[col][i]
            if value is None or value == "":
                continue
            if kind == "text":
                write_string(row, col, value, text)
            elif kind == "date":
                write_number(row, col, value, date)
            else:
                write_auto(row, col, value)
        if row % 10_000 == 0:
            progress.advance(10_000)
    progress.advance((stop - start) % 10_000)
