"""Canonical fields and the header names that mean them.

Exports come from different BI tools and people, so the same field arrives as
``最近一次活跃时间``, ``最近活跃时间 `` (trailing space), ``最后登录时间`` or
``last_active``. tagger matches headers after NFKC normalisation, dropping
whitespace, zero-width characters, ``_`` and ``-``, and case-folding; the
aliases below are built in and a project can override any of them in
``[columns]`` of its config.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

from tagger.i18n import Catalog

REQUIRED_FIELDS: tuple[str, ...] = ("user_id", "register_date", "last_active_date")

DEFAULT_ALIASES: dict[str, tuple[str, ...]] = {
    "user_id": ("用户ID", "用户编号", "用户id", "会员ID", "会员编号", "账号ID", "uid", "user_id", "userid", "id"),
    "register_date": (
        "注册时间", "注册日期", "首次注册时间", "注册时间点", "register_date", "register_time",
        "registered_at", "signup_date", "reg_date",
    ),
    "last_active_date": (
        "最近一次活跃时间", "最近活跃时间", "最后登录时间", "最近一次登录时间", "最后活跃时间",
        "最近登录时间", "last_active_date", "last_active", "last_active_time", "last_login", "last_seen",
    ),
    "prev_active_date": (
        "上次活跃时间", "上一次活跃时间", "本月前最近活跃时间", "本月前最后活跃时间", "上月及以前最近活跃时间",
        "prev_active_date", "previous_active_date", "prev_active",
    ),
    "user_key": ("用户唯一标识码", "唯一标识码", "用户唯一标识", "unique_id", "user_key"),
    "nickname": ("昵称", "用户昵称", "nickname", "nick_name", "nick"),
    "drove": ("是否开车", "近期是否开车", "本月是否开车", "drove", "is_driving", "driving"),
    "top_feature_3m": (
        "近三个月使用最多的功能", "近3个月使用最多的功能", "近三月使用最多的功能", "常用功能",
        "top_feature_3m", "top_feature",
    ),
    "active_days": (
        "近三个月活跃天数", "近3个月活跃天数", "近三月活跃天数", "活跃天数", "登录天数", "本月活跃天数",
        "active_days", "active_days_3m", "login_days",
    ),
    "activity_count_3m": (
        "近三个月参与活动次数", "近3个月参与活动次数", "近三月参与活动次数", "activity_count_3m",
        "activity_count",
    ),
}

# What each canonical field holds, in every language: the Catalog every front end names a field by.
TEXT = Catalog(
    "fields",
    {
        "user_id": {"zh": "用户ID", "en": "user ID"},
        "register_date": {"zh": "注册时间", "en": "registration date"},
        "last_active_date": {"zh": "最近一次活跃时间", "en": "last active date"},
        "prev_active_date": {"zh": "上次活跃时间", "en": "previous active date"},
        "user_key": {"zh": "用户唯一标识码", "en": "unique user key"},
        "nickname": {"zh": "昵称", "en": "nickname"},
        "drove": {"zh": "是否开车", "en": "drove"},
        "top_feature_3m": {"zh": "近三个月使用最多的功能", "en": "top feature (3 months)"},
        "active_days": {"zh": "近三个月活跃天数", "en": "active days (window)"},
        # The columns [value_layers] names (no built-in headers: the config gives them).
        "layer_value": {"zh": "价值分层：价值", "en": "value layer: value"},
        "layer_frequency": {"zh": "价值分层：频次", "en": "value layer: frequency"},
        "layer_recency": {"zh": "价值分层：距今天数", "en": "value layer: days since"},
        "activity_count_3m": {"zh": "近三个月参与活动次数", "en": "activities joined (3 months)"},
    },
)
# The same texts by field, for callers that index them (``FIELD_LABELS[name][lang]``).
FIELD_LABELS: Mapping[str, Mapping[str, str]] = TEXT.texts

# What each optional field changes when the export has it, in a few words (the wizard shows them).
FIELD_NOTES: dict[str, dict[str, str]] = {
    "prev_active_date": {"zh": "用它定上月状态（唤醒/回流），不必用历史库",
                         "en": "gives last month's state (awakened/returned) without history"},
    "user_key": {"zh": "写进触达名单，供发送工具匹配用户", "en": "goes into the contact lists, for the sending tool"},
    "nickname": {"zh": "显示在触达名单和分群表中", "en": "shown on the contact lists and group sheets"},
    "drove": {"zh": "流失用户再分为开车/不开车", "en": "splits churned users into drove / did not drive"},
    "top_feature_3m": {"zh": "没有使用次数的用户按它定偏好", "en": "gives a preference to users without counts"},
    "active_days": {"zh": "share_of = \"sessions\" 时，偏好份额按活跃天数计算",
                    "en": "with share_of = \"sessions\", preference shares are of these days"},
    "activity_count_3m": {"zh": "不改标签；可在 [[rules]] 的 when 条件中使用",
                          "en": "no effect on tags; usable in [[rules]] when-conditions"},
}

# A feature's usage-count column, named for what it holds: "控车次数 (近三个月)", not the preference "控车偏好".
USAGE_LABEL: dict[str, str] = {"zh": "{feature}次数 (近三个月)", "en": "{feature} count (3 months)"}
_PREFERENCE_WORD = {"zh": "偏好", "en": ""}


def usage_label(feature_label: str, lang: str) -> str:
    """The label of a feature's count column, from the feature's (preference) label.

    >>> usage_label("控车偏好", "zh"), usage_label("Vehicle control", "en")
    ('控车次数 (近三个月)', 'Vehicle control count (3 months)')
    """
    word = _PREFERENCE_WORD[lang]
    name = feature_label[: -len(word)] if word and feature_label.endswith(word) else feature_label
    return USAGE_LABEL[lang].format(feature=name)


def field_label(name: str, lang: str, feature_labels: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """What a canonical field holds, in ``lang``: one place for every front end that names a field.

    ``feature_labels`` maps a feature's count field (``usage_control``) to the
    feature's labels; such a field is named for its count, not for the preference.

    >>> field_label("user_id", "zh"), field_label("usage_control", "zh", {"usage_control": {"zh": "控车偏好"}})
    ('用户ID', '控车次数 (近三个月)')
    """
    if name in FIELD_LABELS:
        return FIELD_LABELS[name][lang]
    labels = (feature_labels or {}).get(name)
    return usage_label(labels[lang], lang) if labels and lang in labels else name


def field_note(name: str, lang: str) -> str:
    """In a few words, what an optional field changes when the export has it ("" for any other field)."""
    return FIELD_NOTES[name][lang] if name in FIELD_NOTES else ""


_IGNORED = re.compile(r"[\s_\-\u200b\u200c\u200d\u2060\ufeff]+")


def normalize_header(text: object) -> str:
    """The form headers are compared in.

    >>> normalize_header(" 注册时间\\n")
    '注册时间'
    >>> normalize_header("Last_Active")
    'lastactive'
    >>> normalize_header("用户ＩＤ")
    '用户id'
    """
    if text is None:
        return ""
    value = unicodedata.normalize("NFKC", str(text))
    return _IGNORED.sub("", value).casefold()


def build_aliases(
    overrides: Mapping[str, str | Sequence[str]] | None = None,
    extra: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, tuple[str, ...]]:
    """Merge the built-in aliases with feature columns (``extra``) and config overrides.

    An override replaces the built-in names for that field: a project that says
    ``user_id = "会员号"`` means that column and no other.
    """
    aliases: dict[str, tuple[str, ...]] = dict(DEFAULT_ALIASES)
    for field, names in (extra or {}).items():
        aliases[field] = tuple(names)
    for field, names in (overrides or {}).items():
        aliases[field] = (names,) if isinstance(names, str) else tuple(names)
    return aliases


def match_columns(headers: Iterable[object], aliases: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Map each canonical field to the first header that is one of its aliases.

    Aliases are tried in order, so an earlier alias wins over a later one even when
    the later one appears first in the sheet. A header is used for one field only.

    >>> match_columns(["用户ID", "注册时间 ", "最后登录时间"], DEFAULT_ALIASES)
    {'user_id': '用户ID', 'register_date': '注册时间 ', 'last_active_date': '最后登录时间'}
    """
    by_norm: dict[str, str] = {}
    for header in headers:
        if header is None:
            continue
        key = normalize_header(header)
        if key and key not in by_norm:
            by_norm[key] = str(header)
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for field, names in aliases.items():
        for name in names:
            header = by_norm.get(normalize_header(name))
            if header is not None and header not in used:
                mapping[field] = header
                used.add(header)
                break
    return mapping


def missing_required(mapping: Mapping[str, str], required: Iterable[str] = REQUIRED_FIELDS) -> list[str]:
    """Required fields that no header matched, in their canonical order."""
    return [field for field in required if field not in mapping]


def is_header_row(cells: Sequence[object], aliases: Mapping[str, Sequence[str]]) -> bool:
    """True when ``cells`` hold a header for every required field."""
    return not missing_required(match_columns(cells, aliases))


def column_letter(index: int) -> str:
    """Excel column letters for a 0-based index.

    >>> column_letter(0), column_letter(25), column_letter(26), column_letter(16383)
    ('A', 'Z', 'AA', 'XFD')
    """
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters
