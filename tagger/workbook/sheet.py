"""The contract every sheet of the workbook keeps: one context in, what it publishes out.

A sheet is a :class:`Sheet`: its key, the tabs it has for a result (none when the run
has nothing for it, several for 用户明细 past a million rows or one per group), and a
writer ``write(ctx, ws, tab)``. The writer reads everything it needs from the
:class:`SheetContext` (workbook, styles, result, the Users plan, the forecast plan, the
cells sheets written before it published) and returns a :class:`Published` or ``None``:
cell references later sheets build on, and row blocks streamed into the file by
:func:`tagger.workbook.rowxml.splice` after xlsxwriter closes. ``tagger.workbook.SHEETS``
lists them in tab order; ``sheet_order()`` and the writer both walk that one list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tagger.workbook.rowxml import SheetRows

if TYPE_CHECKING:
    from xlsxwriter.worksheet import Worksheet

    from tagger.pipeline import TagResult
    from tagger.progress import Progress
    from tagger.workbook.forecast_sheet import Plan as ForecastPlan
    from tagger.workbook.overview import OverviewCells
    from tagger.workbook.styles import Styles
    from tagger.workbook.users import UsersPlan


@dataclass(frozen=True)
class Tab:
    """One worksheet of a sheet: its name and which part it holds (a group key, a Users row range)."""

    name: str
    part: Any = None


@dataclass
class Published:
    """What a sheet hands on: cells later sheets refer to, and rows streamed in at the end."""

    cells: Any = None
    rows: list[SheetRows] = field(default_factory=list)


@dataclass
class SheetContext:
    """Everything a sheet writer may read; built once, before the first sheet is added."""

    workbook: Any
    styles: Styles
    result: TagResult
    users: UsersPlan
    forecast: ForecastPlan
    groups: list[str]
    progress: Progress
    published: dict[str, Any] = field(default_factory=dict)  # sheet key -> its Published.cells

    @property
    def overview(self) -> OverviewCells:
        """The 总览 cells (counts, MAU, rates) the forecast and preference sheets start from."""
        return self.published["overview"]


@dataclass(frozen=True)
class Page:
    """Print setup: landscape, fitted one page wide; ``paper`` 9 is A4 (None keeps the printer's)."""

    paper: int | None = None

    def apply(self, ws: Worksheet) -> None:
        ws.set_landscape()
        if self.paper is not None:
            ws.set_paper(self.paper)
        ws.fit_to_pages(1, 0)


A4 = Page(paper=9)
LANDSCAPE = Page()

Writer = Callable[[SheetContext, "Worksheet", Tab], "Published | None"]


@dataclass(frozen=True)
class Sheet:
    """One sheet of the workbook.

    ``rank`` orders the *filling* where it differs from the tab order (lower first): the
    Users sheet is laid out first and 参数 defines the names every formula uses before
    the sheets that use them, as the workbook has always been written.
    """

    key: str
    tabs: Callable[[TagResult], list[Tab]]
    write: Writer
    rank: int = 2
    page: Page | None = None


def single(name: Callable[[], str], when: Callable[[TagResult], bool] | None = None
           ) -> Callable[[TagResult], list[Tab]]:
    """Tabs of a one-tab sheet: its (translated) name, when ``when`` holds for the result."""
    def tabs(result: TagResult) -> list[Tab]:
        return [Tab(name())] if when is None or when(result) else []
    return tabs
