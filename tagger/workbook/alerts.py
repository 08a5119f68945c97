"""The 预警 (Alerts) and 复盘 (Review) sheets of a refresh.

Both are reports of numbers Python computed (:mod:`tagger.alerts`,
:mod:`tagger.campaigns`); they hold no inputs, so they are written as plain
values, top to bottom (the workbook is in ``constant_memory`` mode, where rows
must come in order). User text goes through ``write_string``, never ``write``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tagger.campaigns import MIN_GROUP
from tagger.i18n import Catalog, get_language
from tagger.segments import GROUPS, SEGMENTS, UNSPLIT
from tagger.segments import label as segment_label
from tagger.vocabulary import word
from tagger.workbook.rowxml import ColumnCells, SheetRows
from tagger.workbook.sheet import Published
from tagger.workbook.users import excel_serials

if TYPE_CHECKING:
    from tagger.pipeline import TagResult
    from tagger.workbook.sheet import SheetContext, Tab

SHEETS = Catalog("report_sheets", {
    "alerts": {"zh": "预警", "en": "Alerts"},
    "review": {"zh": "复盘", "en": "Review"},
})

TEXT = Catalog(
    "alerts_sheet",
    {
        "alerts_title": {"zh": "{month} 预警（数据截至 {as_of}）", "en": "Alerts for {month} (data up to {as_of})"},
        "projection": {"zh": "月末预测（截至数据日期的实际数 与 按模型预计的月末数）",
                       "en": "Month-end projection (actual numbers so far, and the model's month end)"},
        "item": {"zh": "项目", "en": "Item"},
        "value": word("value"),
        "as_of": {"zh": "数据截至", "en": "Data up to"},
        "days": {"zh": "已过天数 / 当月天数", "en": "Days elapsed / days in month"},
        "active": {"zh": "截至 {day} 日已活跃用户", "en": "Active users up to day {day}"},
        "cumulative": word("cumulative_users"),
        "rate": {"zh": "截至 {day} 日月活率", "en": "Active rate up to day {day}"},
        "current_gap": {"zh": "截至 {day} 日与目标差距", "en": "Gap to target up to day {day}"},
        "month_rate": {"zh": "月活率（全月）", "en": "Active rate (whole month)"},
        "month_gap": {"zh": "与目标差距（全月）", "en": "Gap to target (whole month)"},
        "projected_active": {"zh": "预计月末活跃用户", "en": "Projected active users at month end"},
        "projected_rate": {"zh": "预计月末月活率", "en": "Projected month-end active rate"},
        "previous_rate": {"zh": "上月月活率", "en": "Last month's active rate"},
        "target": word("target_rate"),
        "gap": {"zh": "预计月末与目标差距", "en": "Projected month-end gap to target"},
        "clipped": {"zh": "注意：模型算出 {raw} 人，超过平台累计用户，预计值已按 100% 封顶",
                    "en": "Note: the model gives {raw} users, more than the cumulative users; the projection is "
                          "held at 100 %"},
        "complete": {"zh": "本月数据已到月末：预计值即实际值", "en": "The data reach month end: projected = actual"},
        "model": {"zh": "模型：第 d 日前已出现的月活用户占全月比例 = (d / {days}) ^ α，α = {alpha:.2f}；"
                        "本月第 {day} 日已出现 {seen:.1%}，预计月末 = {active} ÷ {seen:.1%}",
                  "en": "Model: share of the month's active users seen by day d = (d / {days}) ^ α, α = {alpha:.2f}; "
                        "by day {day} {seen:.1%} seen, month end = {active} ÷ {seen:.1%}"},
        "calibrated": {"zh": "α 由历史库中 {n} 个同月较早导出（月中快照）校准；回测平均绝对误差 {error}",
                       "en": "α calibrated on {n} earlier exports of stored months (mid-month snapshots); "
                             "back-test mean absolute error {error}"},
        "uncalibrated": {"zh": "未校准：α 为默认曲线。历史库只存每位用户当月最后一次活跃，无法还原"
                               "「第 d 日前已活跃」的人数；同一月先后导入月中与月末数据后才能校准",
                         "en": "Uncalibrated: α is the default curve. History keeps each user's last activity of a "
                               "month only, which cannot tell who had been active by day d; import a mid-month and "
                               "then the month-end export of a month to calibrate it"},
        "backtest": {"zh": "回测：若从第 10 / 15 / 20 日预测，与该月实际月末月活率的误差（预计 − 实际）",
                     "en": "Back-test: projected minus actual month-end rate, projecting from day 10 / 15 / 20"},
        "bt_month": word("month"),
        "bt_final": {"zh": "实际月末月活率", "en": "Actual month-end rate"},
        "bt_day": {"zh": "第 {day} 日误差", "en": "Error from day {day}"},
        "bt_none": {"zh": "未校准", "en": "uncalibrated"},
        "bt_empty": {"zh": "（历史库中还没有可回测的月份：未校准）",
                     "en": "(no stored month to back-test: uncalibrated)"},
        "per_day": {"zh": "达标每日还需新增活跃", "en": "Extra active users needed per remaining day"},
        "levels": {"zh": "预警级别", "en": "Warning levels"},
        "level": {"zh": "级别", "en": "Level"},
        "condition": {"zh": "条件", "en": "Condition"},
        "users": word("users"),
        "action": {"zh": "建议动作", "en": "Suggested action"},
        "idle_rule": {"zh": "{days} 天未活跃", "en": "{days} days without activity"},
        "drop_rule": {"zh": "活跃度下降 {drop:.0%}", "en": "Activity down {drop:.0%}"},
        "mix": {"zh": "即将休眠用户：按偏好与建议渠道", "en": "About to go dormant: by preference and channel"},
        "preference": word("primary_preference"),
        "channel": word("suggested_channel"),
        "content": word("suggested_content"),
        "none": word("none"),
        "list": {"zh": "即将休眠用户（上月活跃、本月尚未活跃）：{n} 人",
                 "en": "About to go dormant (active last month, not yet this month): {n}"},
        "user_id": word("user_id"),
        "group": word("group"),
        "effective_group": word("effective_group"),
        "last_active": {"zh": "最近活跃", "en": "Last active"},
        "idle_days": {"zh": "间隔天数", "en": "Days idle"},
        "review_title": {"zh": "{month} 复盘", "en": "Review, {month}"},
        "target_section": {"zh": "活跃目标达成", "en": "Active-rate target"},
        "achievement": {"zh": "达成率（月活率 / 目标）", "en": "Achievement (rate / target)"},
        "by_group": {"zh": "分群策略效果", "en": "Strategy effect per group"},
        "by_channel": {"zh": "渠道效果", "en": "Channel effect"},
        "by_rule": {"zh": "自动规则准确度", "en": "Rule accuracy"},
        "by_content": {"zh": "内容效果", "en": "Content effect"},
        "accuracy": {"zh": "标签准确度（人工改标占比越低越准）",
                     "en": "Tag accuracy (the fewer manual corrections, the better)"},
        "overridden": {"zh": "人工改标人数", "en": "Corrected by hand"},
        "share": {"zh": "改标占比", "en": "Share corrected"},
        "all_users": {"zh": "全部用户", "en": "All users"},
        "campaigns": {"zh": "批次", "en": "Campaigns"},
        "contacted": {"zh": "触达人数", "en": "Contacted"},
        "back": {"zh": "回访活跃数", "en": "Came back"},
        "activation": word("activation_rate"),
        "holdout": {"zh": "对照组人数", "en": "Holdout"},
        "holdout_rate": {"zh": "对照组激活率", "en": "Holdout rate"},
        "lift": {"zh": "提升", "en": "Lift"},
        "low": {"zh": "95%置信下限", "en": "95% CI low"},
        "high": {"zh": "95%置信上限", "en": "95% CI high"},
        "verdict": {"zh": "判断", "en": "Verdict"},
        "group_heading": word("group"),
        "channel_heading": word("channel"),
        "rule_heading": word("rule"),
        "content_heading": word("content"),
        "effective": {"zh": "有效", "en": "Works"},
        "harmful": {"zh": "反效果", "en": "Backfires"},
        "unclear": {"zh": "差异不显著", "en": "No clear difference"},
        "no_control": {"zh": "无对照组", "en": "No holdout"},
        "small": {"zh": "样本太小", "en": "Sample too small"},
        "cost": word("cost"),
        "cost_per_user": word("cost_per_user"),
        "no_campaigns": {"zh": "（历史库中还没有可评估的触达批次；用 tagger contacts 生成名单并记录）",
                         "en": "(no campaign to judge yet; record some with tagger contacts)"},
        "method": {"zh": "说明：回访活跃 = 触达日期当天或之后有活跃；提升 = 触达组激活率 − 对照组激活率，"
                         "95% 置信区间用 Newcombe 混合 Wilson 区间；任一组不足 {min} 人时判断为“样本太小”。",
                   "en": "Came back = active on or after the campaign date; lift = contacted rate − holdout rate, "
                         "95% interval by Newcombe's hybrid Wilson score method; under {min} users in either "
                         "group the verdict is 'Sample too small'."},
        "ledger": {"zh": "渠道效率（触达跟踪手填行与 tagger contacts 记录的批次合为一本账，同一批次只算一次）",
                   "en": "Channel efficiency (typed Channel reach rows and campaigns recorded by tagger contacts as "
                         "one ledger; a campaign typed and recorded counts once)"},
        "typed_rows": {"zh": "手填行", "en": "Typed rows"},
        "recorded": {"zh": "记录批次", "en": "Recorded"},
        "matched": {"zh": "其中同一批次", "en": "Of which the same"},
        "source": {"zh": "来源", "en": "Source"},
        "from_typed": {"zh": "手填", "en": "typed"},
        "from_recorded": {"zh": "记录", "en": "recorded"},
        "stability": {"zh": "用户分群的适用性（上月在该分群的用户，本月仍在该分群的占比；"
                            "人工标签与计算分群不一致的人数）",
                      "en": "How well the groups fit (users of a group last month still in it this month; manual "
                            "labels that contradict the computed group)"},
        "pairs": {"zh": "比较的月份对", "en": "Month pairs"},
        "stayed": {"zh": "仍在该分群", "en": "Still in group"},
        "stayed_share": {"zh": "稳定率", "en": "Stability"},
        "next_group": {"zh": "下月最多去向", "en": "Most went to"},
        "next_share": {"zh": "去向占比", "en": "Share"},
        "contradicted": {"zh": "标签不一致", "en": "Labels against"},
        "no_pairs": {"zh": "（历史库中没有连续两个月的用户明细，无法计算稳定率）",
                     "en": "(history holds no two consecutive months of users; stability cannot be computed)"},
        "at_risk_section": {"zh": "上月“即将休眠”名单的准确度（按上月数据重算：上上月活跃、上月未活跃）",
                            "en": "Last month's 'about to go dormant' list (recomputed from last month's data)"},
        "flagged": {"zh": "上月标记人数", "en": "Flagged last month"},
        "went_dormant": {"zh": "本月确实休眠/流失", "en": "Did go dormant"},
        "came_back": {"zh": "本月回来活跃", "en": "Came back this month"},
        "missing": {"zh": "本月导出中没有", "en": "Not in this export"},
        "precision": {"zh": "准确率（休眠 / 标记）", "en": "Accuracy (dormant / flagged)"},
        "no_at_risk": {"zh": "（历史库中没有上月的用户明细，无法核对）",
                       "en": "(history holds no users for last month; the list cannot be checked)"},
        "ab_section": {"zh": "A/B 测试：各实验组与对照组、实验组之间的比较",
                       "en": "A/B tests: each arm against the holdout and against each other"},
        "ab_method": {"zh": "差值 = 前者激活率 − 后者激活率，95% 置信区间用 Newcombe 混合 Wilson 区间；所需样本 = 以 "
                            "95% 置信度、80% 把握检出 {lift:.0%} 提升时每组需要的人数（基线为对照组激活率，"
                            "无对照组时为各组合计激活率；配置 [review] min_lift）",
                      "en": "Difference = first rate − second rate, 95% interval by Newcombe's hybrid Wilson score "
                            "method; needed = users per arm to detect a lift of {lift:.0%} at 95% confidence and 80% "
                            "power (baseline: the holdout's rate, else the arms' pooled rate; [review] min_lift)"},
        "ab_rule": word("rule"),
        "ab_arm": word("arm"),
        "ab_other": {"zh": "比较对象", "en": "Compared with"},
        "ab_other_n": {"zh": "对象人数", "en": "Their users"},
        "ab_other_rate": {"zh": "对象激活率", "en": "Their rate"},
        "ab_diff": {"zh": "差值", "en": "Difference"},
        "ab_needed": {"zh": "每组所需样本", "en": "Needed per arm"},
        "ab_enough": {"zh": "样本是否足够", "en": "Enough users?"},
        "ab_holdout": {"zh": "对照组", "en": "Holdout"},
        "ab_better": {"zh": "{arm} 更好", "en": "{arm} is better"},
        "yes": {"zh": "足够", "en": "Yes"},
        "no": {"zh": "不足", "en": "Not yet"},
        "research_section": {"zh": "用户调研（用户调研表中填写的结果与原因，按人数）",
                             "en": "User research (answers and reasons typed on the research sheet, by users)"},
        "research_drawn": {"zh": "抽样 {n} 人，已填写 {answered} 人", "en": "{n} users drawn, {answered} answered"},
        "research_answer": word("answer"),
        "research_reason": word("reason"),
        "research_blank": {"zh": "（未填写）", "en": "(not answered)"},
        "no_research": {"zh": "（历史库中没有调研抽样；用 tagger contacts --research N 抽取）",
                        "en": "(no research sample in history; draw one with tagger contacts --research N)"},
        "no_ledger": {"zh": "（触达跟踪中还没有填写的行，也没有记录的触达批次）",
                      "en": "(no typed Channel reach row and no recorded campaign yet)"},
    },
)

EFFECT_COLUMNS = ("campaigns", "contacted", "back", "activation", "holdout", "holdout_rate", "lift", "low", "high")
FIELD = {"activation": "rate"}
PCT = {"activation", "holdout_rate", "lift", "low", "high", "share"}


class _Sheet:
    """Rows written strictly top to bottom, with the workbook's named formats."""

    def __init__(self, ws: Any, styles: Any) -> None:
        self.ws, self.styles, self.row = ws, styles, 0

    def fmt(self, name: str) -> Any:
        try:
            return self.styles[name]
        except KeyError:
            return None

    def cells(self, values: Sequence[Any], kinds: Sequence[str] | None = None, style: str | None = None) -> None:
        if style == "header":
            self.ws.set_row(self.row, 30)  # headings wrap onto two lines
        for col, value in enumerate(values):
            kind = kinds[col] if kinds else "text"
            fmt = self.fmt(style or kind)
            if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
                continue
            if isinstance(value, str):
                if value:
                    self.ws.write_string(self.row, col, value, self.fmt(style or ("center" if kind == "center"
                                                                                    else "text")))
            elif isinstance(value, (pd.Timestamp,)):
                self.ws.write_datetime(self.row, col, value.to_pydatetime(), self.fmt("day"))
            else:
                self.ws.write_number(self.row, col, float(value), fmt)
        self.row += 1

    def title(self, text: str, style: str = "title") -> None:
        # Notes are left unwrapped so a long line runs across the empty cells to its right.
        self.ws.write_string(self.row, 0, text, self.fmt("subtitle" if style == "note" else style))
        self.row += 1

    def gap(self) -> None:
        self.row += 1


