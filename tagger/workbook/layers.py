"""The 价值分层 (Value layers) sheet: value layer × lifecycle group, as live counts.

Rows are the four layers of ``[value_layers]``, columns the lifecycle groups (分群细分), so
a team sees at a glance how many high-value users are sleeping in each group. Every count
is a ``COUNTIFS`` over the Users sheet's 价值分层 and 分群细分 columns, and 价值分层 is
itself a formula over the cuts on 参数: editing a cut there moves users between rows here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tagger import formulas as fx
from tagger.config import LAYER_KEYS
from tagger.i18n import Catalog, get_language
from tagger.segments import label as segment_label
from tagger.value_layers import layer_cuts
from tagger.vocabulary import word
from tagger.workbook.grid import Grid
from tagger.workbook.labels import SHEETS

if TYPE_CHECKING:
    from tagger.pipeline import TagResult
    from tagger.workbook.sheet import SheetContext, Tab

TEXT = Catalog(
    "layers_sheet",
    {
        "title": {"zh": "{month} 价值分层 × 用户分群", "en": "Value layers × groups, {month}"},
        "help": {
            "zh": "高价值：{value} ≥ 参数表 ValueCut；近期：{recency}；潜力：未达高价值但 {frequent}。行：价值分层，"
                  "列：分群细分（均为实时公式）。",
            "en": "High value: {value} ≥ ValueCut on Parameters; recent: {recency}; potential: below the value cut "
                  "but {frequent}. Rows: value layer, columns: group (live formulas).",
        },
        "recency_days": {"zh": "{header} ≤ RecencyCut", "en": "{header} ≤ RecencyCut"},
        "recency_active": {"zh": "本月活跃", "en": "active this month"},
        "frequent_col": {"zh": "{header} ≥ FreqCut", "en": "{header} ≥ FreqCut"},
        "frequent_recent": word("recent"),
        "corner": {"zh": "价值分层 ↓ / 分群 →", "en": "Layer ↓ / group →"},
        "cuts": {"zh": "本表使用的阈值", "en": "Cuts in use"},
        "total": word("total"),
    },
)


def _help(result: TagResult) -> str:
    layers = result.config.value_layers
    assert layers is not None
    recency = (TEXT("recency_days", header=layers.recency) if layers.recency else TEXT("recency_active"))
    frequent = (TEXT("frequent_col", header=layers.frequency) if layers.frequency else TEXT("frequent_recent"))
    return TEXT("help", value=layers.value, recency=recency, frequent=frequent)


def write_layers(ctx: SheetContext, ws: Any, tab: Tab) -> None:
    """Fill the Value layers sheet: the cuts, then layer × group counts with totals."""
    styles, result, plan, groups = ctx.styles, ctx.result, ctx.users, ctx.groups
    layers = result.config.value_layers
    assert layers is not None
    lang = get_language()
    grid = Grid(ws, SHEETS("value_layers"))
    tags = result.tags
    ws.set_column(0, 0, 22)
    ws.set_column(1, len(groups) + 1, 12)
    grid.text(0, 0, TEXT("title", month=result.month), styles["title"])
    grid.text(1, 0, _help(result), styles["subtitle"])

    cuts = layer_cuts(result.users.frame, layers)
    grid.text(3, 0, TEXT("cuts"), styles["section"])
    shown = [(fx.VALUE_CUT, cuts.value), (fx.FREQ_CUT, cuts.frequency), (fx.RECENCY_CUT, cuts.recency)]
    col = 1
    for name, value in shown:
        if value is None:
            continue
        grid.text(3, col, name, styles["label"])
        grid.formula(3, col + 1, f"={name}", value, styles["money"])
        col += 2

    top = 5
    grid.row(top, 0, [TEXT("corner"), *[segment_label(g) for g in groups], TEXT("total")], styles["header"])
    ws.set_row(top, 32)
    layer = tags["value_layer"].to_numpy()
    group = tags["group"].to_numpy()
    for i, key in enumerate(LAYER_KEYS):
        row = top + 1 + i
        name = layers.name(key, lang)
        grid.text(row, 0, name, styles["label"])
        for j, g in enumerate(groups):
            count = int(((layer == key) & (group == g)).sum())
            formula = plan.countifs(("value_layer", fx.quote(name)), ("group", fx.quote(segment_label(g))))
            grid.formula(row, 1 + j, "=" + formula, count, styles["int"])
        grid.formula(row, 1 + len(groups), "=" + plan.countif("value_layer", fx.quote(name)),
                     int((layer == key).sum()), styles["total_int"])
    last = top + len(LAYER_KEYS)
    grid.text(last + 1, 0, TEXT("total"), styles["label"])
    for j in range(len(groups) + 1):
        first, end = grid.ref(top + 1, 1 + j, sheet=False), grid.ref(last, 1 + j, sheet=False)
        cached = (int((group == groups[j]).sum()) if j < len(groups)
                  else int(sum((layer == k).sum() for k in LAYER_KEYS)))
        grid.formula(last + 1, 1 + j, f"=SUM({first}:{end})", cached, styles["total_int"])
    grid.flush()


__all__ = ["write_layers"]
