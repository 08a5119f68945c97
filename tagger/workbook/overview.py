"""The Overview sheet (总览): this month's "6 groups + 4 rates", the months in history, and charts.

This month's numbers are formulas over the Users sheet (``COUNTIF`` on the 分群细分,
本月活跃 and 上月状态 columns), each cached with the value :mod:`tagger.metrics` computed,
so an edited date or a changed parameter flows through. Months from the history database
are constants: they are records, not something this workbook can recompute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tagger import formulas as fx
from tagger.i18n import Catalog, get_language
from tagger.metrics import COMEBACK, QUICK_BASE, RATE_BASES, UNKNOWN_TOLERANCE, MonthMetrics, segment_count
from tagger.registry import REGISTRY
from tagger.segments import UNSPLIT
from tagger.segments import label as segment_label
from tagger.workbook.grid import Grid
from tagger.workbook.labels import HEADINGS, SHEETS
from tagger.workbook.sheet import Published
from tagger.workbook.styles import Styles, colour_gap
from tagger.workbook.users import UsersPlan

if TYPE_CHECKING:
    from tagger.pipeline import TagResult
    from tagger.workbook.sheet import SheetContext, Tab

# Always on the sheet (and with a strategy sheet), users or not; the registry's ``shown``.
SHOWN_GROUPS: tuple[str, ...] = REGISTRY.shown
HISTORY_MONTHS = 12
HALF_YEAR = 6  # the seed's 过往半年: the last six months' mean and peak under the monthly table
CHARTS_END = 38  # the two charts right of the tables end above this row
ROW_PIXELS = 20  # default row height, to place the trend chart below the segment chart
MIX_MAX_HEIGHT = 380  # tallest segment chart that keeps the trend chart above CHARTS_END

TEXT = Catalog(
    "overview_half_year",
    {
        "mean": {"zh": "过往半年均值（{first} 至 {last}）", "en": "Last six months' mean ({first} to {last})"},
        "peak": {"zh": "过往半年峰值（{first} 至 {last}）", "en": "Last six months' peak ({first} to {last})"},
        "mean_short": {"zh": "近 {n} 个月均值（{first} 至 {last}）", "en": "Last {n} months' mean ({first} to {last})"},
        "peak_short": {"zh": "近 {n} 个月峰值（{first} 至 {last}）", "en": "Last {n} months' peak ({first} to {last})"},
    },
)


@dataclass
class OverviewCells:
    """Cell references other sheets build on (the forecast starts from these)."""

    groups: dict[str, str] = field(default_factory=dict)  # group key -> count cell
    mau: str = ""
    cumulative: str = ""
    active_rate: str = ""
    rates: dict[str, str] = field(default_factory=dict)
    dormant: str = ""
    churned: list[str] = field(default_factory=list)
    new: str = ""
    quick_ratio: str = ""


def shown_groups(result: TagResult) -> list[str]:
    """The 8 groups, plus 流失用户 (是否开车 unknown) and the unsplit group when they have users."""
    counts = result.tags["group"].value_counts()
    extra = [k for k in ("churned", UNSPLIT) if counts.get(k, 0)]
    if "drove" not in result.users.frame and "churned" not in extra:
        extra.insert(0, "churned")
    return [*SHOWN_GROUPS, *extra]


def write_overview(ctx: SheetContext, ws: Any, tab: Tab) -> Published:
    """Fill the Overview sheet; publishes where its key numbers are."""
    styles, result, plan, workbook = ctx.styles, ctx.result, ctx.users, ctx.workbook
    grid = Grid(ws, SHEETS("overview"))
    m = result.metrics
    cells = OverviewCells()
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 13)
    ws.set_column(2, 3, 12)
    ws.set_column(4, 24, 11.5)
    grid.text(0, 0, HEADINGS("title", month=m.month), styles["title"])
    grid.text(1, 0, " ".join(result.notes[:1]), styles["subtitle"])

    yes = fx.quote(fx.TEXT("yes"))
    tags = result.tags
    group_counts = tags["group"].value_counts()
    keys = shown_groups(result)

    # -- segments (rows 12..) are referenced by the KPIs above them, so place them first.
    seg_top = 12
    grid.text(seg_top - 1, 0, HEADINGS("segment_table"), styles["section"])
    grid.row(seg_top, 0, [HEADINGS("segment"), HEADINGS("key"), HEADINGS("count"), HEADINGS("share")],
             styles["header"])
    cum_ref = grid.ref(5, 1, sheet=False)
    for offset, key in enumerate(keys):
        row = seg_top + 1 + offset
        label = segment_label(key)
        grid.text(row, 0, label)
        grid.text(row, 1, key, styles["small"])
        count = int(group_counts.get(key, 0))
        grid.formula(row, 2, "=" + plan.countif("group", fx.quote(label)), count, styles["int"])
        cell = grid.ref(row, 2, sheet=False)
        grid.formula(row, 3, f'=IF({cum_ref}>0,{cell}/{cum_ref},"")', count / m.cumulative if m.cumulative else None,
                     styles["pct"])
        cells.groups[key] = grid.ref(row, 2)
    total_row = seg_top + 1 + len(keys)
    grid.text(total_row, 0, HEADINGS("total"), styles["total_label"])
    grid.blank(total_row, 1, styles["total_label"])
    first, last = grid.ref(seg_top + 1, 2, sheet=False), grid.ref(total_row - 1, 2, sheet=False)
    grid.formula(total_row, 2, f"=SUM({first}:{last})", int(sum(group_counts.get(k, 0) for k in keys)),
                 styles["total_int"])
    grid.formula(total_row, 3, f'=IF({cum_ref}>0,{grid.ref(total_row, 2, sheet=False)}/{cum_ref},"")',
                 sum(group_counts.get(k, 0) for k in keys) / m.cumulative if m.cumulative else None,
                 styles["total_pct"])
    local = {k: grid.ref(seg_top + 1 + i, 2, sheet=False) for i, k in enumerate(keys)}

    # -- KPIs
    grid.text(2, 0, HEADINGS("kpi"), styles["section"])
    grid.row(3, 0, [HEADINGS("kpi"), HEADINGS("value")], styles["header"])
    unsplit_expr = local.get(UNSPLIT) or plan.countif("group", fx.quote(segment_label(UNSPLIT)))
    mau_ref, rate_ref = grid.ref(4, 1, sheet=False), grid.ref(6, 1, sheet=False)
    comeback = "+".join(local[k] for k in COMEBACK)
    kpis: list[tuple[str, str, object, str]] = [
        ("mau", "=" + plan.countif("active", yes), m.mau, "int"),
        ("cumulative", "=" + plan.counta("user_id"), m.cumulative, "int"),
        ("active_rate", f'=IF({cum_ref}>0,{mau_ref}/{cum_ref},"")', m.active_rate, "pct"),
        ("target", f"={fx.TARGET}", m.target, "pct"),
        ("gap", f'=IF({rate_ref}="","",{rate_ref}-{fx.TARGET})', m.gap, "signed_pct"),
        ("quick_ratio", f'=IF(AND({local[QUICK_BASE]}>0,({unsplit_expr})=0),({comeback})/{local[QUICK_BASE]},"")',
         m.quick_ratio, "ratio"),
    ]
    for offset, (key, formula, value, fmt) in enumerate(kpis):
        row = 4 + offset
        grid.text(row, 0, HEADINGS(key))
        grid.formula(row, 1, formula, value, styles[fmt])
    colour_gap(ws, styles, 8, 1)
    cells.mau, cells.cumulative, cells.active_rate = grid.ref(4, 1), grid.ref(5, 1), grid.ref(6, 1)
    cells.quick_ratio = grid.ref(9, 1)
    cells.new, cells.dormant = cells.groups["new"], cells.groups["dormant"]
    cells.churned = [cells.groups[k] for k in keys if k.startswith("churned")]

    # -- the 4 rates
    row = total_row + 2
    row = _write_rates(grid, styles, result, plan, row, cum_ref, local, cells)

    # -- months in history (months as rows), this month last
    history_top = max(row + 3, CHARTS_END)
    history_keys = history_groups(result, keys)
    months = _write_history(grid, styles, result, history_keys, history_top, local, cells, plan)
    ws.set_row(history_top, 30)
    _write_charts(workbook, ws, grid, keys, history_keys, seg_top, history_top, months)
    row = history_top + months + 1
    if months >= 2:
        row = _write_half_year(grid, styles, history_keys, history_top, months, [*(t.month for t in _history(result)),
                                                                                 m.month])
    row += 2
    grid.text(row, 0, HEADINGS("notes"), styles["section"])
    for note in [*result.notes, *result.warnings]:
        row += 1
        grid.text(row, 0, note, styles["note"])
    grid.flush()
    ws.activate()  # the workbook opens on 总览
    return Published(cells=cells)


def _write_rates(grid: Grid, styles: Styles, result: TagResult, plan: UsersPlan, row: int, cum_ref: str,
                 local: dict[str, str], cells: OverviewCells) -> int:
    """Bases from 上月状态 (+ users who left since last month), retained = also 本月活跃 = 是."""
    m = result.metrics
    tags = result.tags
    yes = fx.quote(fx.TEXT("yes"))
    departed = result.departed
    grid.text(row, 0, HEADINGS("rates"), styles["section"])
    row += 1
    grid.row(row, 0, [HEADINGS("rate"), HEADINGS("base"), HEADINGS("retained"), HEADINGS("value")],
             styles["header"])
    unknown_row = row + len(RATE_BASES) + 1
    unknown_ref = grid.ref(unknown_row, 1, sheet=False)
    existing_ref = grid.ref(unknown_row + 1, 1, sheet=False)
    prev = tags["prev_group"]
    for offset, (rate, base_key) in enumerate(RATE_BASES.items()):
        r = row + 1 + offset
        label = fx.quote(fx.prev_state_label(base_key, get_language()))
        base = int((prev == base_key).sum()) + departed.get(base_key, 0)
        kept = int(((prev == base_key) & tags["active"]).sum())
        grid.text(r, 0, HEADINGS(rate))
        extra = f"+{departed[base_key]}" if departed.get(base_key) else ""
        grid.formula(r, 1, "=" + plan.countif("prev_state", label) + extra, base, styles["int"])
        grid.formula(r, 2, "=" + plan.countifs(("prev_state", label), ("active", yes)), kept, styles["int"])
        b, k = grid.ref(r, 1, sheet=False), grid.ref(r, 2, sheet=False)
        grid.formula(r, 3, f'=IF({unknown_ref}>{UNKNOWN_TOLERANCE}*{existing_ref},"",IF({b}>0,{k}/{b},""))',
                     m.rates[rate], styles["pct"])
        cells.rates[rate] = grid.ref(r, 3)
    unknown_label = fx.quote(fx.prev_state_label("unknown", get_language()))
    grid.text(unknown_row, 0, HEADINGS("unknown_prev"), styles["note"])
    grid.formula(unknown_row, 1, "=" + plan.countif("prev_state", unknown_label), int((prev == "unknown").sum()),
                 styles["int"])
    new_count = int((prev == "").sum())
    gone = sum(departed.values())
    grid.text(unknown_row + 1, 0, HEADINGS("existing_users"), styles["note"])
    grid.formula(unknown_row + 1, 1, f'={cum_ref}-{local["new"]}' + (f"+{gone}" if gone else ""),
                 m.cumulative - new_count + gone, styles["int"])
    return unknown_row + 1


def _history(result: TagResult) -> list[MonthMetrics]:
    """Earlier months from history, oldest first (this month excluded: it is live)."""
    return [t for t in result.trend if t.month < result.month][-(HISTORY_MONTHS - 1):]


def history_groups(result: TagResult, keys: list[str]) -> list[str]:
    """This month's groups plus any an earlier month had (上月状态未知, 流失用户), so every row adds up."""
    earlier = _history(result)
    extra = [k for k in ("churned", UNSPLIT) if k not in keys and any(_history_value(t, f"g:{k}") for t in earlier)]
    return [*keys, *extra]


