"""Named cell formats, kept as plain data so they can be reviewed in one place."""

from __future__ import annotations

from typing import Any

from xlsxwriter.format import Format
from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

HEADER_FILL = "#1F4E78"
FORMATS: dict[str, dict[str, Any]] = {
    "header": {"bold": True, "font_color": "#FFFFFF", "bg_color": HEADER_FILL, "border": 1,
               "text_wrap": True, "valign": "vcenter"},
    "title": {"bold": True, "font_size": 14},
    "section": {"bold": True, "font_size": 11, "bottom": 2},
    "text": {"num_format": "@", "quote_prefix": True},
    "date": {"num_format": "yyyy-mm-dd hh:mm:ss"},
    "day": {"num_format": "yyyy-mm-dd"},
    "int": {"num_format": "#,##0"},
    "pct": {"num_format": "0.00%"},
    "ratio": {"num_format": "0.00"},
    "tag": {"bg_color": "#E2EFDA"},
    # Headers of computed (formula) and editable columns, and the editable cells themselves.
    "header_computed": {"bold": True, "font_color": "#FFFFFF", "bg_color": "#375623", "border": 1,
                        "text_wrap": True, "valign": "vcenter"},
    "header_input": {"bold": True, "font_color": "#000000", "bg_color": "#FFD966", "border": 1,
                     "text_wrap": True, "valign": "vcenter"},
    "input": {"bg_color": "#FFF2CC"},
    "input_int": {"bg_color": "#FFF2CC", "num_format": "#,##0", "border": 1, "border_color": "#BFBFBF"},
    "input_pct": {"bg_color": "#FFF2CC", "num_format": "0.00%", "border": 1, "border_color": "#BFBFBF"},
    "input_day": {"bg_color": "#FFF2CC", "num_format": "yyyy-mm-dd", "border": 1, "border_color": "#BFBFBF"},
    "input_month": {"bg_color": "#FFF2CC", "num_format": "yyyy-mm", "border": 1, "border_color": "#BFBFBF"},
    "input_text": {"bg_color": "#FFF2CC", "border": 1, "border_color": "#BFBFBF", "text_wrap": True,
                   "valign": "top"},
    "input_money": {"bg_color": "#FFF2CC", "num_format": "#,##0.00", "border": 1, "border_color": "#BFBFBF"},
    "center": {"align": "center"},
    "label": {"bold": True},
    "small": {"font_size": 8, "font_color": "#595959"},
    "label_top": {"bold": True, "valign": "top"},
    "wrap": {"text_wrap": True, "valign": "top"},
    "money": {"num_format": "#,##0.00"},
    "num1": {"num_format": "#,##0.0"},
    "month": {"num_format": "yyyy-mm", "align": "left"},
    "total_int": {"num_format": "#,##0", "bold": True, "top": 1},
    "total_pct": {"num_format": "0.00%", "bold": True, "top": 1},
    "total_label": {"bold": True, "top": 1},
    "signed_pct": {"num_format": "+0.00%;-0.00%"},
    # Conditional formats of a live gap cell: red below target, green at or above.
    "below_target": {"font_color": "#C00000", "bold": True},
    "on_target": {"font_color": "#375623"},
    "subtitle": {"italic": True, "font_color": "#595959"},
    "note": {"italic": True, "font_color": "#595959", "text_wrap": True, "valign": "top"},
}


class Styles:
    """Formats created once per workbook and looked up by name."""

    def __init__(self, workbook: Workbook) -> None:
        self._formats = {name: workbook.add_format(spec) for name, spec in FORMATS.items()}

    def __getitem__(self, name: str) -> Format:
        return self._formats[name]


def colour_gap(ws: Worksheet, styles: Styles, first_row: int, col: int, last_row: int | None = None) -> None:
    """Colour gap-to-target cells red below target and green at or above it.

    The gaps are live formulas, so the colour is a conditional format that follows an
    edit, not a fixed font colour; the rule names the range's first cell relatively, so
    Excel applies it row by row.
    """
    ref = xl_rowcol_to_cell(first_row, col)
    for test, fmt in ((f"{ref}<0", "below_target"), (f"{ref}>=0", "on_target")):
        ws.conditional_format(first_row, col, first_row if last_row is None else last_row, col,
                              {"type": "formula", "criteria": f"=AND(ISNUMBER({ref}),{test})", "format": styles[fmt]})
