"""The 未匹配人工标注 (Unmatched overrides) sheet: manual labels a refresh could not place.

When ``tagger refresh`` carries 人工标签/备注 from an earlier workbook and a user ID is no
longer in the export, the edit is listed here instead of being dropped silently.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tagger.workbook.grid import Grid
from tagger.workbook.labels import SHEETS

if TYPE_CHECKING:
    from tagger.workbook.sheet import SheetContext, Tab


def write_unmatched(ctx: SheetContext, ws: Any, tab: Tab) -> None:
    """Every carried row without a home, as text (IDs stay exact)."""
    styles, result = ctx.styles, ctx.result
    frame = result.carried.unmatched if result.carried is not None else None
    if frame is None:
        return
    grid = Grid(ws, SHEETS("unmatched"))
    for col, heading in enumerate(frame.columns):
        grid.text(0, col, str(heading), styles["header"])
        ws.set_column(col, col, 20)
    for i, values in enumerate(frame.itertuples(index=False), start=1):
        for col, value in enumerate(values):
            if value is not None and value == value and value != "":
                grid.text(i, col, str(value), styles["text"])
    ws.freeze_panes(1, 0)
    grid.flush()
