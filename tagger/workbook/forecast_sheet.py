"""The 目标拆解 (Forecast) sheet: the seed's 预测达成目标 table with editable assumptions.

Yellow cells are inputs (new users and the four rates per month, defaulting to recent
history); everything else is a formula from :func:`tagger.forecast.formulas`, cached with
:func:`tagger.forecast.project`'s numbers. The start row links to the Overview sheet, so
an edit there flows into the forecast too.

With ``[forecast] target_months`` the sheet plans that period instead of the next three
months: its months already in history are listed as actuals above the projection (which
runs from this month to the period's end), the period average is compared with the
target, and each lever's rate over the remaining months is solved for the period.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tagger import forecast as fc
from tagger import formulas as fx
from tagger.config import TEXT as CONFIG_TEXT
from tagger.errors import ConfigError
from tagger.i18n import Catalog
from tagger.metrics import MonthMetrics
from tagger.registry import REGISTRY
from tagger.vocabulary import word
from tagger.workbook.grid import Grid
from tagger.workbook.labels import HEADINGS, SHEETS
from tagger.workbook.overview import OverviewCells
from tagger.workbook.styles import Styles, colour_gap

if TYPE_CHECKING:
    from tagger.pipeline import TagResult
    from tagger.workbook.sheet import SheetContext, Tab

TEXT = Catalog(
    "forecast_sheet",
    {
        "title": {"zh": "目标拆解：未来 {n} 个月预测", "en": "Forecast: the next {n} months"},
        "subtitle": {
            "zh": "当月活跃 = 新用户 + 老用户×老用户留存率 + 上月新用户×新用户留存率 + 休眠×唤醒率 + 流失×回流率；"
                  "黄色单元格可修改",
            "en": "MAU = new + old users × old retention + last month's new × new retention + dormant × awaken rate "
                  "+ churned × return rate; yellow cells are yours to edit",
        },
        "start": {"zh": "起点（本月，取自总览）", "en": "Starting point (this month, from the Overview)"},
        "assumptions": {"zh": "假设与预测", "en": "Assumptions and projection"},
        "needed": {"zh": "达成目标所需的单项指标（其他指标按假设）",
                   "en": "Rate each lever needs on its own to hit the target"},
        "month": word("month"),
        "new": {"zh": "新用户", "en": "New users"},
        "mau": {"zh": "月活用户", "en": "MAU"},
        "dormant": REGISTRY["dormant"].label,
        "churned": REGISTRY["churned"].label,
        "cumulative": word("cumulative"),
        "rate": word("active_rate"),
        "projected_rate": {"zh": "预测月活率", "en": "Projected active rate"},
        "target": word("target"),
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
        "target_title": {"zh": "目标拆解：目标期 {first} 至 {last}", "en": "Forecast: target period {first} to {last}"},
        "basis_mean3": {"zh": "黄色比率默认取近 3 个月平均（[forecast] rate_basis = \"mean3\"）",
                        "en": "Yellow rates default to the last 3 months' average ([forecast] rate_basis = \"mean3\")"},
        "basis_best6": {"zh": "黄色比率默认取近 6 个月中各指标的最高值（[forecast] rate_basis = \"best6\"）；"
                              "新用户取近 3 个月平均",
                        "en": "Yellow rates default to each rate's best of the last 6 months ([forecast] rate_basis = "
                              "\"best6\"); new users to the last 3 months' average"},
        "actuals": {"zh": "目标期内已有月份（实际，取自历史）",
                    "en": "Months of the target period so far (actuals, from history)"},
        "period_average": {"zh": "目标期平均月活率", "en": "Target period average active rate"},
        "solve": {"zh": "剩余 {n} 个月（{first} 至 {last}）各指标需达到的比率，使目标期平均达到目标"
                        "（单项，其他按假设）",
                  "en": "Rate each lever needs over the remaining {n} months ({first} to {last}) for the period "
                        "average to reach the target (on its own, the others as assumed)"},
        "lever": {"zh": "指标", "en": "Lever"},
        "assumed": {"zh": "假设（剩余月份平均）", "en": "Assumed (remaining months' average)"},
        "solved": {"zh": "所需比率", "en": "Needed rate"},
        "bridge": {"zh": "{months} 不在目标期内，仅用于把预测从本月接到目标期", "en": "{months} are outside the target "
                   "period; they only carry the projection from this month to the period"},
        "missing": {"zh": "{months} 没有历史记录，实际值留空",
                    "en": "{months} have no record in history; their actuals "
                    "are left blank"},
        "first_order": {
            "zh": "目标期所需比率按各月预测基数计算（不计该指标对后续月份基数的连带影响）；只剩一个月时精确",
            "en": "The period's needed rates use each month's projected base (a lever's knock-on effect on later "
                  "months' bases is not counted); exact when one month remains",
        },
        "past": {"zh": "目标期已全部在历史中，没有需要预测的月份",
                 "en": "The whole target period is in history; there is "
                 "nothing left to forecast"},
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
ACTUAL = ("month", "new", "mau", "cumulative", "rate", "target", "gap")
START = ("month", "new", "mau", "dormant", "churned", "cumulative", "rate")


@dataclass
class Plan:
    """What the sheet shows: the target period's actual months and the months it projects."""

    period: list[str]
    actual: list[MonthMetrics | None]
    assumptions: list[fc.Assumption]
    projections: list[fc.Projection]

    @property
    def named(self) -> bool:
        """A period the team named in ``[forecast] target_months`` (not the default next three months)."""
        return bool(self.period)

    @property
    def actual_months(self) -> list[str]:
        return self.period[: len(self.actual)]

    @property
    def in_period(self) -> list[int]:
        """Indexes of the projected months that belong to the target period."""
        if not self.named:
            return list(range(len(self.assumptions)))
        return [i for i, a in enumerate(self.assumptions) if a.month in self.period]


