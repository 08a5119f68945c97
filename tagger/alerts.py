"""Mid-month warnings: who is about to go dormant, where the month will end, and multi-level alerts.

A refresh in the middle of month M sees users who were active in M-1 but have
not opened the app yet in M. If nothing happens they become 休眠 at month end,
so they are listed (即将休眠) with their preference and the channel a rule
suggests, while there is still time to reach them.

The month-end projection is the one model of :mod:`tagger.projection` (a concave
curve of the share of the month's users seen by day d, calibrated on history when it
can be); the sheet also shows how many more active users per remaining day the
target needs, which does not depend on any model.

Warning levels come from ``[[alerts.levels]]`` in the config; the defaults are
the three levels of seed 002 (一级 activity down 30 %, 二级 60 days without
activity, 三级 90 days). ``idle_days`` levels are per user. An
``activity_drop`` level is per user when the config names the two count columns
to compare (``current_column``, ``previous_column``); otherwise it compares the
projected active rate with last month's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tagger.config import Config
from tagger.errors import ConfigError
from tagger.i18n import Catalog, get_language
from tagger.projection import MonthEnd
from tagger.values import month_number, parse_month

if TYPE_CHECKING:
    from tagger.pipeline import TagResult

TEXT = Catalog(
    "alerts",
    {
        "level1": {"zh": "一级预警", "en": "Level 1"},
        "level2": {"zh": "二级预警", "en": "Level 2"},
        "level3": {"zh": "三级预警", "en": "Level 3"},
        "action1": {"zh": "客服回访 + 定向优惠券", "en": "Service call-back + targeted coupon"},
        "action2": {"zh": "启动流失用户调研 + 专属福利", "en": "Churn survey + exclusive benefit"},
        "action3": {"zh": "推送品牌升级通知 + 老用户回归礼包", "en": "Brand update notice + welcome-back pack"},
        "bad_level": {
            "zh": "配置 {where} 的第 {position} 个预警级别无效：{reason}",
            "en": "config {where}: alert level {position} is invalid: {reason}",
        },
        "one_trigger": {
            "zh": "需要且只能有 idle_days（天数）或 activity_drop（0 到 1 之间的比例）之一",
            "en": "give exactly one of idle_days (days) or activity_drop (a share between 0 and 1)",
        },
        "bad_days": {"zh": "idle_days 必须是正整数", "en": "idle_days must be a positive whole number"},
        "bad_drop": {"zh": "activity_drop 必须在 0 和 1 之间，例如 0.3",
                     "en": "activity_drop must be between 0 and 1, e.g. 0.3"},
        "both_columns": {"zh": "current_column 与 previous_column 需同时给出",
                         "en": "give both current_column and previous_column, or neither"},
        "rate_drop": {
            "zh": "{level}：预计月活率 {projected:.1%} 比上月 {previous:.1%} 下降 {drop:.0%}（阈值 {threshold:.0%}）。"
                  "建议：{action}",
            "en": "{level}: projected active rate {projected:.1%} is {drop:.0%} below last month's "
                  "{previous:.1%} (threshold {threshold:.0%}). Suggested: {action}",
        },
    },
)


@dataclass(frozen=True)
class AlertLevel:
    """One warning level: a trigger (idle days or an activity drop) and the suggested action."""

    name: str
    action: str
    idle_days: int | None = None
    activity_drop: float | None = None
    current_column: str | None = None
    previous_column: str | None = None


@dataclass
class Projection:
    """Month-to-date numbers and the month-end projection (:class:`tagger.projection.MonthEnd`)."""

    as_of: pd.Timestamp | None
    day: int
    days: int
    active: int
    cumulative: int
    rate: float | None
    projected_active: int
    projected_rate: float | None
    target: float
    previous_rate: float | None
    month_end: MonthEnd | None = None

    @property
    def mid_month(self) -> bool:
        return self.day < self.days

    @property
    def clipped(self) -> bool:
        """True when the projection was held at 100 % of cumulative users (the sheet says so)."""
        return bool(self.month_end and self.month_end.clipped)

    @property
    def needed_per_day(self) -> float | None:
        """Extra active users needed per remaining day to reach the target (0 when already reached)."""
        remaining = self.days - self.day
        need = max(0.0, self.target * self.cumulative - self.active)
        return need / remaining if remaining > 0 else None


@dataclass
class Alerts:
    """What the 预警 sheet shows."""

    month: str
    projection: Projection
    at_risk: pd.DataFrame
    by_preference_channel: pd.DataFrame
    levels: list[tuple[AlertLevel, int]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


def default_levels(lang: str | None = None) -> list[AlertLevel]:
    """Seed 002's three levels."""
    return [
        AlertLevel(TEXT("level1", lang), TEXT("action1", lang), activity_drop=0.3),
        AlertLevel(TEXT("level2", lang), TEXT("action2", lang), idle_days=60),
        AlertLevel(TEXT("level3", lang), TEXT("action3", lang), idle_days=90),
    ]


def load_levels(config: Config, lang: str | None = None) -> list[AlertLevel]:
    """``[[alerts.levels]]`` of the config (the seed's defaults when absent), validated."""
    items = config.raw.get("alerts", {}).get("levels")
    if items is None:
        return default_levels(lang)
    where = str(config.source or f"preset {config.preset}")
    lang = lang or get_language()
    return [_level(item, position, where, lang) for position, item in enumerate(items, start=1)]


