"""The 参数 (Parameters) sheet: the named cells every formula reads, and the dropdown lists.

Changing 报告月份, 流失判定月数, 偏好阈值 or 目标月活率 here recalculates every segment,
tag and rate in the workbook, because the formulas name these cells (``MonthNo``,
``ChurnAfter``, ``Threshold``, ``Target``) instead of repeating the numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tagger import formulas as fx
from tagger import vocabulary
from tagger.config import PLAY_STATUSES
from tagger.i18n import Catalog, get_language
from tagger.segments import GROUPS
from tagger.segments import label as segment_label
from tagger.value_layers import layer_cuts
from tagger.values import parse_month
from tagger.workbook.grid import Grid
from tagger.workbook.labels import SHEETS
from tagger.workbook.sheet import Published
from tagger.workbook.styles import Styles

if TYPE_CHECKING:
    from tagger.pipeline import TagResult
    from tagger.workbook.sheet import SheetContext, Tab

# Groups a person may pick (manual labels, channel-reach rows), in display order.
PICKABLE_GROUPS: tuple[str, ...] = GROUPS

TEXT = Catalog(
    "params_sheet",
    {
        "title": {"zh": "参数（公式引用的命名单元格，修改后全表重算）",
                  "en": "Parameters (named cells the formulas read; edit them and the workbook recalculates)"},
        "name": {"zh": "参数", "en": "Parameter"},
        "value": {"zh": "值", "en": "Value"},
        "defined_name": {"zh": "名称", "en": "Name"},
        "meaning": {"zh": "含义", "en": "Meaning"},
        "report_month": vocabulary.word("report_month"),
        "report_month_help": {"zh": "本工作簿的月份 M；分群按自然月计算",
                              "en": "Month M of this workbook; segments use calendar months"},
        "month_no": {"zh": "月序号", "en": "Month number"},
        "month_no_help": {"zh": "年×12+月-1，公式用它计算月份差", "en": "year×12+month−1; formulas subtract these"},
        "churn": {"zh": "流失判定月数", "en": "Churn after (months)"},
        "churn_help": {"zh": "连续这么多个自然月未活跃即为流失；更少为休眠",
                       "en": "Inactive this many calendar months = churned; fewer = dormant"},
        "threshold": vocabulary.word("preference_threshold"),
        "threshold_help": {"zh": "某功能占近三月使用次数的比例达到此值即打上偏好标签",
                           "en": "A feature's share of 3-month usage that makes it a preference tag"},
        "threshold_sessions_help": {"zh": "某功能使用次数占近三月活跃天数的比例达到此值即打上偏好标签（可多个）",
                                    "en": "A feature's uses over the user's 3-month active days that make it a "
                                          "preference tag (several may)"},
        "target": vocabulary.word("target_rate"),
        "target_help": {"zh": "月活率 = 当月活跃用户 / 平台累计用户",
                        "en": "Active rate = active users this month / all registered users"},
        "lists": {"zh": "下拉列表", "en": "Dropdown lists"},
        "layers": {"zh": "价值分层阈值（[value_layers]，修改后“价值分层”列重算）",
                   "en": "Value-layer cuts ([value_layers]; edit them and the value-layer column recalculates)"},
        "layer_value": {"zh": "高价值：{header} ≥", "en": "High value: {header} ≥"},
        "layer_frequency": {"zh": "高频：{header} ≥", "en": "Frequent: {header} ≥"},
        "layer_recency": {"zh": "近期：{header} ≤", "en": "Recent: {header} ≤"},
        "layer_value_help": {"zh": "达到即为高价值（高价值活跃 / 高价值沉睡）；", "en": "At or above: high value; "},
        "layer_frequency_help": {"zh": "价值未达标但达到此频次即为潜力；",
                                 "en": "Below the value cut but this frequent: potential; "},
        "layer_recency_help": {"zh": "不超过此天数为近期（活跃），否则为沉睡；",
                               "en": "At most this many days: recent, else sleeping; "},
        "layer_quantile": {"zh": "默认值为本次导出的 {q:.0%} 分位数",
                           "en": "the default is this export's {q:.0%} quantile"},
        "layer_set": {"zh": "默认值取自配置", "en": "the default comes from the config"},
        "groups": {"zh": "分群", "en": "Groups"},
        "channels": {"zh": "渠道", "en": "Channels"},
        "statuses": {"zh": "策略状态", "en": "Play status"},
        "features": {"zh": "偏好功能", "en": "Preference features"},
        "feature": {"zh": "偏好标签", "en": "Tag"},
        "count_column": {"zh": "次数列", "en": "Count column"},
        "keywords": {"zh": "关键词（无次数时匹配“近三个月使用最多的功能”）",
                     "en": "Keywords (matched in the top-feature text when there are no counts)"},
        "keyword": {"zh": "关键词", "en": "Keyword"},
        "YesWords": {"zh": "视为“开车”", "en": "Means yes"},
        "NoWords": {"zh": "视为“未开车”", "en": "Means no"},
        "not_in_export": {"zh": "（导出中没有）", "en": "(not in the export)"},
        "status_planned": {"zh": "待启动", "en": "Planned"},
        "status_running": {"zh": "进行中", "en": "Running"},
        "status_done": {"zh": "已完成", "en": "Done"},
        "status_paused": {"zh": "暂停", "en": "Paused"},
    },
)


@dataclass
class ParamCells:
    """Where the parameter values live (for the notes sheet)."""

    month_no: int


def _word_lists(workbook: Any, grid: Grid, styles: Styles, result: TagResult) -> None:
    """Keyword → preference and yes/no spellings, right of the parameters; the formulas name them."""
    left, top = 5, 2
    table = fx.keyword_table(result.config.features, get_language())
    grid.row(top, left, [TEXT("keyword"), TEXT("feature")], styles["header"])
    for i, (word, label) in enumerate(table):
        grid.text(top + 1 + i, left, word)
        grid.text(top + 1 + i, left + 1, label)
    if table:
        last = top + len(table)
        workbook.define_name(fx.KW_ALL, f"={grid.area(top + 1, left, last, left)}")
        workbook.define_name(fx.KW_LABEL, f"={grid.area(top + 1, left + 1, last, left + 1)}")
    for offset, (name, words) in enumerate(fx.flag_words().items()):
        col = left + 3 + offset
        grid.text(top, col, TEXT(name), styles["header"])
        for i, word in enumerate(words):
            grid.text(top + 1 + i, col, word)
        workbook.define_name(name, f"={grid.area(top + 1, col, top + len(words), col)}")
    for col, width in ((left, 14), (left + 1, 14), (left + 3, 13), (left + 4, 13)):
        grid.ws.set_column(col, col, width)


def _layer_cuts(workbook: Any, grid: Grid, styles: Styles, result: TagResult, top: int) -> None:
    """The value-layer cuts as named input cells: the Users sheet's 价值分层 formulas read them."""
    layers = result.config.value_layers
    assert layers is not None
    cuts = layer_cuts(result.users.frame, layers)
    grid.text(top, 0, TEXT("layers"), styles["section"])
    grid.row(top + 1, 0, [TEXT("name"), TEXT("value"), TEXT("defined_name"), TEXT("meaning")], styles["header"])
    how = (TEXT("layer_quantile", q=layers.quantile) if layers.method == "quantile" else TEXT("layer_set"))
    rows = [("layer_value", fx.VALUE_CUT, cuts.value, layers.value, how),
            ("layer_frequency", fx.FREQ_CUT, cuts.frequency, layers.frequency, how),
            ("layer_recency", fx.RECENCY_CUT, cuts.recency, layers.recency, TEXT("layer_set"))]
    row = top + 2
    for key, defined, value, header, source in rows:
        if value is None:
            continue
        grid.text(row, 0, TEXT(key, header=header), styles["label"])
        grid.number(row, 1, value, styles["input_money"])
        grid.text(row, 2, defined)
        grid.text(row, 3, TEXT(f"{key}_help") + source, styles["wrap"])
        workbook.define_name(defined, f"={grid.ref(row, 1)}")
        row += 1