def history_columns(keys: list[str]) -> list[tuple[str, str]]:
    """(key, heading) of the monthly table."""
    out = [("month", HEADINGS("month")), ("cumulative", HEADINGS("cumulative_short"))]
    out += [(f"g:{k}", segment_label(k)) for k in keys]
    out += [("mau", "MAU"), ("active_rate", HEADINGS("active_rate")), ("target", HEADINGS("target"))]
    out += [(rate, HEADINGS(rate)) for rate in RATE_BASES]
    out += [("quick_ratio", HEADINGS("quick_ratio_short"))]
    return out


def _history_value(t: MonthMetrics, key: str) -> object:
    if key == "month":
        return t.month
    if key == "g:churned":
        return t.groups.get("churned", 0)  # the group (是否开车 unknown), not the segment that sums both kinds
    if key.startswith("g:"):
        return segment_count(t, key[2:])
    if key in RATE_BASES:
        return t.rates.get(key)
    return getattr(t, key)


def _write_history(grid: Grid, styles: Styles, result: TagResult, keys: list[str], top: int,
                   local: dict[str, str], cells: OverviewCells, plan: UsersPlan) -> int:
    """The monthly table (earlier months as records, this month live); returns the number of month rows."""
    grid.text(top - 1, 0, HEADINGS("trend"), styles["section"])
    columns = history_columns(keys)
    for col, (_, heading) in enumerate(columns):
        grid.text(top, col, heading, styles["header"])
    months = _history(result)
    for i, t in enumerate(months):
        for col, (key, _) in enumerate(columns):
            value = _history_value(t, key)
            style = styles[HISTORY_FORMATS.get(key, "int")] if key != "month" else None
            grid.value(top + 1 + i, col, value, style)
    row = top + 1 + len(months)
    m = result.metrics
    live = {"cumulative": cells.cumulative, "mau": cells.mau, "active_rate": cells.active_rate,
            "target": fx.TARGET, **cells.rates, "quick_ratio": cells.quick_ratio}
    for col, (key, _) in enumerate(columns):
        style = styles[HISTORY_FORMATS.get(key, "int")] if key != "month" else styles["label"]
        if key == "month":
            grid.text(row, col, m.month, style)
        elif key.startswith("g:"):
            group = key[2:]
            count_expr = local.get(group) or plan.countif("group", fx.quote(segment_label(group)))
            grid.formula(row, col, "=" + count_expr, int(result.tags["group"].eq(group).sum()), style)
        else:
            value = _history_value(m, key)
            grid.formula(row, col, "=" + live[key].split("!")[-1], value, style)
    return len(months) + 1