def _group_text(key: object) -> str:
    return segment_label(str(key)) if key in (*GROUPS, *SEGMENTS, UNSPLIT) else str(key)


def write_alerts(ctx: SheetContext, ws: Any, tab: Tab) -> Published:
    """Fill the 预警 sheet from ``result.alerts``; the at-risk users' rows are published to be streamed in."""
    styles, result = ctx.styles, ctx.result
    alerts = result.alerts
    assert alerts is not None, "the alerts sheet is listed only for a result that carries alerts"
    sheet = _Sheet(ws, styles)
    for col, width in enumerate((22, 16, 16, 18, 36, 14, 10, 14)):
        ws.set_column(col, col, width)
    p = alerts.projection
    as_of = p.as_of.strftime("%Y-%m-%d") if p.as_of is not None else "-"
    sheet.title(TEXT("alerts_title", month=alerts.month, as_of=as_of))
    sheet.gap()
    _projection(sheet, p)
    sheet.gap()
    _levels(sheet, alerts)
    sheet.gap()
    sheet.title(TEXT("mix"), "section")
    sheet.cells([TEXT("preference"), TEXT("channel"), TEXT("users")], style="header")
    for pref, channel, users in alerts.by_preference_channel.itertuples(index=False):
        sheet.cells([pref or TEXT("none"), channel or TEXT("none"), users], ["text", "text", "int"])
    sheet.gap()
    return Published(rows=[_at_risk(sheet, alerts.at_risk, tab.name)])


