"""The 说明 (Notes) sheet: every definition behind the numbers, in words, with this run's values.

A reader who doubts a number should be able to audit it from here: which month, where
last month's state came from, the segment rules with this workbook's churn window, the
four rates' bases, the preference threshold, the target, how the forecast works, what is
a formula and what is typed in, and what each sheet holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tagger.config import LAYER_KEYS
from tagger.i18n import Catalog, get_language
from tagger.values import month_key, parse_month
from tagger.vocabulary import word
from tagger.workbook.grid import Grid
from tagger.workbook.labels import SHEETS

if TYPE_CHECKING:
    from tagger.pipeline import TagResult
    from tagger.workbook.sheet import SheetContext, Tab

TEXT = Catalog(
    "notes_sheet",
    {
        "title": {"zh": "说明：口径与定义", "en": "Notes: definitions behind every number"},
        "topic": {"zh": "项目", "en": "Topic"},
        "text": {"zh": "说明", "en": "Definition"},
        "month": word("report_month"),
        "month_text": {"zh": "{month}（自然月）。来源文件：{source}，共 {rows:,} 行。预设：{preset}。",
                       "en": "{month} (calendar month). Source: {source}, {rows:,} rows. Preset: {preset}."},
        "prev": {"zh": "上月状态来源", "en": "Last month's state"},
        "active_def": {"zh": "活跃", "en": "Active"},
        "active_text": {"zh": "当月登录 APP ≥ 1 次即为活跃；注册当月算活跃。月活率 = 当月活跃用户 / "
                              "平台累计用户（截至月末已注册的全部用户）。",
                        "en": "Logging in at least once in the month; the registration month counts. Active rate = "
                              "active users / all users registered by the end of the month."},
        "segments": word("segments"),
        "segments_text": {
            "zh": "新用户：本月注册；上月新用户：上月注册且本月活跃；活跃用户：上月、本月都活跃的老用户；唤醒用户："
                  "间隔 {awaken} 个月未活跃后本月活跃；回流用户：间隔 ≥ {k} 个月后本月活跃；休眠用户：本月未活跃、"
                  "未活跃不足 {k} 个月；流失用户：≥ {k} 个月未活跃，按“是否开车”分为有开车无APP活跃 / "
                  "无开车无APP活跃。",
            "en": "New: registered this month; New last month: registered last month and active now; Active: "
                  "existing users active last month and this month; Awakened: active after {awaken} idle month(s); "
                  "Returned: active after ≥ {k} idle months; Dormant: not active, idle under {k} months; Churned: "
                  "idle ≥ {k} months, split by 是否开车 into still driving / not driving.",
        },
        "rates": {"zh": "4大指标", "en": "The 4 rates"},
        "rates_text": {
            "zh": "基数均为上月状态（用户明细“上月状态”列）：老用户次月留存率 = 上月活跃老用户中本月活跃的比例；"
                  "新用户次月留存率 = 上月新用户中本月活跃的比例；唤醒率 = 上月休眠用户中本月活跃的比例；回流率 = "
                  "上月流失用户中本月活跃的比例。当月活跃 = 新用户 + Σ 基数 × 比率。",
            "en": "Bases are last month's states (the Users sheet's last-month-state column): old-user retention, "
                  "new-user retention, awaken rate and return rate are the shares of last month's active existing, "
                  "new, dormant and churned users who are active this month. MAU = new + Σ base × rate.",
        },
        "prefs": {"zh": "偏好标签", "en": "Preferences"},
        "prefs_text": {
            "zh": "某功能占用户近三个月使用次数的比例 ≥ {threshold:.0%} 即打上该偏好（可多个，以“、”连接）；"
                  "占比最高者为主偏好（并列取模板中靠前者）。无次数时按“近三个月使用最多的功能”匹配关键词。",
            "en": "A feature whose share of the user's 3-month usage is ≥ {threshold:.0%} becomes a tag (several "
                  "joined by 、); the largest share is the main preference (ties: the earlier feature). Without "
                  "counts, the top-feature text is matched against keywords.",
        },
        "prefs_sessions_text": {
            "zh": "某功能的使用次数（或使用天数）占用户窗口内活跃天数的比例 ≥ {threshold:.0%} "
                  "即打上该偏好（[preferences] share_of = \"sessions\"，文章的口径：占比可重叠，如控车 90%、活动 50%、"
                  "社区 40% 三个偏好都打上）；无活跃天数时按使用次数合计计算占比。"
                  "主偏好为次数最多者（并列取模板中靠前者）。无次数时按“近三个月使用最多的功能”匹配关键词。",
            "en": "A feature whose uses (or days used) make up ≥ {threshold:.0%} of the user's active days in the "
                  "window becomes a tag ([preferences] share_of = \"sessions\", the article's definition: shares "
                  "overlap, e.g. 90% control, 50% campaigns, 40% community gives all three); without active days the "
                  "summed counts are the base. The main preference is the most-used feature (ties: the earlier one). "
                  "Without counts, the top-feature text is matched against keywords.",
        },
        "window": {"zh": "偏好窗口", "en": "Preference window"},
        "window_3m": {"zh": "导出中的次数已是近三个月合计（[preferences] window = \"3m\"），直接使用。",
                      "en": "The export's counts are 3-month totals ([preferences] window = \"3m\") and are used as "
                            "they are."},
        "window_month": {
            "zh": "导出中的次数为单月数据（[preferences] window = \"month\"）：近三个月 = 本月 {month} + 历史库中的 "
                  "{months}；用户明细中“(前两月)”列为历史合计，“(近三月)”列为公式。{missing}",
            "en": "The export's counts are monthly ([preferences] window = \"month\"): the 3-month window = this month "
                  "{month} + {months} from history; on Users the '(2 months before)' columns hold the history and "
                  "the '(3 months)' columns are formulas. {missing}",
        },
        "window_missing": {"zh": "历史库中缺少 {months}，窗口不足三个月。",
                           "en": "History lacks {months}: the window is shorter than three months."},
        "window_none": {"zh": "无", "en": "none"},
        "layers": word("value_layers"),
        "layers_text": {
            "zh": "[value_layers]：按“{value}”分高低价值（阈值 ValueCut，{how}），按{recency}分近期/沉睡：高价值且近期 "
                  "= {high_active}，高价值非近期 = {high_sleeping}，未达高价值但{frequent} = {potential}，其余 = "
                  "{general}。阈值在“参数”表可改，“价值分层”表与用户分群交叉计数。",
            "en": "[value_layers]: high or low value by '{value}' (cut ValueCut, {how}), recent or sleeping by "
                  "{recency}: high and recent = {high_active}, high and not recent = {high_sleeping}, below the cut "
                  "but {frequent} = {potential}, everyone else = {general}. The cuts are editable on Parameters; the "
                  "Value layers sheet crosses them with the groups.",
        },
        "how_quantile": {"zh": "默认为本次导出的 {q:.0%} 分位数", "en": "by default this export's {q:.0%} quantile"},
        "how_set": {"zh": "由团队设定", "en": "set by the team"},
        "recency_col": {"zh": "“{header}”≤ RecencyCut 天", "en": "'{header}' ≤ RecencyCut days"},
        "recency_active": {"zh": "本月是否活跃", "en": "being active this month"},
        "frequent_col": {"zh": "“{header}”≥ FreqCut", "en": "'{header}' ≥ FreqCut"},
        "frequent_recent": word("recent"),
        "target": word("target"),
        "target_text": {"zh": "目标月活率 {target:.0%}。目标拆解表按“保留存、提唤醒、高挽回”预测未来月份，"
                              "并给出单项指标需达到的值。",
                        "en": "Target active rate {target:.0%}. The Forecast sheet projects the next months and the "
                              "rate each lever would need on its own."},
        "formulas": {"zh": "公式与输入", "en": "Formulas and inputs"},
        "formulas_text": {
            "zh": "绿色表头的列是公式（缓存了 tagger 计算的值）；黄色是可填写的输入。"
                  "公式引用“参数”表的命名单元格（ReportMonth、MonthNo、ChurnAfter、Threshold、Target），"
                  "修改参数即全表重算。各分群表中的用户名单是本次运行的快照。",
            "en": "Green-headed columns are formulas (cached with tagger's values); yellow cells are inputs. Formulas "
                  "read the named cells on the Parameters sheet (ReportMonth, MonthNo, ChurnAfter, Threshold, "
                  "Target): change one and the workbook recalculates. User lists on the group sheets are a "
                  "snapshot of this run.",
        },
        "sheets": {"zh": "工作表", "en": "Sheets"},
        "sheets_text": {
            "zh": "总览：6个群体+4大指标、历史月份、图表；目标拆解：预测与所需指标；用户明细：每个用户的分群、偏好、"
                  "原因、人工标签与备注；各分群表：规模趋势、偏好构成、策略打法、用户名单与建议触达；偏好分析；"
                  "分群流转；触达跟踪；参数；说明。",
            "en": "Overview: the 6 groups + 4 rates, history, charts; Forecast; Users: each user's segment, "
                  "preferences, reason, manual label and notes; one sheet per group: size, preference mix, "
                  "playbook, users with suggested reach; Preferences; Transitions; Channel reach; Parameters; Notes.",
        },
        "warnings": {"zh": "本次运行的提示", "en": "Warnings of this run"},
    },
)


NOTE_WIDTH = 110


def _lines(text: str, width: float) -> int:
    """Lines a wrapped cell needs (CJK characters are two columns wide); rows are not auto-fitted."""
    total = 0
    for part in text.split("\n"):
        columns = sum(2 if ord(ch) > 0x2E80 else 1 for ch in part)
        total += max(1, -(-columns // int(width * 1.1)))
    return total


def _prefs_key(result: TagResult) -> str:
    """Sessions only when the export had the active days they are taken of (else the total is used)."""
    sessions = result.config.preference_share_of == "sessions" and "active_days" in result.users.frame
    return "prefs_sessions_text" if sessions else "prefs_text"


def _window_text(result: TagResult) -> str:
    """Which months the preference counts cover: the export's own totals, or this month plus history."""
    found = result.window_months
    if found is None:
        return TEXT("window_3m")
    month = parse_month(result.month)
    wanted = [month_key(month - 2), month_key(month - 1)]
    lacking = [m for m in wanted if m not in found]
    missing = TEXT("window_missing", months="、".join(lacking)) if lacking else ""
    return TEXT("window_month", month=result.month, months="、".join(found) or TEXT("window_none"),
                missing=missing).strip()


