"""Named cell formats, kept as plain data so they can be reviewed in one place."""

from __future__ import annotations

from typing import Any

from xlsxwriter.workbook import Workbook
from xlsxwriter.format import Format

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
    "note": {"italic": True, "font_color": "#595959", "text_wrap": True, "valign": "top"},
}


class Styles:
    """Formats created once per workbook and looked up by name."""

    def __init__(self, workbook: Workbook) -> None:
        self._formats = {name: workbook.add_format(spec) for name, spec in FORMATS.items()}

    def __getitem__(self, name: str) -> Format:
        return self._formats[name]