def plan(result: TagResult) -> Plan:
    """The assumptions, projection and (for a named period) its actual months of this run."""
    m, config = result.metrics, result.config
    period = list(config.target_months)
    wanted = fc.months_after(m.month, period[-1]) if period else None
    if wanted is not None and len(wanted) > fc.MAX_AHEAD:
        raise ConfigError(CONFIG_TEXT("bad_value", path=config.source or f"preset {config.preset}",
                                      key="forecast.target_months", value=list(period),
                                      reason=f"ends more than {fc.MAX_AHEAD} months after {m.month}"))
    assumptions = fc.default_assumptions(result.trend, m, basis=config.rate_basis, months=wanted)
    start = fc.Start(new=m.segments["new"], mau=m.mau, dormant=m.segments["dormant"], churned=m.segments["churned"],
                     cumulative=m.cumulative)
    projections = fc.project(start, assumptions, config.churn_after_months, m.target)
    known = {t.month: t for t in result.trend if t.month < m.month}
    known[m.month] = m
    actual = [known.get(month) for month in period if month <= m.month]
    return Plan(period, actual, assumptions, projections)


def write_forecast(ctx: SheetContext, ws: Any, tab: Tab) -> None:
    """Fill the Forecast sheet from this run's :func:`plan` (made before any sheet, so it fails fast)."""
    workbook, styles, result, cells, forecast = ctx.workbook, ctx.styles, ctx.result, ctx.overview, ctx.forecast
    grid = Grid(ws, SHEETS("forecast"))
    m = result.metrics
    p = forecast or plan(result)
    ws.set_column(0, 0, 12)
    ws.set_column(1, 17, 12.5)
    ws.set_row(4, 30)
    title = (TEXT("target_title", first=p.period[0], last=p.period[-1]) if p.named
             else TEXT("title", n=len(p.assumptions)))
    grid.text(0, 0, title, styles["title"])
    grid.text(1, 0, TEXT("subtitle"), styles["subtitle"])
    grid.text(2, 0, TEXT(f"basis_{result.config.rate_basis}"), styles["subtitle"])
    start = _write_start(grid, styles, result, cells)

    top = 7
    actual_rates: str | None = None
    if p.actual:
        actual_rates = _write_actuals(grid, ws, styles, result, p, start, top)
        top += len(p.actual) + 3
    notes: list[str] = []
    if not p.assumptions:
        _write_period_average(grid, styles, p, m.target, top - 1, ACTUAL.index("rate"), actual_rates, None)
        notes.append(TEXT("past"))
        row = top + 1
    else:
        row = _write_projection(ws, grid, styles, result, p, start, top, actual_rates)
        notes += [TEXT("over"), TEXT("model")]
        unknown = [HEADINGS(r) for r in fc.RATES if not p.assumptions[0].from_history.get(r)]
        if unknown:
            notes.insert(0, TEXT("example", rates="、".join(unknown)))
    if p.named:
        notes += _period_notes(p)
    for note in notes:
        grid.text(row, 0, note, styles["subtitle"])
        row += 1
    if p.assumptions:
        _chart(workbook, ws, grid, top + 2, len(p.assumptions), _columns(), row + 1, top + 1)
    grid.flush()