def _projection(sheet: _Sheet, p: Any) -> None:
    """Actual numbers so far, labelled with the day, then the model's month end, its model and its error."""
    end = p.month_end
    sheet.title(TEXT("projection"), "section")
    sheet.cells([TEXT("item"), TEXT("value")], style="header")
    rows: list[tuple[str, Any, str]] = [(TEXT("days"), f"{p.day} / {p.days}", "text"),
                                        (TEXT("active", day=p.day), p.active, "int"),
                                        (TEXT("cumulative"), p.cumulative, "int"),
                                        (TEXT("rate", day=p.day), p.rate, "pct"),
                                        (TEXT("current_gap", day=p.day), end.current_gap, "pct"),
                                        (TEXT("projected_active"), p.projected_active, "int"),
                                        (TEXT("projected_rate"), p.projected_rate, "pct"),
                                        (TEXT("gap"), end.projected_gap, "pct"),
                                        (TEXT("previous_rate"), p.previous_rate, "pct"),
                                        (TEXT("target"), p.target, "pct"),
                                        (TEXT("per_day"), p.needed_per_day, "ratio")]
    for label, value, kind in rows:
        sheet.cells([label, value], ["text", kind])
    if end.clipped:
        sheet.title(TEXT("clipped", raw=f"{round(end.active / end.seen):,}"), "note")
    if end.month_complete:
        sheet.title(TEXT("complete"), "note")
    sheet.title(TEXT("model", days=end.days, alpha=end.model.alpha, day=end.day, seen=end.seen,
                     active=f"{end.active:,}"), "note")
    error = end.model.mean_abs_error
    sheet.title(TEXT("calibrated", n=end.model.snapshots, error="-" if error is None else f"{error:.1%}")
                if end.model.calibrated else TEXT("uncalibrated"), "note")
    _backtest(sheet, end.model)


