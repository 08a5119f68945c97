"""Sheet names and column headings of the workbook, in both languages."""

from __future__ import annotations

from tagger.i18n import Catalog

SHEETS = Catalog(
    "sheets",
    {
        "overview": {"zh": "总览", "en": "Overview"},
        "users": {"zh": "用户明细", "en": "Users"},
        "reach": {"zh": "触达跟踪", "en": "Channel reach"},
        "unmatched": {"zh": "未匹配人工标注", "en": "Unmatched overrides"},
    },
)

HEADINGS = Catalog(
    "headings",
    {
        "segment": {"zh": "用户分群", "en": "Segment"},
        "group": {"zh": "分群细分", "en": "Group"},
        "tags": {"zh": "偏好标签", "en": "Preference tags"},
        "primary": {"zh": "主偏好", "en": "Primary preference"},
        # Columns people type into; refresh carries them forward by these headings.
        "override": {"zh": "人工标签", "en": "Manual label"},
        "remark": {"zh": "备注", "en": "Notes"},
        # The 触达跟踪 (channel reach) sheet.
        "reach_date": {"zh": "日期", "en": "Date"},
        "reach_group": {"zh": "分群", "en": "Group"},
        "reach_channel": {"zh": "渠道", "en": "Channel"},
        "reach_content": {"zh": "活动/内容", "en": "Campaign / content"},
        "reach_targeted": {"zh": "触达人数", "en": "Targeted"},
        "reach_delivered": {"zh": "送达数", "en": "Delivered"},
        "reach_clicked": {"zh": "点击数", "en": "Clicked"},
        "reach_reactivated": {"zh": "回访活跃数", "en": "Reactivated"},
        "reach_cost": {"zh": "成本", "en": "Cost"},
        "reach_delivery_rate": {"zh": "送达率", "en": "Delivery rate"},
        "reach_click_rate": {"zh": "点击率", "en": "Click rate"},
        "reach_activation_rate": {"zh": "激活率", "en": "Activation rate"},
        "reach_cost_per_user": {"zh": "单用户激活成本", "en": "Cost per reactivated user"},
        "title": {"zh": "{month} 用户分群总览", "en": "Segment overview, {month}"},
        "segment_table": {"zh": "用户分群", "en": "Segments"},
        "count": {"zh": "人数", "en": "Users"},
        "share": {"zh": "占比", "en": "Share"},
        "key": {"zh": "代码", "en": "Key"},
        "kpi": {"zh": "月活指标", "en": "Monthly active rate"},
        "mau": {"zh": "当月活跃用户 (MAU)", "en": "Monthly active users (MAU)"},
        "cumulative": {"zh": "平台累计用户", "en": "Cumulative users"},
        "active_rate": {"zh": "月活率", "en": "Monthly active rate"},
        "target": {"zh": "目标月活率", "en": "Target active rate"},
        "gap": {"zh": "与目标差距", "en": "Gap to target"},
        "quick_ratio": {"zh": "快速比率 (新+唤醒+回流)/休眠", "en": "Quick ratio (new+awakened+returned)/dormant"},
        "rates": {"zh": "4大指标（基数为上月分群）", "en": "The 4 rates (bases are last month's groups)"},
        "rate": {"zh": "指标", "en": "Rate"},
        "base": {"zh": "上月基数", "en": "Base (last month)"},
        "retained": {"zh": "本月活跃", "en": "Active this month"},
        "value": {"zh": "数值", "en": "Value"},
        "old_retention": {"zh": "老用户次月留存率", "en": "Old-user retention"},
        "new_retention": {"zh": "新用户次月留存率", "en": "New-user retention"},
        "awaken_rate": {"zh": "唤醒率", "en": "Awaken rate"},
        "return_rate": {"zh": "回流率", "en": "Return rate"},
        "notes": {"zh": "说明", "en": "Notes"},
        "trend": {"zh": "历史月份", "en": "Months in history"},
        "month": {"zh": "月份", "en": "Month"},
        "unknown": {"zh": "未知", "en": "unknown"},
    },
)
