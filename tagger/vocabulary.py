"""The words tagger says in many places, each defined once.

Sheets, the terminal report and the CLI all say 人数, 月份, 用户ID, 占比, the rate names...
A catalog that shows one of these holds it by reference (``"count": word("users")``) instead
of writing the text again, so a word changes in one place and tests/test_vocabulary.py can
check that no standalone text is defined twice. Segment and group names are not here: they
live in :mod:`tagger.registry`; preference names live in the preference definitions.

A sentence that merely contains a word keeps its own text; only a text that stands alone
(a heading, a label, a short message used as is) belongs here.

>>> from tagger.i18n import Catalog
>>> Catalog("demo_summary", {"count": word("users")})("count", lang="zh")
'人数'
"""

from __future__ import annotations

from collections.abc import Mapping

from tagger.i18n import Catalog

TEXT = Catalog(
    "words",
    {
        # People and their fields.
        "users": {"zh": "人数", "en": "Users"},
        "share": {"zh": "占比", "en": "Share"},
        "user_id": {"zh": "用户ID", "en": "User ID"},
        "month": {"zh": "月份", "en": "Month"},
        "report_month": {"zh": "报告月份", "en": "Report month"},
        "unknown": {"zh": "未知", "en": "unknown"},
        "none": {"zh": "（无）", "en": "(none)"},
        "value": {"zh": "数值", "en": "Value"},
        "total": {"zh": "合计", "en": "Total"},
        "target": {"zh": "目标", "en": "Target"},
        "notes": {"zh": "说明", "en": "Notes"},
        "file_name": {"zh": "文件名", "en": "the file name"},
        # Segments, groups and preferences as a whole (their names are in the registry).
        "segment": {"zh": "分群", "en": "Segment"},
        "group": {"zh": "分群", "en": "Group"},
        "segments": {"zh": "用户分群", "en": "Segments"},
        "effective_group": {"zh": "生效分群（人工优先）", "en": "Effective group (manual first)"},
        "manual_label": {"zh": "人工标签", "en": "Manual label"},
        "primary_preference": {"zh": "主偏好", "en": "Primary preference"},
        "preference_threshold": {"zh": "偏好阈值", "en": "Preference threshold"},
        "value_layers": {"zh": "价值分层", "en": "Value layers"},
        "active_this_month": {"zh": "本月活跃", "en": "Active this month"},
        "recent": {"zh": "近期活跃", "en": "recent"},
        # Counts and rates.
        "cumulative_users": {"zh": "平台累计用户", "en": "Cumulative users"},
        "cumulative": {"zh": "累计用户", "en": "Cumulative"},
        "active_rate": {"zh": "月活率", "en": "Active rate"},
        "target_rate": {"zh": "目标月活率", "en": "Target active rate"},
        "old_retention": {"zh": "老用户次月留存率", "en": "Old-user retention"},
        "new_retention": {"zh": "新用户次月留存率", "en": "New-user retention"},
        "awaken_rate": {"zh": "唤醒率", "en": "Awaken rate"},
        "return_rate": {"zh": "回流率", "en": "Return rate"},
        # Plays, campaigns and their reach.
        "rule": {"zh": "规则", "en": "Rule"},
        "channel": {"zh": "渠道", "en": "Channel"},
        "content": {"zh": "内容", "en": "Content"},
        "suggested_channel": {"zh": "建议渠道", "en": "Suggested channel"},
        "suggested_content": {"zh": "建议内容", "en": "Suggested content"},
        "campaign": {"zh": "活动/内容", "en": "Campaign / content"},
        "arm": {"zh": "实验组", "en": "Arm"},
        "cost": {"zh": "成本", "en": "Cost"},
        "activation_rate": {"zh": "激活率", "en": "Activation rate"},
        "cost_per_user": {"zh": "单用户激活成本", "en": "Cost per reactivated user"},
        # Research answers.
        "answer": {"zh": "调研结果", "en": "Answer"},
        "reason": {"zh": "原因", "en": "Reason"},
        # Reading an export: the column mapping tables of check and the wizard.
        "columns": {"zh": "列对应", "en": "Columns"},
        "field": {"zh": "字段", "en": "Field"},
        "header": {"zh": "表头", "en": "Header"},
        "samples": {"zh": "示例值", "en": "Sample values"},
        # Short messages said as they are by several front ends.
        "warning": {"zh": "注意", "en": "Warning"},
        "error": {"zh": "错误", "en": "Error"},
        "written": {"zh": "已写入：{path}", "en": "Written: {path}"},
    },
)


def word(key: str) -> Mapping[str, str]:
    """The shared text ``key``, for a catalog to hold by reference."""
    return TEXT.shared(key)


__all__ = ["TEXT", "word"]
