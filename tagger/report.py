"""Rich renderables for the terminal: the run summary and JSON output.

Takes a :class:`rich.console.Console` so tests can record what a person would see.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tagger.i18n import Catalog
from tagger.metrics import RATE_BASES, segment_count
from tagger.segments import GROUPS, SEGMENTS, UNSPLIT, UNSPLIT_PARTS
from tagger.segments import label as segment_label
from tagger.vocabulary import word

if TYPE_CHECKING:
    from tagger.pipeline import TagResult

TEXT = Catalog(
    "report",
    {
        "title": {"zh": "{month} 用户分群（{rows} 行）", "en": "Segments for {month} ({rows} rows)"},
        "segment": word("segment"),
        "users": word("users"),
        "share": word("share"),
        "kpi_title": {"zh": "月活与4大指标", "en": "Active rate and the 4 rates"},
        "metric": {"zh": "指标", "en": "Metric"},
        "value": word("value"),
        "detail": {"zh": "明细", "en": "Detail"},
        "mau": {"zh": "月活用户 MAU", "en": "MAU"},
        "cumulative": {"zh": "累计用户", "en": "Cumulative users"},
        "active_rate": word("active_rate"),
        "target": {"zh": "目标 / 差距", "en": "Target / gap"},
        "old_retention": word("old_retention"),
        "new_retention": word("new_retention"),
        "awaken_rate": word("awaken_rate"),
        "return_rate": word("return_rate"),
        "kpi_mtd": {"zh": "月活与4大指标（截至 {as_of}，本月未结束：均为月初至今的数）",
                    "en": "Active rate and the 4 rates (data up to {as_of}; the month is not over: month to date)"},
        "mtd": {"zh": "{label}（截至 {day} 日）", "en": "{label} (to day {day})"},
        "projected": {"zh": "预计月末月活率", "en": "Projected month-end rate"},
        "projected_detail": {"zh": "差距 {gap}；{model}", "en": "gap {gap}; {model}"},
        "calibrated": {"zh": "已校准", "en": "calibrated"},
        "uncalibrated": {"zh": "默认曲线，未校准", "en": "default curve, uncalibrated"},
        "clipped": {"zh": "，已按 100% 封顶", "en": ", held at 100 %"},
        "unknown": word("unknown"),
        "of": {"zh": "{kept} / {base}", "en": "{kept} of {base}"},
        "written": word("written"),
        "warning": word("warning"),
        "note": {"zh": "说明", "en": "Note"},
    },
)


def _pct(value: float | None) -> str:
    return TEXT("unknown") if value is None else f"{value:.2%}"


def summary_tables(result: TagResult) -> tuple[Table, Table]:
    """The segment table and the KPI table of a run."""
    m = result.metrics
    segments = Table(title=TEXT("title", month=m.month, rows=f"{m.rows:,}"), title_justify="left")
    segments.add_column(TEXT("segment"))
    segments.add_column(TEXT("users"), justify="right")
    segments.add_column(TEXT("share"), justify="right")
    keys = [k for k in SEGMENTS if k != "churned"] + ([UNSPLIT] if m.unsplit else [])
    keys += [g for g in GROUPS if g.startswith("churned") and m.groups.get(g)]
    for key in keys:
        count = segment_count(m, key)
        if count is None:
            segments.add_row(segment_label(key), TEXT("unknown"), "")
        else:
            segments.add_row(segment_label(key), f"{count:,}", _pct(count / m.cumulative if m.cumulative else None))

    return segments, _kpi_table(result)


def _gap_text(gap: float | None) -> str:
    style = "green" if gap is not None and gap >= 0 else "red"
    return f"[{style}]{gap:+.2%}[/]" if gap is not None else ""


def _kpi_table(result: TagResult) -> Table:
    """The KPIs; on a mid-month export every month-to-date figure says so, and the projection follows."""
    m, end = result.metrics, result.month_end
    mid = not end.month_complete
    as_of = end.as_of.strftime("%Y-%m-%d") if end.as_of is not None else ""

    def label(key: str) -> str:
        return TEXT("mtd", label=TEXT(key), day=end.day) if mid else TEXT(key)

    kpis = Table(title=TEXT("kpi_mtd", as_of=as_of) if mid else TEXT("kpi_title"), title_justify="left")
    kpis.add_column(TEXT("metric"))
    kpis.add_column(TEXT("value"), justify="right")
    kpis.add_column(TEXT("detail"), justify="right")
    kpis.add_row(label("mau"), f"{m.mau:,}", "")
    kpis.add_row(TEXT("cumulative"), f"{m.cumulative:,}", "")
    kpis.add_row(label("active_rate"), _pct(m.active_rate), "")
    kpis.add_row(label("target"), _pct(m.target), _gap_text(m.gap))
    if mid:
        model = TEXT("calibrated" if end.model.calibrated else "uncalibrated") + (TEXT("clipped") if end.clipped
                                                                                 else "")
        kpis.add_row(TEXT("projected"), _pct(end.projected_rate),
                     TEXT("projected_detail", gap=_gap_text(end.projected_gap), model=model))
    for rate in RATE_BASES:
        base, kept = m.bases[rate], m.retained[rate]
        detail = TEXT("of", kept=f"{kept:,}", base=f"{base:,}") if base is not None and kept is not None else ""
        kpis.add_row(label(rate), _pct(m.rates[rate]), detail)
    return kpis


def print_summary(result: TagResult, console: Console) -> None:
    """What a person sees after ``tagger tag``: tables, notes, warnings and the output path."""
    for table in summary_tables(result):
        console.print(table)
    for note in result.notes:
        console.print(f"[cyan]{TEXT('note')}:[/] {escape(note)}")
    for warning in result.warnings:
        console.print(f"[yellow]{TEXT('warning')}:[/] {escape(warning)}")
    if result.output:
        console.print(f"[bold green]{escape(TEXT('written', path=result.output))}[/]")


def result_json(result: TagResult) -> dict[str, Any]:
    """The one JSON object ``--json`` prints."""
    m = result.metrics
    segments: dict[str, int | None] = dict(m.segments)
    if m.unsplit:
        for key in UNSPLIT_PARTS:
            segments[key] = None
        segments[UNSPLIT] = m.unsplit
    end = result.month_end
    return {
        "month": m.month,
        "as_of": end.as_of.strftime("%Y-%m-%d") if end.as_of is not None else None,
        "month_complete": end.month_complete,
        "projection": {"active": end.projected_active, "active_rate": end.projected_rate, "gap": end.projected_gap,
                       "clipped": end.clipped, "alpha": end.model.alpha, "calibrated": end.model.calibrated,
                       "mean_abs_error": end.model.mean_abs_error},
        "rows": m.rows,
        "segments": segments,
        "groups": m.groups,
        "mau": m.mau,
        "cumulative": m.cumulative,
        "active_rate": m.active_rate,
        "target": m.target,
        "gap": m.gap,
        "rates": m.rates,
        "bases": m.bases,
        "quick_ratio": m.quick_ratio,
        "prev_state_source": result.prev_source,
        "output": str(result.output) if result.output else None,
        "history": str(result.history_path) if result.history_path else None,
        "notes": result.notes,
        "warnings": result.warnings,
    }


def dump_json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)
