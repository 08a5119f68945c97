"""The workbook tagger writes: one module per sheet, one function that writes them all.

Sheets, in order: 总览, 目标拆解, 用户明细 (+ 用户明细(2)… past a million rows), one strategy
sheet per group, 偏好分析, 分群流转, 价值分层 (with ``[value_layers]``), 触达跟踪, 参数, 说明 (and
未匹配人工标注 when a refresh carried overrides it could not place, 预警/复盘 when a refresh computed
them, and 用户调研 when history holds a research sample). Sheets are added in that order first, because
formulas name sheets that are filled later; ``constant_memory`` only needs each sheet's own
rows in order.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import xlsxwriter

from tagger.files import atomic_output
from tagger.progress import SilentProgress
from tagger.workbook.alerts import SHEET_NAMES as REPORT_SHEETS
from tagger.workbook.alerts import write_alerts, write_review
from tagger.workbook.analysis import write_preferences, write_transitions
from tagger.workbook.forecast_sheet import plan as plan_forecast
from tagger.workbook.forecast_sheet import write_forecast
from tagger.workbook.groups import sheet_name, write_group_sheet
from tagger.workbook.labels import SHEETS
from tagger.workbook.layers import write_layers
from tagger.workbook.notes import write_notes
from tagger.workbook.overview import shown_groups, write_overview
from tagger.workbook.params import write_params
from tagger.workbook.reach import write_reach
from tagger.workbook.research import SHEET as RESEARCH_SHEET
from tagger.workbook.research import write_research
from tagger.workbook.rowxml import SheetRows, splice
from tagger.workbook.styles import Styles
from tagger.workbook.unmatched import write_unmatched
from tagger.workbook.users import plan_users, write_users

if TYPE_CHECKING:
    from tagger.pipeline import TagResult
    from tagger.progress import Progress

WORKBOOK_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}
SUMMARY_SHEETS = ("overview", "forecast", "prefs", "transitions", "reach", "params", "notes")


def sheet_order(result: "TagResult") -> list[str]:
    """Names of the sheets ``write_workbook`` writes for ``result``, in order."""
    from tagger.workbook.users import sheet_names

    names = [SHEETS("overview"), SHEETS("forecast"), *(n for n, _, _ in sheet_names(len(result.tags)))]
    names += [sheet_name(g) for g in shown_groups(result)]
    names += [SHEETS(k) for k in ("prefs", "transitions", *_layers(result), "reach", "params", "notes")]
    names += [REPORT_SHEETS(k) for k in _reports(result)]
    if _has_research(result):
        names.append(RESEARCH_SHEET("research"))
    if result.carried is not None and len(result.carried.unmatched):
        names.append(SHEETS("unmatched"))
    return names


def _layers(result: "TagResult") -> list[str]:
    """The 价值分层 sheet, with ``[value_layers]`` only."""
    return ["value_layers"] if "value_layer" in result.tags else []


def _reports(result: "TagResult") -> list[str]:
    """The refresh-only sheets (预警, 复盘) this result carries."""
    return [k for k in ("alerts", "review") if getattr(result, k, None) is not None]


def _has_research(result: "TagResult") -> bool:
    research = getattr(result, "research", None)
    return research is not None and len(research) > 0


def write_workbook(result: "TagResult", path: Path, progress: "Progress | None" = None) -> Path:
    """Write the tagged workbook to ``path`` (atomically, backing up an existing file)."""
    progress = progress or SilentProgress()
    with atomic_output(Path(path)) as temp, tempfile.TemporaryDirectory(prefix="tagger-") as work:
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


def _write_all(workbook: Any, result: "TagResult", progress: "Progress") -> list[SheetRows]:
    """Every sheet but the big row blocks, which are returned to be streamed in by :func:`rowxml.splice`."""
    styles = Styles(workbook)
    plan = plan_users(result)
    forecast = plan_forecast(result)  # before the Users sheet: a target period out of reach fails fast
    groups = shown_groups(result)
    sheets = {key: workbook.add_worksheet(SHEETS(key)) for key in ("overview", "forecast")}
    streams = write_users(workbook, styles, plan, progress)
    group_sheets = {g: workbook.add_worksheet(sheet_name(g)) for g in groups}
    summary = [k for k in SUMMARY_SHEETS if k not in sheets]
    after = summary.index("transitions") + 1  # 价值分层 sits beside the other analysis sheets
    summary = [*summary[:after], *_layers(result), *summary[after:]]
    sheets.update({key: workbook.add_worksheet(SHEETS(key)) for key in summary})
    reports = {k: workbook.add_worksheet(REPORT_SHEETS(k)) for k in _reports(result)}
    research = workbook.add_worksheet(RESEARCH_SHEET("research")) if _has_research(result) else None
    unmatched = None
    if result.carried is not None and len(result.carried.unmatched):
        unmatched = workbook.add_worksheet(SHEETS("unmatched"))

    write_params(workbook, sheets["params"], styles, result)
    cells = write_overview(sheets["overview"], styles, result, plan, workbook)
    write_forecast(workbook, sheets["forecast"], styles, result, cells, forecast)
    for group, ws in group_sheets.items():
        streams.append(write_group_sheet(workbook, ws, styles, result, plan, group))
    write_preferences(workbook, sheets["prefs"], styles, result, plan, groups, cells.groups, cells.cumulative)
    write_transitions(sheets["transitions"], styles, result, plan, groups)
    if "value_layers" in sheets:
        write_layers(sheets["value_layers"], styles, result, plan, groups)
    write_reach(sheets["reach"], styles, result)
    write_notes(sheets["notes"], styles, result)
    if "alerts" in reports:
        write_alerts(reports["alerts"], styles, result)
    if "review" in reports:
        write_review(reports["review"], styles, result)
    if research is not None:
        write_research(research, styles, result)
    if unmatched is not None:
        write_unmatched(unmatched, styles, result)
    for key in SUMMARY_SHEETS:
        ws = sheets[key]
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
    for ws in group_sheets.values():
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
    sheets["overview"].activate()
    return streams


__all__ = ["write_workbook", "sheet_order", "WORKBOOK_OPTIONS"]
