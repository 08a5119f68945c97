"""The Overview sheet (总览): segment counts, MAU, the active rate against the target and the 4 rates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tagger.metrics import RATE_BASES, identity_residual
from tagger.report import segment_count
from tagger.segments import GROUPS, SEGMENTS, UNSPLIT
from tagger.segments import label as segment_label
from tagger.workbook.labels import HEADINGS, SHEETS
from tagger.workbook.styles import Styles

if TYPE_CHECKING:
    from tagger.pipeline import TagResult


def write_overview(workbook: Any, styles: Styles, result: "TagResult") -> str:
    """Write the Overview sheet and return its name."""
    name = SHEETS("overview")
    ws = workbook.add_worksheet(name)
    m = result.metrics
    ws.set_column(0, 0, 34)
    ws.set_column(1, 4, 16)
    ws.write_string(0, 0, HEADINGS("title", month=m.month), styles["title"])

    row = 2
    ws.write_row(row, 0, [HEADINGS("segment_table"), HEADINGS("key"), HEADINGS("count"), HEADINGS("share")],
                 styles["header"])
    keys = [k for k in SEGMENTS if k != "churned"] + ([UNSPLIT] if m.unsplit else [])
    keys += [g for g in GROUPS if g.startswith("churned") and m.groups.get(g)]
    for key in keys:
        row += 1
        count = segment_count(m, key)
        ws.write_string(row, 0, segment_label(key))
        ws.write_string(row, 1, key)
        _number_or_unknown(ws, row, 2, count, styles["int"])
        _number_or_unknown(ws, row, 3, count / m.cumulative if count is not None and m.cumulative else None,
                           styles["pct"])

    row += 2
    ws.write_row(row, 0, [HEADINGS("kpi"), HEADINGS("value")], styles["header"])
    kpis: list[tuple[str, float | None, str]] = [
        ("mau", m.mau, "int"), ("cumulative", m.cumulative, "int"), ("active_rate", m.active_rate, "pct"),
        ("target", m.target, "pct"), ("gap", m.gap, "pct"), ("quick_ratio", m.quick_ratio, "ratio"),
    ]
    for key, value, fmt in kpis:
        row += 1
        ws.write_string(row, 0, HEADINGS(key))
        _number_or_unknown(ws, row, 1, value, styles[fmt])

    row += 2
    ws.write_string(row, 0, HEADINGS("rates"), styles["section"])
    row += 1
    ws.write_row(row, 0, [HEADINGS("rate"), HEADINGS("base"), HEADINGS("retained"), HEADINGS("value")],
                 styles["header"])
    for rate in RATE_BASES:
        row += 1
        ws.write_string(row, 0, HEADINGS(rate))
        _number_or_unknown(ws, row, 1, m.bases[rate], styles["int"])
        _number_or_unknown(ws, row, 2, m.retained[rate], styles["int"])
        _number_or_unknown(ws, row, 3, m.rates[rate], styles["pct"])
    residual = identity_residual(m)
    if residual not in (None, 0):
        row += 1
        ws.write_string(row, 0, f"MAU - (new + Σ) = {residual}", styles["note"])

    row += 2
    ws.write_string(row, 0, HEADINGS("notes"), styles["section"])
    for note in [*result.notes, *result.warnings]:
        row += 1
        ws.write_string(row, 0, note, styles["note"])
    return name


def _number_or_unknown(ws: Any, row: int, col: int, value: float | None, fmt: Any) -> None:
    if value is None:
        ws.write_string(row, col, HEADINGS("unknown"))
    else:
        ws.write_number(row, col, value, fmt)