def _backtest(sheet: _Sheet, model: Any) -> None:
    sheet.gap()
    sheet.title(TEXT("backtest"), "section")
    if not model.backtest:
        sheet.title(TEXT("bt_empty"), "note")
        return
    days = list(model.backtest[0].errors)
    sheet.cells([TEXT("bt_month"), TEXT("bt_final"), *(TEXT("bt_day", day=d) for d in days)], style="header")
    for row in model.backtest:
        errors = [TEXT("bt_none") if row.errors[d] is None else row.errors[d] for d in days]
        sheet.cells([row.month, row.final_rate, *errors], ["text", "pct", *(["pct"] * len(days))])


def _levels(sheet: _Sheet, alerts: Any) -> None:
    sheet.title(TEXT("levels"), "section")
    sheet.cells([TEXT("level"), TEXT("condition"), TEXT("users"), TEXT("action")], style="header")
    for level, count in alerts.levels:
        rule = TEXT("idle_rule", days=level.idle_days) if level.idle_days is not None else \
            TEXT("drop_rule", drop=level.activity_drop)
        per_user = level.idle_days is not None or level.current_column is not None
        sheet.cells([level.name, rule, count if per_user else None, level.action], ["text", "text", "int", "text"])
    for message in alerts.messages:
        sheet.title(message, "note")