def status_label(key: str) -> str:
    return TEXT(f"status_{key}")


def write_params(ctx: SheetContext, ws: Any, tab: Tab) -> Published:
    """Fill the 参数 sheet and define the names the formulas use."""
    workbook, styles, result = ctx.workbook, ctx.styles, ctx.result
    name = SHEETS("params")
    grid = Grid(ws, name)
    config = result.config
    month = parse_month(result.month)
    year, month0 = divmod(month, 12)
    grid.text(0, 0, TEXT("title"), styles["title"])
    grid.row(2, 0, [TEXT("name"), TEXT("value"), TEXT("defined_name"), TEXT("meaning")], styles["header"])
    report = (dt.date(year, month0 + 1, 1) - dt.date(1899, 12, 30)).days
    rows: list[tuple[str, str, Any, str, str, str | None]] = [
        ("report_month", fx.REPORT_MONTH, report, "input_month", "report_month_help", None),
        ("month_no", fx.MONTH_NO, month, "int", "month_no_help",
         f"=YEAR({fx.REPORT_MONTH})*12+MONTH({fx.REPORT_MONTH})-1"),
        ("churn", fx.CHURN_AFTER, config.churn_after_months, "input_int", "churn_help", None),
        ("threshold", fx.THRESHOLD, config.preference_threshold, "input_pct",
         "threshold_sessions_help" if config.preference_share_of == "sessions" else "threshold_help", None),
        ("target", fx.TARGET, config.target_active_rate, "input_pct", "target_help", None),
    ]
    for offset, (key, defined, value, fmt, help_key, formula) in enumerate(rows):
        row = 3 + offset
        grid.text(row, 0, TEXT(key), styles["label"])
        if formula:
            grid.formula(row, 1, formula, value, styles[fmt])
        else:
            grid.number(row, 1, value, styles[fmt])
        grid.text(row, 2, defined)
        grid.text(row, 3, TEXT(help_key), styles["wrap"])
        workbook.define_name(defined, f"={grid.ref(row, 1)}")

    top = 10
    grid.text(top, 0, TEXT("lists"), styles["section"])
    lists = {
        "GroupList": [segment_label(k) for k in PICKABLE_GROUPS],
        "ChannelList": [c.label(get_language()) for c in config.channels],
        "StatusList": [status_label(k) for k in PLAY_STATUSES],
    }
    headings = [TEXT("groups"), TEXT("channels"), TEXT("statuses")]
    for col, ((list_name, values), heading) in enumerate(zip(lists.items(), headings, strict=True)):
        grid.text(top + 1, col, heading, styles["header"])
        for offset, value in enumerate(values):
            grid.text(top + 2 + offset, col, value)
        last = top + 1 + max(len(values), 1)
        workbook.define_name(list_name, f"={grid.area(top + 2, col, last, col)}")
        if list_name == "GroupList":
            workbook.define_name("LabelList", f"={grid.area(top + 2, col, last, col)}")

    row = top + 3 + max(len(v) for v in lists.values())
    grid.text(row, 0, TEXT("features"), styles["section"])
    grid.row(row + 1, 0, [TEXT("feature"), TEXT("count_column")], styles["header"])
    grid.text(row + 1, 3, TEXT("keywords"), styles["header"])
    for offset, feature in enumerate(config.features):
        header = result.users.feature_columns.get(feature.key, TEXT("not_in_export"))
        grid.row(row + 2 + offset, 0, [feature.label(get_language()), header])
        grid.text(row + 2 + offset, 3, "、".join(feature.keywords))
    if config.value_layers is not None and "value_layer" in result.tags:
        _layer_cuts(workbook, grid, styles, result, row + 3 + len(config.features))
    _word_lists(workbook, grid, styles, result)
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 22)
    ws.set_column(2, 2, 18)
    ws.set_column(3, 3, 60)
    grid.flush()
    return Published(cells=ParamCells(month_no=month))