def _columns() -> list[str]:
    return ["month", *INPUTS, *COMPUTED]


def _write_start(grid: Grid, styles: Styles, result: TagResult, cells: OverviewCells) -> dict[str, str]:
    """This month, linked to the Overview; returns its cells by key."""
    m = result.metrics
    grid.text(3, 0, TEXT("start"), styles["section"])
    grid.row(4, 0, [TEXT(k) for k in START], styles["header"])
    links = {"new": cells.new, "mau": cells.mau, "dormant": cells.dormant, "churned": "+".join(cells.churned),
             "cumulative": cells.cumulative, "rate": cells.active_rate}
    values = {"new": m.segments["new"], "mau": m.mau, "dormant": m.segments["dormant"],
              "churned": m.segments["churned"], "cumulative": m.cumulative, "rate": m.active_rate}
    grid.text(5, 0, m.month, styles["label"])
    out: dict[str, str] = {}
    for col, key in enumerate(START[1:], start=1):
        grid.formula(5, col, "=" + links[key], values[key], styles["pct" if key == "rate" else "int"])
        out[key] = grid.ref(5, col, sheet=False)
    return out


def _write_actuals(grid: Grid, ws: Any, styles: Styles, result: TagResult, p: Plan, start: dict[str, str],
                   top: int) -> str:
    """The period's months so far: records from history, this month linked live; returns the rates' range."""
    m = result.metrics
    grid.text(top, 0, TEXT("actuals"), styles["section"])
    grid.row(top + 1, 0, [TEXT(k) for k in ACTUAL], styles["header"])
    rate_col = ACTUAL.index("rate")
    for i, (month, t) in enumerate(zip(p.actual_months, p.actual, strict=True)):
        row = top + 2 + i
        grid.text(row, 0, month, styles["label"])
        values: dict[str, float | None] = {"new": None, "mau": None, "cumulative": None, "rate": None}
        if t is not None:
            values = {"new": t.segments.get("new", 0), "mau": t.mau, "cumulative": t.cumulative,
                      "rate": t.active_rate}
        for col, key in enumerate(ACTUAL[1:5], start=1):
            fmt = styles["pct" if key == "rate" else "int"]
            if month == m.month:
                grid.formula(row, col, "=" + start[key], values[key], fmt)
            else:
                grid.value(row, col, values[key], fmt)
        rate = grid.ref(row, rate_col, sheet=False)
        grid.formula(row, rate_col + 1, f"={fx.TARGET}", m.target, styles["pct"])
        gap = None if values["rate"] is None else values["rate"] - m.target
        grid.formula(row, rate_col + 2, f'=IF({rate}="","",{rate}-{fx.TARGET})', gap, styles["signed_pct"])
    last = top + 1 + len(p.actual)
    colour_gap(ws, styles, top + 2, rate_col + 2, last)
    return f"{grid.ref(top + 2, rate_col, sheet=False)}:{grid.ref(last, rate_col, sheet=False)}"