def _at_risk(sheet: _Sheet, users: pd.DataFrame, name: str) -> SheetRows:
    """The list's title and heading; its rows (a tenth of a million-user export) are streamed in at the end."""
    sheet.title(TEXT("list", n=f"{len(users):,}"), "section")
    heads = ("user_id", "effective_group", "preference", "channel", "content", "last_active", "idle_days", "level")
    sheet.cells([TEXT(h) for h in heads[:-1]] + [TEXT("level")], style="header")
    styles = sheet.styles
    text, day, center = (styles[key]._get_xf_index() for key in ("text", "day", "center"))
    groups = {key: _group_text(key) for key in users["group"].unique().tolist()}
    columns = [
        ColumnCells(0, "text", users["user_id"].astype(str).to_numpy(dtype=object), text),
        ColumnCells(1, "text", users["group"].map(groups).to_numpy(dtype=object), text),
        *(ColumnCells(col, "text", _texts(users[key]), text)
          for col, key in enumerate(("preference", "channel", "content"), start=2)),
        ColumnCells(5, "number", excel_serials(users["last_active_date"]), day),
        ColumnCells(6, "number", pd.to_numeric(users["idle_days"]).to_numpy(dtype=float), center),
        ColumnCells(7, "text", _texts(users["level"]), text),
    ]
    return SheetRows(name, sheet.row, len(users), columns)