HISTORY_FORMATS: dict[str, str] = {"cumulative": "int", "mau": "int", "active_rate": "pct", "target": "pct",
                                   "quick_ratio": "ratio", **{r: "pct" for r in RATE_BASES}}


def _write_half_year(grid: Grid, styles: Styles, keys: list[str], top: int, months: int,
                     labels: list[str]) -> int:
    """The seed's 过往半年: mean and peak of the table's last six months, as formulas over its cells.

    Reads the cached values back from the grid, so the cache is the same numbers the formulas
    see; returns the last row written.
    """
    first = top + 1 + max(0, months - HALF_YEAR)
    last = top + months
    shown = labels[first - top - 1:]
    n = len(shown)
    texts = {"mean": "mean", "peak": "peak"} if n == HALF_YEAR else {"mean": "mean_short", "peak": "peak_short"}
    for offset, (kind, excel) in enumerate((("mean", "AVERAGE"), ("peak", "MAX"))):
        row = last + 1 + offset
        grid.text(row, 0, TEXT(texts[kind], n=n, first=shown[0], last=shown[-1]), styles["total_label"])
        for col, (key, _) in enumerate(history_columns(keys)[1:], start=1):
            if key == "target":
                grid.blank(row, col, styles["total_label"])
                continue
            values = [v for v in (grid.cached(r, col) for r in range(first, last + 1))
                      if isinstance(v, (int, float)) and not isinstance(v, bool)]
            cached = (sum(values) / len(values) if kind == "mean" else max(values)) if values else None
            area = f"{grid.ref(first, col, sheet=False)}:{grid.ref(last, col, sheet=False)}"
            style = {"pct": "total_pct", "int": "total_int"}.get(HISTORY_FORMATS.get(key, "int"), "ratio")
            grid.formula(row, col, f'=IF(COUNT({area})>0,{excel}({area}),"")', cached, styles[style])
    return last + 2