def _layers_text(result: TagResult) -> str:
    """How the value layers are cut, in this run's words."""
    layers = result.config.value_layers
    assert layers is not None
    lang = get_language()
    how = TEXT("how_quantile", q=layers.quantile) if layers.method == "quantile" else TEXT("how_set")
    recency = TEXT("recency_col", header=layers.recency) if layers.recency else TEXT("recency_active")
    frequent = TEXT("frequent_col", header=layers.frequency) if layers.frequency else TEXT("frequent_recent")
    names = {key: layers.name(key, lang) for key in LAYER_KEYS}
    return TEXT("layers_text", value=layers.value, how=how, recency=recency, frequent=frequent, **names)


def write_notes(ctx: SheetContext, ws: Any, tab: Tab) -> None:
    """Fill the Notes sheet."""
    styles, result = ctx.styles, ctx.result
    grid = Grid(ws, SHEETS("notes"))
    config = result.config
    k = config.churn_after_months
    ws.set_column(0, 0, 18)
    ws.set_column(1, 1, NOTE_WIDTH)
    grid.text(0, 0, TEXT("title"), styles["title"])
    grid.row(2, 0, [TEXT("topic"), TEXT("text")], styles["header"])
    items = [
        ("month", TEXT("month_text", month=result.month, source=result.options.export.name, rows=result.metrics.rows,
                       preset=config.preset)),
        ("prev", "；".join(result.notes) if result.notes else "—"),
        ("active_def", TEXT("active_text")),
        ("segments", TEXT("segments_text", k=k, awaken="1" if k <= 2 else f"1～{k - 1}")),
        ("rates", TEXT("rates_text")),
        ("prefs", TEXT(_prefs_key(result), threshold=config.preference_threshold)),
        ("window", _window_text(result)),
        *([("layers", _layers_text(result))] if "value_layer" in result.tags else []),
        ("target", TEXT("target_text", target=config.target_active_rate)),
        ("formulas", TEXT("formulas_text")),
        ("sheets", TEXT("sheets_text")),
    ]
    if result.warnings:
        items.append(("warnings", "\n".join(result.warnings)))
    for i, (key, text) in enumerate(items):
        ws.set_row(3 + i, 16 * _lines(text, NOTE_WIDTH) + 4)
        grid.text(3 + i, 0, TEXT(key), styles["label_top"])
        grid.text(3 + i, 1, text, styles["wrap"])
    grid.flush()