def _texts(values: pd.Series) -> np.ndarray:
    """A text column for the row writer: "" where a value is missing (an empty cell, as before)."""
    return values.where(values.notna(), "").astype(str).to_numpy(dtype=object)


def _effect_table(sheet: _Sheet, title: str, table: pd.DataFrame, by: str, labels: Any = str,
                  extra: pd.DataFrame | None = None) -> None:
    sheet.title(title, "section")
    heads = [TEXT(f"{by}_heading")]
    heads += [TEXT(c) for c in EFFECT_COLUMNS] + [TEXT("verdict")]
    if extra is not None:
        heads += [TEXT("cost"), TEXT("cost_per_user")]
    sheet.cells(heads, style="header")
    kinds = ["text"] + ["pct" if c in PCT else "int" for c in EFFECT_COLUMNS] + ["center", "ratio", "ratio"]
    costs = extra.set_index("channel") if extra is not None and len(extra) else None
    for record in table.to_dict("records"):
        values = [labels(record[by])] + [record[FIELD.get(c, c)] for c in EFFECT_COLUMNS] + [_verdict(record)]
        if costs is not None and record[by] in costs.index:
            values += [costs.at[record[by], "cost"], costs.at[record[by], "cost_per_user"]]
        elif extra is not None:
            values += [None, None]
        sheet.cells(values, kinds)


def _verdict(record: dict[str, Any]) -> str:
    if not record.get("holdout"):
        return TEXT("no_control")
    if record["holdout"] < MIN_GROUP or record["contacted"] < MIN_GROUP:
        return TEXT("small")
    if record["low"] > 0:
        return TEXT("effective")
    if record["high"] < 0:
        return TEXT("harmful")
    return TEXT("unclear")


