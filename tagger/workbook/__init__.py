"""The workbook tagger writes: one module per sheet, one list of them, one function that writes them all.

:data:`SHEETS`, in tab order: 总览, 目标拆解, 用户明细 (+ 用户明细(2)… past a million rows), one
strategy sheet per group, 偏好分析, 分群流转, 价值分层 (with ``[value_layers]``), 触达跟踪, 参数,
说明, then 预警/复盘 when a refresh computed them, 用户调研 when history holds a research sample
and 未匹配人工标注 when a refresh carried overrides it could not place. Every sheet keeps the
contract of :mod:`tagger.workbook.sheet`; :func:`sheet_order` and the writer both walk the list.
All tabs are added first, because formulas name sheets that are filled later;
``constant_memory`` only needs each sheet's own rows in order.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import xlsxwriter

from tagger.files import atomic_output
from tagger.i18n import language
from tagger.progress import SilentProgress
from tagger.workbook import groups, users
from tagger.workbook.alerts import SHEETS as REPORT_SHEETS
from tagger.workbook.alerts import write_alerts, write_review
from tagger.workbook.analysis import write_preferences, write_transitions
from tagger.workbook.forecast_sheet import plan as plan_forecast
from tagger.workbook.forecast_sheet import write_forecast
from tagger.workbook.labels import SHEETS as SHEET_NAMES
from tagger.workbook.layers import write_layers
from tagger.workbook.notes import write_notes
from tagger.workbook.overview import shown_groups, write_overview
from tagger.workbook.params import write_params
from tagger.workbook.reach import write_reach
from tagger.workbook.research import SHEETS as RESEARCH_SHEET
from tagger.workbook.research import write_research
from tagger.workbook.rowxml import SheetRows, splice
from tagger.workbook.sheet import A4, LANDSCAPE, Sheet, SheetContext, Tab, single
from tagger.workbook.styles import Styles
from tagger.workbook.unmatched import write_unmatched

if TYPE_CHECKING:
    from tagger.pipeline import TagResult
    from tagger.progress import Progress

WORKBOOK_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}


def _has_layers(result: TagResult) -> bool:
    """价值分层 only with ``[value_layers]``."""
    return "value_layer" in result.tags


def _has_research(result: TagResult) -> bool:
    research = getattr(result, "research", None)
    return research is not None and len(research) > 0


def _has_unmatched(result: TagResult) -> bool:
    """未匹配人工标注 when a refresh carried overrides for users this export does not hold."""
    return result.carried is not None and len(result.carried.unmatched) > 0


def _named(key: str) -> Callable[[], str]:
    return lambda: SHEET_NAMES(key)


def _report(key: str) -> Callable[[TagResult], list[Tab]]:
    """The refresh-only sheets (预警, 复盘), when the result carries them."""
    return single(lambda: REPORT_SHEETS(key), lambda result: getattr(result, key, None) is not None)


# Every sheet, in tab order. Formulas name sheets that are filled later, so all tabs are
# added first, then filled by rank and this order.
SHEETS: tuple[Sheet, ...] = (
    Sheet("overview", single(_named("overview")), write_overview, page=A4),
    Sheet("forecast", single(_named("forecast")), write_forecast, page=A4),
    Sheet("users", users.tabs, users.write_users, rank=0),
    Sheet("groups", groups.tabs, groups.write_group_sheet, page=LANDSCAPE),
    Sheet("prefs", single(_named("prefs")), write_preferences, page=A4),
    Sheet("transitions", single(_named("transitions")), write_transitions, page=A4),
    Sheet("value_layers", single(_named("value_layers"), _has_layers), write_layers),
    Sheet("reach", single(_named("reach")), write_reach, page=A4),
    Sheet("params", single(_named("params")), write_params, rank=1, page=A4),
    Sheet("notes", single(_named("notes")), write_notes, page=A4),
    Sheet("alerts", _report("alerts"), write_alerts),
    Sheet("review", _report("review"), write_review),
    Sheet("research", single(lambda: RESEARCH_SHEET("research"), _has_research), write_research),
    Sheet("unmatched", single(_named("unmatched"), _has_unmatched), write_unmatched),
)


def sheet_order(result: TagResult) -> list[str]:
    """Names of the sheets ``write_workbook`` writes for ``result``, in order (in the run's language)."""
    with language(result.lang):
        return [tab.name for sheet in SHEETS for tab in sheet.tabs(result)]


def write_workbook(result: TagResult, path: Path, progress: Progress | None = None) -> Path:
    """Write the tagged workbook to ``path`` (atomically, backing up an existing file)."""
    progress = progress or SilentProgress()
    with language(result.lang), atomic_output(Path(path)) as temp, \
            tempfile.TemporaryDirectory(prefix="tagger-") as work:
        package = Path(work) / "package.xlsx"
        workbook = xlsxwriter.Workbook(str(package), {**WORKBOOK_OPTIONS, "tmpdir": work})
        # Every formula carries the value Python computed (tests/test_recalc.py checks them
        # all), so opening the file need not recalculate a million rows first.
        workbook.calc_on_load = False
        written = datetime.now()
        workbook.set_properties({"title": f"tagger {result.month}", "created": written})
        result.written_at = written.isoformat(timespec="microseconds")
        for name, value in result.workbook_record().items():  # which run wrote it: see tagger.refresh
            if name != "path":
                workbook.set_custom_property(f"tagger_{name}", value)
        streams = _write_all(workbook, result, progress)
        workbook.close()
        splice(package, temp, streams)
    return Path(path)


def sheet_context(workbook: Any, result: TagResult, progress: Progress | None = None) -> SheetContext:
    """The context every sheet of ``result`` is written with (the Users plan, the forecast plan, the groups)."""
    plan = users.plan_users(result)
    forecast = plan_forecast(result)  # before any sheet: a target period out of reach fails fast
    return SheetContext(workbook, Styles(workbook), result, plan, forecast, shown_groups(result),
                        progress or SilentProgress())


def _write_all(workbook: Any, result: TagResult, progress: Progress) -> list[SheetRows]:
    """Every sheet of :data:`SHEETS` but the big row blocks, which are returned to be streamed in by
    :func:`rowxml.splice`."""
    ctx = sheet_context(workbook, result, progress)
    added = [(sheet, tab, workbook.add_worksheet(tab.name)) for sheet in SHEETS for tab in sheet.tabs(result)]
    streams: list[SheetRows] = []
    for sheet, tab, ws in sorted(added, key=lambda item: item[0].rank):  # stable: tab order within a rank
        published = sheet.write(ctx, ws, tab)
        if published is not None:
            streams.extend(published.rows)
            if published.cells is not None:
                ctx.published[sheet.key] = published.cells
        if sheet.page is not None:
            sheet.page.apply(ws)
    return streams


__all__ = ["write_workbook", "sheet_order", "sheet_context", "SHEETS", "WORKBOOK_OPTIONS"]