def _level(item: Mapping[str, Any], position: int, where: str, lang: str) -> AlertLevel:
    def fail(key: str) -> ConfigError:
        return ConfigError(TEXT("bad_level", where=where, position=position, reason=TEXT(key)))

    days, drop = item.get("idle_days"), item.get("activity_drop")
    if (days is None) == (drop is None):
        raise fail("one_trigger")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days <= 0):
        raise fail("bad_days")
    if drop is not None and (isinstance(drop, bool) or not isinstance(drop, (int, float)) or not 0 < drop < 1):
        raise fail("bad_drop")
    current, previous = item.get("current_column"), item.get("previous_column")
    if (current is None) != (previous is None):
        raise fail("both_columns")
    name = item.get(lang) or item.get("name") or TEXT(f"level{min(position, 3)}", lang)
    return AlertLevel(str(name), str(item.get("action", "")), days, float(drop) if drop is not None else None,
                      current, previous)


def project(result: TagResult) -> Projection:
    """Month-to-date active users and the month-end projection of :mod:`tagger.projection`."""
    end = result.month_end
    previous = next((t.active_rate for t in reversed(result.trend) if t.month < result.month), None)
    return Projection(as_of=end.as_of, day=end.day, days=end.days, active=end.active, cumulative=end.cumulative,
                      rate=end.rate, projected_active=end.projected_active, projected_rate=end.projected_rate,
                      target=end.target, previous_rate=previous, month_end=end)


def _level_masks(levels: list[AlertLevel], idle_days: pd.Series, raw: pd.DataFrame) -> np.ndarray:
    """users × levels booleans for the per-user levels (population-only levels stay all False)."""
    out = np.zeros((len(idle_days), len(levels)), dtype=bool)
    for j, level in enumerate(levels):
        if level.idle_days is not None:
            out[:, j] = (idle_days >= level.idle_days).fillna(False).to_numpy(dtype=bool)
        elif level.current_column in raw and level.previous_column in raw:
            current = pd.to_numeric(raw[level.current_column], errors="coerce")
            previous = pd.to_numeric(raw[level.previous_column], errors="coerce")
            drop = 1 - current / previous.where(previous > 0)
            out[:, j] = (drop >= level.activity_drop).fillna(False).to_numpy(dtype=bool)
    return out


def compute_alerts(result: TagResult) -> Alerts:
    """The 预警 sheet's content for a run (usually a mid-month refresh)."""
    lang = result.lang
    levels = load_levels(result.config, lang)
    projection = project(result)
    frame, tags = result.users.frame, result.tags
    month = parse_month(result.month)
    as_of = projection.as_of if projection.as_of is not None else frame["last_active_date"].max()
    idle_days = (as_of - frame["last_active_date"]).dt.days
    masks = _level_masks(levels, idle_days, result.table.frame)
    level_index = np.where(masks.any(axis=1), masks.shape[1] - 1 - np.argmax(masks[:, ::-1], axis=1), -1) \
        if len(levels) else np.full(len(frame), -1)
    names = np.array([lv.name for lv in levels] + [""], dtype=object)
    at_risk_mask = (month_number(frame["last_active_date"]) == month - 1).fillna(False).to_numpy(dtype=bool)
    at_risk_mask &= ~tags["active"].to_numpy(dtype=bool)
    channel, content = _suggested_actions(result, lang, at_risk_mask)
    at_risk = pd.DataFrame({
        "user_id": frame["user_id"], "group": tags.get("effective_group", tags["group"]),
        "preference": tags["primary"], "channel": channel, "content": content,
        "last_active_date": frame["last_active_date"], "idle_days": idle_days,
        "level": names[level_index],
    })[at_risk_mask]
    mix = at_risk.assign(n=1).groupby(["preference", "channel"], sort=True)["n"].sum().reset_index(name="users")
    counts = [(level, int((level_index == j).sum())) for j, level in enumerate(levels)]  # highest level only
    return Alerts(result.month, projection, at_risk.reset_index(drop=True), mix, counts,
                  _population_messages(levels, projection))


def _suggested_actions(result: TagResult, lang: str, listed: np.ndarray) -> tuple[pd.Series, pd.Series]:
    """Channel and content per user: the rule that fired, else the playbook row the group sheets suggest.

    The playbook (per-user conditions only) is matched for the ``listed`` users alone: the
    at-risk list is a tenth of the export, and nobody else's suggestion is shown.
    """
    from tagger.rules import apply_rules, playbook_rules

    tags = result.tags
    blank = pd.Series("", index=tags.index, dtype=object)
    channel = tags["channel"].fillna("") if "channel" in tags else blank
    content = tags["content"].fillna("") if "content" in tags else blank
    missing = ((channel == "") & listed).to_numpy(bool)
    if not missing.any():
        return channel, content
    base = tags.assign(group=tags["effective_group"]) if "effective_group" in tags else tags
    rows = tags.index[missing]  # by label, as the rule frame joins the export, the fields and the tags
    played = apply_rules(base.loc[rows], result.users.frame.reindex(rows), result.table.frame.reindex(rows),
                         playbook_rules(result.config, lang), lang)
    ruled = pd.Series(missing, index=tags.index)
    return (channel.where(~ruled, played["channel"]),
            content.where(~ruled | (content != ""), played["content"]))


def _population_messages(levels: list[AlertLevel], projection: Projection) -> list[str]:
    """Activity-drop levels without per-user columns: compare the projected rate with last month's."""
    messages: list[str] = []
    previous, projected = projection.previous_rate, projection.projected_rate
    if not previous or projected is None:
        return messages
    drop = 1 - projected / previous
    for level in levels:
        if level.activity_drop is not None and level.current_column is None and drop >= level.activity_drop:
            messages.append(TEXT("rate_drop", level=level.name, projected=projected, previous=previous,
                                 drop=drop, threshold=level.activity_drop, action=level.action))
    return messages


__all__ = ["AlertLevel", "Alerts", "Projection", "compute_alerts", "load_levels", "default_levels", "project"]