def write_review(ctx: SheetContext, ws: Any, tab: Tab) -> None:
    """Fill the 复盘 sheet from ``result.review``."""
    styles, result = ctx.styles, ctx.result
    review = result.review
    assert review is not None, "the review sheet is listed only for a result that carries a review"
    sheet = _Sheet(ws, styles)
    for col, width in enumerate((26, 8, 11, 12, 10, 11, 13, 10, 12, 12, 14, 10, 16)):
        ws.set_column(col, col, width)
    sheet.title(TEXT("review_title", month=review.month))
    sheet.title(TEXT("method", min=MIN_GROUP), "note")
    sheet.gap()
    sheet.title(TEXT("target_section"), "section")
    sheet.cells([TEXT("item"), TEXT("value")], style="header")
    end = result.month_end
    current = review.active_rate
    gap = None if current is None else current - review.target
    if end.month_complete:
        rows = [(TEXT("month_rate"), current), (TEXT("target"), review.target),
                (TEXT("achievement"), review.achievement), (TEXT("month_gap"), gap)]
    else:  # the month is not over: say the numbers are so far, and show the one projection next to them
        rows = [(TEXT("rate", day=end.day), current), (TEXT("target"), review.target),
                (TEXT("achievement"), review.achievement), (TEXT("current_gap", day=end.day), gap),
                (TEXT("projected_rate"), end.projected_rate), (TEXT("gap"), end.projected_gap)]
    for label, value in rows:
        sheet.cells([label, value], ["text", "pct"])
    if not end.month_complete and end.clipped:
        sheet.title(TEXT("clipped", raw=f"{round(end.active / end.seen):,}"), "note")
    sheet.gap()
    if review.campaigns.empty:
        sheet.title(TEXT("no_campaigns"), "note")
        sheet.gap()
    else:
        _effect_table(sheet, TEXT("by_group"), review.by["group"], "group", _group_text)
        sheet.gap()
        _effect_table(sheet, TEXT("by_channel"), review.by["channel"], "channel", _channel_text(result))
        sheet.gap()
        _effect_table(sheet, TEXT("by_rule"), review.by["rule"], "rule")
        sheet.gap()
        _effect_table(sheet, TEXT("by_content"), review.by["content"], "content")
        sheet.gap()
    if len(review.ab):
        _ab_tests(sheet, review.ab, review.min_lift)
        sheet.gap()
    _ledger(sheet, review.ledger, _channel_text(result))
    sheet.gap()
    _accuracy(sheet, review)
    sheet.gap()
    _stability(sheet, review.stability)
    sheet.gap()
    _at_risk_check(sheet, review.at_risk)
    sheet.gap()
    _research(sheet, review.research)


def _ab_verdict(record: dict[str, Any]) -> str:
    """A pair of arms (or an arm and the holdout) judged as _verdict judges a campaign."""
    if not record["other_n"]:
        return TEXT("no_control")
    if record["other_n"] < MIN_GROUP or record["contacted"] < MIN_GROUP:
        return TEXT("small")
    if record["low"] > 0:
        return TEXT("ab_better", arm=record["arm"]) if record["other"] else TEXT("effective")
    if record["high"] < 0:
        return TEXT("ab_better", arm=record["other"]) if record["other"] else TEXT("harmful")
    return TEXT("unclear")


def _ab_tests(sheet: _Sheet, table: pd.DataFrame, min_lift: float) -> None:
    """One row per arm against the holdout, then per pair of arms: counts, rates, difference, verdict, size."""
    sheet.title(TEXT("ab_section"), "section")
    sheet.title(TEXT("ab_method", lift=min_lift), "note")
    heads = ("ab_rule", "ab_arm", "contacted", "back", "activation", "ab_other", "ab_other_n", "ab_other_rate",
             "ab_diff", "low", "high", "verdict", "ab_needed", "ab_enough")
    sheet.cells([TEXT(h) for h in heads], style="header")
    kinds = ["text", "center", "int", "int", "pct", "center", "int", "pct", "pct", "pct", "pct", "center", "int",
             "center"]
    for r in table.to_dict("records"):
        needed = r["needed"] if r["needed"] is not None and not pd.isna(r["needed"]) else None
        enough = None if needed is None or not r["other_n"] else \
            TEXT("yes") if min(r["contacted"], r["other_n"]) >= needed else TEXT("no")
        sheet.cells([str(r["rule"]), str(r["arm"]), r["contacted"], r["back"], r["rate"],
                     str(r["other"]) or TEXT("ab_holdout"), r["other_n"], r["other_rate"], r["diff"], r["low"],
                     r["high"], _ab_verdict(r), needed, enough], kinds)