def _write_projection(ws: Any, grid: Grid, styles: Styles, result: TagResult, p: Plan,
                      start: dict[str, str], top: int, actual_rates: str | None) -> int:
    """Assumptions, projection, the (period) average and the needed rates; returns the first free row."""
    m = result.metrics
    columns = _columns()
    head_row, first_row = top + 1, top + 2
    ws.set_row(head_row, 36)
    grid.text(top, 0, TEXT("assumptions"), styles["section"])
    heads = [TEXT("projected_rate") if k == "rate" else TEXT(k) if k in TEXT.texts else HEADINGS(k)
             for k in columns]
    grid.row(head_row, 0, heads, styles["header"])
    for col, key in enumerate(columns):
        if key in INPUTS:
            grid.text(head_row, col, heads[col], styles["header_input"])
    count = len(p.assumptions)
    need_first = first_row + count + 4
    prev = {k: start[k] for k in ("new", "mau", "dormant", "churned", "cumulative")}
    for i, (a, pr) in enumerate(zip(p.assumptions, p.projections, strict=True)):
        prev = _write_month(grid, styles, first_row + i, need_first + i, a, pr, prev, m.target)
    colour_gap(ws, styles, first_row, columns.index("gap"), first_row + count - 1)

    avg_row = first_row + count
    rate_col = columns.index("rate")
    forecast_rates = None
    if p.in_period:
        rows = [first_row + i for i in p.in_period]
        forecast_rates = f"{grid.ref(rows[0], rate_col, sheet=False)}:{grid.ref(rows[-1], rate_col, sheet=False)}"
    if p.named:
        _write_period_average(grid, styles, p, m.target, avg_row, rate_col, actual_rates, forecast_rates)
        colour_gap(ws, styles, avg_row, rate_col + 2)
    else:
        grid.text(avg_row, rate_col - 1, TEXT("average"), styles["total_label"])
        rates = [pr.active_rate for pr in p.projections if pr.active_rate is not None]
        grid.formula(avg_row, rate_col, f"=AVERAGE({forecast_rates})", sum(rates) / len(rates) if rates else None,
                     styles["total_pct"])

    need_top = avg_row + 2
    grid.text(need_top, 0, TEXT("needed"), styles["section"])
    grid.row(need_top + 1, 0, [TEXT("month"), *[TEXT("need", rate=HEADINGS(r)) for r in fc.RATES]], styles["header"])
    ws.set_row(need_top + 1, 30)
    row = need_top + 2 + count + 1
    if p.named and p.in_period:
        row = _write_solve(grid, ws, styles, p, m.target, row, first_row, actual_rates)
    return row


def _write_month(grid: Grid, styles: Styles, row: int, need_row: int, a: fc.Assumption, pr: fc.Projection,
                 prev: dict[str, str], target: float) -> dict[str, str]:
    """One projected month: inputs, formulas, and its needed-rate row; returns its cells for the next month."""
    columns = _columns()
    here = {k: grid.ref(row, columns.index(k), sheet=False) for k in (*INPUTS, *COMPUTED)}
    grid.text(row, 0, a.month, styles["label"])
    grid.number(row, columns.index("new"), a.new, styles["input_int"])
    for rate in fc.RATES:
        grid.number(row, columns.index(rate), a.rates[rate], styles["input_pct"])
    steps = fc.formulas(prev, {k: here[k] for k in INPUTS},
                        {**{f"base_{k}": here[f"base_{k}"] for k in fc.RATES}, "mau": here["mau"],
                         "cumulative": here["cumulative"], "rate": here["rate"]},
                        fx.CHURN_AFTER, fx.TARGET)
    cached = {**{f"base_{k}": pr.bases[k] for k in fc.RATES}, "mau": pr.mau, "dormant": pr.dormant,
              "churned": pr.churned, "cumulative": pr.cumulative, "rate": pr.active_rate, "gap": pr.gap}
    for key in COMPUTED:
        col = columns.index(key)
        fmt = styles["pct" if key in ("rate", "target") else "signed_pct" if key == "gap" else "int"]
        if key == "target":
            grid.formula(row, col, f"={fx.TARGET}", target, fmt)
        else:
            grid.formula(row, col, steps[key], cached[key], fmt)
    for rate in fc.RATES:
        grid.formula(need_row, 1 + fc.RATES.index(rate), steps[f"need_{rate}"], pr.needed[rate], styles["pct"])
    grid.text(need_row, 0, a.month, styles["label"])
    return {k: here[k] for k in ("new", "mau", "dormant", "churned", "cumulative")}