def _write_charts(workbook: Any, ws: Any, grid: Grid, keys: list[str], history_keys: list[str], seg_top: int,
                  history_top: int, months: int) -> None:
    """Segment mix (bar) and active rate vs target (line), placed right of the tables."""
    name = grid.name
    mix = workbook.add_chart({"type": "bar"})
    first, last = seg_top + 1, seg_top + len(keys)
    mix.add_series({
        "name": HEADINGS("count"),
        "categories": [name, first, 0, last, 0],
        "values": [name, first, 2, last, 2],
        "data_labels": {"value": True, "num_format": "#,##0"},
        "fill": {"color": "#2E75B6"},
    })
    mix.set_title({"name": HEADINGS("segment_mix"), "name_font": {"size": 12}})
    mix.set_legend({"none": True})
    # Every bar labelled: no label skipping, and room enough that a renderer need not hide overlapping ones.
    mix.set_y_axis({"reverse": True, "interval_unit": 1, "interval_tick": 1, "num_font": {"size": 9}})
    height = max(340, min(MIX_MAX_HEIGHT, 100 + 28 * len(keys)))
    mix.set_size({"width": 620, "height": height})
    ws.insert_chart(2, 5, mix, {"x_offset": 8, "y_offset": 4})
    trend_row = 2 + -(-(height + 4 + 10) // ROW_PIXELS)  # first row below the segment chart

    trend = workbook.add_chart({"type": "line"})
    columns = [k for k, _ in history_columns(history_keys)]
    first, last = history_top + 1, history_top + months
    for key, color, dash in (("active_rate", "#2E75B6", "solid"), ("target", "#C00000", "dash")):
        col = columns.index(key)
        trend.add_series({
            "name": [name, history_top, col],
            "categories": [name, first, 0, last, 0],
            "values": [name, first, col, last, col],
            "line": {"color": color, "width": 2.25, "dash_type": dash},
            "marker": {"type": "circle", "size": 5, "fill": {"color": color}, "border": {"color": color}},
        })
    trend.set_title({"name": HEADINGS("rate_trend"), "name_font": {"size": 12}})
    trend.set_y_axis({"num_format": "0%", "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    trend.set_legend({"position": "bottom"})
    trend.set_size({"width": 620, "height": 300})
    ws.insert_chart(trend_row, 5, trend, {"x_offset": 8, "y_offset": 10})


__all__ = ["write_overview", "OverviewCells", "shown_groups"]