def _research(sheet: _Sheet, research: pd.DataFrame) -> None:
    """Counts by answer and by reason of the users drawn for research."""
    from tagger.campaigns import research_summary

    sheet.title(TEXT("research_section"), "section")
    if research.empty:
        sheet.title(TEXT("no_research"), "note")
        return
    answered = int(((research["answer"].str.strip() != "") | (research["reason"].str.strip() != "")).sum())
    sheet.title(TEXT("research_drawn", n=len(research), answered=answered), "note")
    for column, table in zip(("answer", "reason"), research_summary(research), strict=True):
        sheet.cells([TEXT(f"research_{column}"), TEXT("users")], style="header")
        for value, users in table.itertuples(index=False):
            sheet.cells([value or TEXT("research_blank"), users], ["text", "int"])


def _source_text(sources: object) -> str:
    """``typed+recorded`` as 手填+记录 (or the English words)."""
    return "+".join(TEXT(f"from_{name}") for name in str(sources or "").split("+") if name)


def _ledger(sheet: _Sheet, ledger: pd.DataFrame, labels: Any) -> None:
    sheet.title(TEXT("ledger"), "section")
    if ledger.empty:
        sheet.title(TEXT("no_ledger"), "note")
        return
    sheet.cells([TEXT("channel_heading"), TEXT("typed_rows"), TEXT("recorded"), TEXT("matched"), TEXT("contacted"),
                 TEXT("source"), TEXT("back"), TEXT("source"), TEXT("cost"), TEXT("cost_per_user")], style="header")
    kinds = ["text", "int", "int", "int", "int", "center", "int", "center", "ratio", "ratio"]
    for r in ledger.to_dict("records"):
        sheet.cells([labels(r["channel"]), r["typed_rows"], r["recorded"], r["matched"], r["targeted"],
                     _source_text(r["targeted_from"]), r["reactivated"], _source_text(r["reactivated_from"]),
                     r["cost"], r["cost_per_user"]], kinds)


def _stability(sheet: _Sheet, table: pd.DataFrame) -> None:
    sheet.title(TEXT("stability"), "section")
    if table.empty or not int(table["pairs"].max()):
        sheet.title(TEXT("no_pairs"), "note")
    if table.empty:
        return
    sheet.cells([TEXT("group"), TEXT("pairs"), TEXT("users"), TEXT("stayed"), TEXT("stayed_share"),
                 TEXT("next_group"), TEXT("next_share"), TEXT("contradicted")], style="header")
    kinds = ["text", "int", "int", "int", "pct", "text", "pct", "int"]
    for r in table.to_dict("records"):
        moved_to = _group_text(r["next_group"]) if r["next_group"] else ""
        sheet.cells([_group_text(r["group"]), r["pairs"], r["users"], r["stayed"], r["share"], moved_to,
                     r["next_share"], r["contradicted"]], kinds)


def _at_risk_check(sheet: _Sheet, check: Any) -> None:
    sheet.title(TEXT("at_risk_section"), "section")
    if check is None:
        sheet.title(TEXT("no_at_risk"), "note")
        return
    sheet.cells([TEXT("item"), TEXT("value")], style="header")
    for key, value, kind in (("flagged", check.flagged, "int"), ("went_dormant", check.went_dormant, "int"),
                             ("came_back", check.came_back, "int"), ("missing", check.missing, "int"),
                             ("precision", check.precision, "pct")):
        sheet.cells([TEXT(key), value], ["text", kind])


def _channel_text(result: TagResult) -> Any:
    lang = get_language()
    names = {c.key: c.label(lang) for c in result.config.channels}
    return lambda key: names.get(str(key), str(key))


def _accuracy(sheet: _Sheet, review: Any) -> None:
    sheet.title(TEXT("accuracy"), "section")
    sheet.cells([TEXT("group"), TEXT("users"), TEXT("overridden"), TEXT("share")], style="header")
    kinds = ["text", "int", "int", "pct"]
    sheet.cells([TEXT("all_users"), review.users, review.overridden, review.override_share], kinds)
    for record in review.tag_accuracy.to_dict("records"):
        sheet.cells([_group_text(record["group"]), record["users"], record["overridden"], record["share"]], kinds)


__all__ = ["SHEETS", "write_alerts", "write_review"]