def _write_period_average(grid: Grid, styles: Styles, p: Plan, target: float, row: int, rate_col: int,
                          actual_rates: str | None, forecast_rates: str | None) -> None:
    """The target period's average active rate (actual and projected months), the target and the gap."""
    areas = ",".join(a for a in (actual_rates, forecast_rates) if a)
    average = fc.period_average([t.active_rate if t else None for t in p.actual],
                                [p.projections[i] for i in p.in_period])
    grid.text(row, rate_col - 1, TEXT("period_average"), styles["total_label"])
    grid.formula(row, rate_col, f'=IF(COUNT({areas})>0,AVERAGE({areas}),"")', average, styles["total_pct"])
    here = grid.ref(row, rate_col, sheet=False)
    grid.formula(row, rate_col + 1, f"={fx.TARGET}", target, styles["total_pct"])
    grid.formula(row, rate_col + 2, f'=IF({here}="","",{here}-{fx.TARGET})',
                 None if average is None else average - target, styles["signed_pct"])


def _write_solve(grid: Grid, ws: Any, styles: Styles, p: Plan, target: float, top: int, first_row: int,
                 actual_rates: str | None) -> int:
    """Each lever's one rate over the remaining months of the period; returns the first free row."""
    columns = _columns()
    index = p.in_period
    months = [p.assumptions[i].month for i in index]
    top_row, last_row = first_row + index[0], first_row + index[-1]

    def span(key: str) -> str:
        col = columns.index(key)
        return f"{grid.ref(top_row, col, sheet=False)}:{grid.ref(last_row, col, sheet=False)}"

    ranges = {k: span(k) for k in ("mau", "cumulative", *fc.RATES, *(f"base_{r}" for r in fc.RATES))}
    solved = fc.period_solve([t.active_rate if t else None for t in p.actual], [p.projections[i] for i in index],
                             [p.assumptions[i] for i in index], target)
    grid.text(top, 0, TEXT("solve", n=len(months), first=months[0], last=months[-1]), styles["section"])
    grid.row(top + 1, 0, [TEXT("lever"), TEXT("assumed"), TEXT("solved")], styles["header"])
    ws.set_row(top + 1, 30)
    for offset, rate in enumerate(fc.RATES):
        row = top + 2 + offset
        grid.text(row, 0, HEADINGS(rate), styles["label"])
        assumed = sum(p.assumptions[i].rates[rate] for i in index) / len(index)
        grid.formula(row, 1, f"=AVERAGE({ranges[rate]})", assumed, styles["pct"])
        grid.formula(row, 2, fc.period_solve_formula(actual_rates, ranges, rate, len(index), fx.TARGET),
                     solved[rate], styles["pct"])
    return top + 2 + len(fc.RATES) + 1


def _period_notes(p: Plan) -> list[str]:
    """What the sheet cannot show by itself: bridge months, months missing from history, the first-order solve."""
    notes = []
    bridge = [a.month for a in p.assumptions if a.month not in p.period]
    if bridge:
        notes.append(TEXT("bridge", months="、".join(bridge)))
    missing = [month for month, t in zip(p.actual_months, p.actual, strict=True) if t is None]
    if missing:
        notes.append(TEXT("missing", months="、".join(missing)))
    if p.in_period:
        notes.append(TEXT("first_order"))
    return notes


def _chart(workbook: Any, ws: Any, grid: Grid, first_row: int, count: int, columns: list[str],
           at_row: int, head_row: int) -> None:
    """Projected active rate (columns) against the target (line)."""
    last = first_row + count - 1
    bars = workbook.add_chart({"type": "column"})
    col = columns.index("rate")
    bars.add_series({"name": [grid.name, head_row, col], "categories": [grid.name, first_row, 0, last, 0],
                     "values": [grid.name, first_row, col, last, col], "fill": {"color": "#2E75B6"},
                     "data_labels": {"value": True, "num_format": "0.0%"}})
    line = workbook.add_chart({"type": "line"})
    col = columns.index("target")
    line.add_series({"name": [grid.name, head_row, col], "categories": [grid.name, first_row, 0, last, 0],
                     "values": [grid.name, first_row, col, last, col],
                     "line": {"color": "#C00000", "dash_type": "dash", "width": 2}})
    bars.combine(line)
    bars.set_title({"name": TEXT("projected_rate"), "name_font": {"size": 12}})
    bars.set_y_axis({"num_format": "0%", "min": 0})
    bars.set_legend({"position": "bottom"})
    bars.set_size({"width": 560, "height": 280})
    ws.insert_chart(at_row, 0, bars)
