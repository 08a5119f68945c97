"""The 目标拆解 (Forecast) sheet: the seed's 预测达成目标 table with editable assumptions.

Yellow cells are inputs (new users and the four rates per month, defaulting to recent
history); everything else is a formula from :func:`tagger.forecast.formulas`, cached with
:func:`tagger.forecast.project`'s numbers. The start row links to the Overview sheet, so
an edit there flows into the forecast too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tagger import forecast as fc
from tagger import formulas as fx
from tagger.i18n import Catalog
from tagger.workbook.grid import Grid
from tagger.workbook.labels import HEADINGS, SHEETS
from tagger.workbook.overview import OverviewCells
from tagger.workbook.styles import Styles, colour_gap

if TYPE_CHECKING:
    from tagger.pipeline import TagResult

TEXT = Catalog(
    "forecast_sheet",
    {
        "title": {"zh": "目标拆解：未来 {n} 个月预测", "en": "Forecast: the next {n} months"},
        "subtitle": {
            "zh": "当月活跃 = 新用户 + 老用户×老用户留存率 + 上月新用户×新用户留存率 + 休眠×唤醒率 + 流失×回流率；黄色单元格可修改",
            "en": "MAU = new + old users × old retention + last month's new × new retention + dormant × awaken rate "
                  "+ churned × return rate; yellow cells are yours to edit",
        },
        "start": {"zh": "起点（本月，取自总览）", "en": "Starting point (this month, from the Overview)"},
        "assumptions": {"zh": "假设与预测", "en": "Assumptions and projection"},
        "needed": {"zh": "达成目标所需的单项指标（其他指标按假设）", "en": "Rate each lever needs on its own to hit the target"},
        "month": {"zh": "月份", "en": "Month"},
        "new": {"zh": "新用户", "en": "New users"},
        "mau": {"zh": "月活用户", "en": "MAU"},
        "dormant": {"zh": "休眠用户", "en": "Dormant"},
        "churned": {"zh": "流失用户", "en": "Churned"},
        "cumulative": {"zh": "累计用户", "en": "Cumulative"},
        "rate": {"zh": "月活率", "en": "Active rate"},
        "projected_rate": {"zh": "预测月活率", "en": "Projected active rate"},
        "target": {"zh": "目标", "en": "Target"},
        "gap": {"zh": "差距", "en": "Gap"},
        "base_old_retention": {"zh": "老用户基数", "en": "Old-user base"},
        "base_new_retention": {"zh": "上月新用户基数", "en": "New-user base"},
        "base_awaken_rate": {"zh": "休眠基数", "en": "Dormant base"},
        "base_return_rate": {"zh": "流失基数", "en": "Churned base"},
        "need": {"zh": "所需{rate}", "en": "{rate} needed"},
        "average": {"zh": "预测期平均月活率", "en": "Average projected active rate"},
        "example": {
            "zh": "历史中还没有 {rates} 的实测值，暂用示例值（源自案例上半年水平），请按实际修改",
            "en": "History has no measured {rates} yet; example values (the case's first-half levels) are used — "
                  "edit them",
        },
        "over": {"zh": "所需比率 > 100% 表示单靠该指标无法达成目标", "en": "A needed rate above 100% means that lever "
                 "alone cannot reach the target"},
        "model": {
            "zh": "休眠按 1 个月计（案例中流失判定为 2 个月时精确）；流失判定月数为 1 时没有休眠阶段",
            "en": "Dormancy is modelled one month deep (exact when churn is judged after 2 months); with 1 month "
                  "there is no dormant stage",
        },
    },
)

INPUTS = ("new", *fc.RATES)
COMPUTED = ("base_old_retention", "base_new_retention", "base_awaken_rate", "base_return_rate", "mau", "dormant",
            "churned", "cumulative", "rate", "target", "gap")


def write_forecast(workbook: Any, ws: Any, styles: Styles, result: "TagResult", cells: OverviewCells) -> None:
    """Fill the Forecast sheet."""
    grid = Grid(ws, SHEETS("forecast"))
    m = result.metrics
    assumptions = fc.default_assumptions(result.trend, m)
    start = fc.Start(new=m.segments["new"], mau=m.mau, dormant=m.segments["dormant"], churned=m.segments["churned"],
                     cumulative=m.cumulative)
    projections = fc.project(start, assumptions, result.config.churn_after_months, m.target)

    ws.set_column(0, 0, 12)
    ws.set_column(1, 17, 12.5)
    ws.set_row(8, 36)
    ws.set_row(4, 30)
    grid.text(0, 0, TEXT("title", n=len(assumptions)), styles["title"])
    grid.text(1, 0, TEXT("subtitle"), styles["subtitle"])

    grid.text(3, 0, TEXT("start"), styles["section"])
    start_cols = ["month", "new", "mau", "dormant", "churned", "cumulative", "rate"]
    grid.row(4, 0, [TEXT(k) for k in start_cols], styles["header"])
    links = {"new": cells.new, "mau": cells.mau, "dormant": cells.dormant, "churned": "+".join(cells.churned),
             "cumulative": cells.cumulative, "rate": cells.active_rate}
    values = {"new": start.new, "mau": start.mau, "dormant": start.dormant, "churned": start.churned,
              "cumulative": start.cumulative, "rate": m.active_rate}
    grid.text(5, 0, m.month, styles["label"])
    prev: dict[str, str] = {}
    for col, key in enumerate(start_cols[1:], start=1):
        grid.formula(5, col, "=" + links[key], values[key], styles["pct" if key == "rate" else "int"])
        prev[key] = grid.ref(5, col, sheet=False)

    grid.text(7, 0, TEXT("assumptions"), styles["section"])
    columns = ["month", *INPUTS, *COMPUTED]
    heads = [TEXT("projected_rate") if k == "rate" else TEXT(k) if k in TEXT.texts else HEADINGS(k)
             for k in columns]
    grid.row(8, 0, heads, styles["header"])
    for col, key in enumerate(columns):
        if key in INPUTS:
            grid.text(8, col, heads[col], styles["header_input"])
    first_row = 9
    for i, (a, p) in enumerate(zip(assumptions, projections)):
        row = first_row + i
        here = {k: grid.ref(row, columns.index(k), sheet=False) for k in (*INPUTS, *COMPUTED)}
        grid.text(row, 0, a.month, styles["label"])
        grid.number(row, columns.index("new"), a.new, styles["input_int"])
        for rate in fc.RATES:
            grid.number(row, columns.index(rate), a.rates[rate], styles["input_pct"])
        steps = fc.formulas(prev, {k: here[k] for k in INPUTS},
                            {**{f"base_{k}": here[f"base_{k}"] for k in fc.RATES}, "mau": here["mau"],
                             "cumulative": here["cumulative"], "rate": here["rate"]},
                            fx.CHURN_AFTER, fx.TARGET)
        cached = {**{f"base_{k}": p.bases[k] for k in fc.RATES}, "mau": p.mau, "dormant": p.dormant,
                  "churned": p.churned, "cumulative": p.cumulative, "rate": p.active_rate, "gap": p.gap}
        for key in COMPUTED:
            col = columns.index(key)
            fmt = styles["pct" if key in ("rate", "target") else "signed_pct" if key == "gap" else "int"]
            if key == "target":
                grid.formula(row, col, f"={fx.TARGET}", m.target, fmt)
            else:
                grid.formula(row, col, steps[key], cached[key], fmt)
        prev = {"new": here["new"], "mau": here["mau"], "dormant": here["dormant"], "churned": here["churned"],
                "cumulative": here["cumulative"]}
        for rate in fc.RATES:
            need_col = 1 + fc.RATES.index(rate)
            need_row = first_row + len(assumptions) + 4 + i
            grid.formula(need_row, need_col, steps[f"need_{rate}"], p.needed[rate], styles["pct"])
        grid.text(first_row + len(assumptions) + 4 + i, 0, a.month, styles["label"])

    colour_gap(ws, styles, first_row, columns.index("gap"), first_row + len(assumptions) - 1)
    avg_row = first_row + len(assumptions)
    rate_col = columns.index("rate")
    grid.text(avg_row, rate_col - 1, TEXT("average"), styles["total_label"])
    rates = [p.active_rate for p in projections if p.active_rate is not None]
    area = f"{grid.ref(first_row, rate_col, sheet=False)}:{grid.ref(avg_row - 1, rate_col, sheet=False)}"
    grid.formula(avg_row, rate_col, f"=AVERAGE({area})", sum(rates) / len(rates) if rates else None,
                 styles["total_pct"])

    need_top = avg_row + 2
    grid.text(need_top, 0, TEXT("needed"), styles["section"])
    grid.row(need_top + 1, 0, [TEXT("month"), *[TEXT("need", rate=HEADINGS(r)) for r in fc.RATES]], styles["header"])
    ws.set_row(need_top + 1, 30)

    row = need_top + 2 + len(assumptions) + 1
    notes = [TEXT("over"), TEXT("model")]
    unknown = [HEADINGS(r) for r in fc.RATES if not assumptions[0].from_history.get(r)]
    if unknown:
        notes.insert(0, TEXT("example", rates="、".join(unknown)))
    for note in notes:
        grid.text(row, 0, note, styles["subtitle"])
        row += 1
    _chart(workbook, ws, grid, first_row, len(assumptions), columns, row + 1)
    grid.flush()


def _chart(workbook: Any, ws: Any, grid: Grid, first_row: int, count: int, columns: list[str],
           at_row: int) -> None:
    """Projected active rate (columns) against the target (line)."""
    last = first_row + count - 1
    bars = workbook.add_chart({"type": "column"})
    col = columns.index("rate")
    bars.add_series({"name": [grid.name, 8, col], "categories": [grid.name, first_row, 0, last, 0],
                     "values": [grid.name, first_row, col, last, col], "fill": {"color": "#2E75B6"},
                     "data_labels": {"value": True, "num_format": "0.0%"}})
    line = workbook.add_chart({"type": "line"})
    col = columns.index("target")
    line.add_series({"name": [grid.name, 8, col], "categories": [grid.name, first_row, 0, last, 0],
                     "values": [grid.name, first_row, col, last, col],
                     "line": {"color": "#C00000", "dash_type": "dash", "width": 2}})
    bars.combine(line)
    bars.set_title({"name": TEXT("projected_rate"), "name_font": {"size": 12}})
    bars.set_y_axis({"num_format": "0%", "min": 0})
    bars.set_legend({"position": "bottom"})
    bars.set_size({"width": 560, "height": 280})
    ws.insert_chart(at_row, 0, bars)
