"""The workbook tagger writes: one module per sheet, one function that writes them all."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import xlsxwriter

from tagger.files import atomic_output
from tagger.workbook.overview import write_overview
from tagger.workbook.styles import Styles
from tagger.workbook.users import write_users

if TYPE_CHECKING:
    from tagger.pipeline import Progress, TagResult

WORKBOOK_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}


def write_workbook(result: "TagResult", path: Path, progress: "Progress | None" = None) -> Path:
    """Write the tagged workbook to ``path`` (atomically, backing up an existing file)."""
    from tagger.pipeline import _Silent

    progress = progress or _Silent()
    with atomic_output(Path(path)) as temp:
        workbook = xlsxwriter.Workbook(str(temp), WORKBOOK_OPTIONS)
        workbook.set_properties({"title": f"tagger {result.month}", "created": datetime.now()})
        styles = Styles(workbook)
        write_overview(workbook, styles, result)
        write_users(workbook, styles, result, progress)
        workbook.close()
    return Path(path)


__all__ = ["write_workbook", "WORKBOOK_OPTIONS"]
