"""Sheet names and column headings of the workbook, in both languages."""

from __future__ import annotations

from tagger.i18n import Catalog
from tagger.registry import REGISTRY
from tagger.vocabulary import word

SHEETS = Catalog(
    "sheets",
    {
        "overview": {"zh": "总览", "en": "Overview"},
        "users": {"zh": "用户明细", "en": "Users"},
        "reach": {"zh": "触达跟踪", "en": "Channel reach"},
        "unmatched": {"zh": "未匹配人工标注", "en": "Unmatched overrides"},
        "forecast": {"zh": "目标拆解", "en": "Forecast"},
        "prefs": {"zh": "偏好分析", "en": "Preferences"},
        "transitions": {"zh": "分群流转", "en": "Transitions"},
        "params": {"zh": "参数", "en": "Parameters"},
        "notes": word("notes"),
        # One strategy sheet per group, g_<key> (short names: sheet names stop at 31 characters).
        **REGISTRY.texts("sheet", "g_"),
        "value_layers": word("value_layers"),
    },
)

HEADINGS = Catalog(
    "headings",
    {
        "segment": {"zh": "用户分群", "en": "Segment"},
        "group": {"zh": "分群细分", "en": "Group"},
        "tags": {"zh": "偏好标签", "en": "Preference tags"},
        "primary": word("primary_preference"),
        "why": {"zh": "分群说明", "en": "Why this segment"},
        "active": word("active_this_month"),
        "age": {"zh": "注册月数", "en": "Months since sign-up"},
        "idle": {"zh": "间隔月数", "en": "Idle months"},
        "prev_state": {"zh": "上月状态", "en": "Last month's state"},
        "usage_total": {"zh": "近三月使用次数", "en": "Uses (3 months)"},
        "value_layer": {"zh": "价值分层", "en": "Value layer"},
        "pref_base": {"zh": "偏好基数(活跃天数)", "en": "Share base (active days)"},
        "prev_hist": {"zh": "上次活跃时间(历史)", "en": "Last active before (history)"},
        "prev_group_hist": {"zh": "上月分群(历史)", "en": "Last month's group (history)"},
        # Columns people type into; refresh carries them forward by these headings.
        # The trigger rule that fired for the user (tagger.rules), shown when the config has rules.
        "rule": {"zh": "触发规则", "en": "Rule fired"},
        "rule_channel": {"zh": "规则渠道", "en": "Rule channel"},
        "rule_content": {"zh": "规则内容", "en": "Rule content"},
        "override": word("manual_label"),
        "remark": {"zh": "备注", "en": "Notes"},
        # Shown beside them: the group that acts (manual label first) and last month's label (read-only).
        "effective_group": word("effective_group"),
        "prev_override": {"zh": "上月人工标签", "en": "Last month's manual label"},
        # The 触达跟踪 (channel reach) sheet.
        "reach_date": {"zh": "日期", "en": "Date"},
        "reach_group": word("group"),
        "reach_channel": word("channel"),
        "reach_content": word("campaign"),
        "reach_targeted": {"zh": "触达人数", "en": "Targeted"},
        "reach_delivered": {"zh": "送达数", "en": "Delivered"},
        "reach_clicked": {"zh": "点击数", "en": "Clicked"},
        "reach_reactivated": {"zh": "回访活跃数", "en": "Reactivated"},
        "reach_cost": word("cost"),
        "reach_delivery_rate": {"zh": "送达率", "en": "Delivery rate"},
        "reach_click_rate": {"zh": "点击率", "en": "Click rate"},
        "reach_activation_rate": word("activation_rate"),
        "reach_cost_per_user": word("cost_per_user"),
        "title": {"zh": "{month} 用户分群总览", "en": "Segment overview, {month}"},
        "segment_table": word("segments"),
        "count": word("users"),
        "share": word("share"),
        "key": {"zh": "代码", "en": "Key"},
        "kpi": {"zh": "月活指标", "en": "Monthly active rate"},
        "mau": {"zh": "当月活跃用户 (MAU)", "en": "Monthly active users (MAU)"},
        "cumulative": word("cumulative_users"),
        "active_rate": {"zh": "月活率", "en": "Monthly active rate"},
        "target": word("target_rate"),
        "gap": {"zh": "与目标差距", "en": "Gap to target"},
        "quick_ratio": {"zh": "快速比率 (新+唤醒+回流)/休眠", "en": "Quick ratio (new+awakened+returned)/dormant"},
        "rates": {"zh": "4大指标（基数为上月分群）", "en": "The 4 rates (bases are last month's groups)"},
        "rate": {"zh": "指标", "en": "Rate"},
        "base": {"zh": "上月基数", "en": "Base (last month)"},
        "retained": word("active_this_month"),
        "value": word("value"),
        "old_retention": word("old_retention"),
        "new_retention": word("new_retention"),
        "awaken_rate": word("awaken_rate"),
        "return_rate": word("return_rate"),
        "notes": word("notes"),
        "trend": {"zh": "历史月份", "en": "Months in history"},
        "month": word("month"),
        "unknown": word("unknown"),
        "unknown_prev": {"zh": "上月状态未知的用户", "en": "Users whose last-month state is unknown"},
        "existing_users": {"zh": "上月已注册用户（含本月不在导出中的）",
                           "en": "Users registered before this month (incl. those gone)"},
        "total": word("total"),
        "cumulative_short": word("cumulative"),
        "quick_ratio_short": {"zh": "快速比率", "en": "Quick ratio"},
        "segment_mix": {"zh": "本月用户分群", "en": "Segment mix this month"},
        "rate_trend": {"zh": "月活率与目标", "en": "Active rate vs target"},
    },
)
