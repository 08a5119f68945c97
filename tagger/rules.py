"""Automatic trigger rules: "用户所属xxx分群，有xx个月没有活跃，自动推送xxx内容".

A project lists rules in its config as ``[[rules]]`` tables. Each rule has
conditions (all must hold) and an action (channel, content, priority)::

    [[rules]]
    name = "休眠控车用户推送车辆状态"
    group = ["dormant", "churned_driving"]      # segment / group / preference: a key, a label or a list
    value_layer = "high_sleeping"                 # with [value_layers]: high_active, 高价值沉睡, …
    min_idle_months = 1                           # months without activity (idle_months)
    preference = "control"                        # primary preference
    drove = true
    when = [{ column = "近三个月参与活动次数", op = ">=", value = 2 }]
    channel = "push"
    content = "车辆状态提醒"
    priority = 10

An A/B test splits a rule's users into arms, each with its own channel and
content (an arm without one takes the rule's)::

    [[rules]]
    name = "流失召回AB"
    group = "churned_driving"
    holdout = 0.1                                 # this rule's control group (else --holdout)
    variants = [{ name = "A", channel = "短信", content = "行车报告", share = 0.45 },
                { name = "B", channel = "push", content = "车辆状态", share = 0.45 }]

Shares are of the rule's users; with the holdout they add up to at most 1 (users
beyond them are left out of the send). A user's arm is a hash of their ID, the
rule and the seed of the holdout draw, so it is the same on every send
(:func:`tagger.contacts.assign_arms`).

``when`` takes any column of the per-user frame (canonical fields such as
``drove`` or ``usage_control``, tag columns such as ``segment`` or
``idle_months``, or a header of the export) with ``== != < <= > >= in "not in"``.
What config cannot say goes into plain Python: ``rules_file = "my_rules.py"``
names a file whose functions take the per-user frame and return a boolean mask,
and a rule uses one with ``function = "name"``.

Rules are validated when they are loaded, so a typo stops the run before the
export is read, with the rule's position and the reason. Matching is vectorised:
one boolean mask per rule, never a Python loop over users. Each user gets the
first matching rule by priority (then position), or every matching rule when
``rules_match = "all"``.
"""

from __future__ import annotations

import importlib.util
import operator
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tagger.config import LAYER_KEYS, Config, Play
from tagger.errors import ConfigError
from tagger.i18n import LANGUAGES, Catalog
from tagger.playbook import plays_for
from tagger.segments import GROUPS, SEGMENTS, UNSPLIT
from tagger.segments import label as segment_label

TEXT = Catalog(
    "rules",
    {
        "bad_rule": {
            "zh": "配置 {where} 的第 {position} 条规则（{name}）无效：{reason}",
            "en": "config {where}: rule {position} ({name}) is invalid: {reason}",
        },
        "not_table": {"zh": "每条规则必须是 [[rules]] 表", "en": "each rule must be a [[rules]] table"},
        "unknown_key": {
            "zh": "不认识的键 {keys}；可用：{allowed}",
            "en": "unknown key(s) {keys}; allowed: {allowed}",
        },
        "no_action": {
            "zh": "缺少动作：至少要有 channel 或 content",
            "en": "no action: give a channel or a content",
        },
        "no_condition": {
            "zh": "没有任何条件（会匹配所有用户）；如确需如此，写 match_all = true",
            "en": "no condition (it would match every user); write match_all = true if that is meant",
        },
        "bad_op": {
            "zh": "条件 {index} 的运算符 '{op}' 无效；可用：{ops}",
            "en": "condition {index}: operator '{op}' is invalid; use one of {ops}",
        },
        "bad_condition": {
            "zh": "条件 {index} 必须写成 {{ column = \"列名\", op = \">=\", value = 2 }}",
            "en": "condition {index} must look like {{ column = \"name\", op = \">=\", value = 2 }}",
        },
        "need_list": {
            "zh": "条件 {index}：'{op}' 需要一个列表值，例如 [\"dormant\", \"churned\"]",
            "en": "condition {index}: '{op}' needs a list value such as [\"dormant\", \"churned\"]",
        },
        "need_scalar": {
            "zh": "条件 {index}：'{op}' 需要单个值（数字、文字或 true/false），而不是 {value!r}",
            "en": "condition {index}: '{op}' needs a single value (number, text or true/false), not {value!r}",
        },
        "need_number": {
            "zh": "条件 {index}：'{op}' 需要数字，而不是 {value!r}",
            "en": "condition {index}: '{op}' needs a number, not {value!r}",
        },
        "bad_label": {
            "zh": "{setting} 的值 '{value}' 不是已知的{kind}；可用：{allowed}",
            "en": "{setting} value '{value}' is not a known {kind}; known: {allowed}",
        },
        "bad_type": {
            "zh": "{setting} 必须是{kind}，而不是 {value!r}",
            "en": "{setting} must be {kind}, not {value!r}",
        },
        "bad_channel": {
            "zh": "渠道 '{value}' 不在配置的渠道中；可用：{allowed}",
            "en": "channel '{value}' is not one of the configured channels: {allowed}",
        },
        "bad_match": {
            "zh": "rules_match 必须是 \"first\" 或 \"all\"，而不是 {value!r}",
            "en": "rules_match must be \"first\" or \"all\", not {value!r}",
        },
        "no_rules_file": {
            "zh": "第 {position} 条规则使用函数 '{function}'，但配置没有 rules_file",
            "en": "rule {position} uses function '{function}' but the config names no rules_file",
        },
        "rules_file_missing": {"zh": "找不到规则文件 {path}", "en": "rules file {path} not found"},
        "rules_file_broken": {
            "zh": "规则文件 {path} 无法加载：{reason}",
            "en": "rules file {path} cannot be loaded: {reason}",
        },
        "no_function": {
            "zh": "规则文件 {path} 中没有函数 '{function}'；有：{available}",
            "en": "rules file {path} has no function '{function}'; it has: {available}",
        },
        "duplicate_name": {
            "zh": "规则名称 '{name}' 与第 {other} 条重复；每条规则需要不同的名称",
            "en": "rule name '{name}' repeats rule {other}; every rule needs its own name",
        },
        "unknown_column": {
            "zh": "第 {position} 条规则（{name}）引用的列 '{column}' 不存在；可用列：{available}",
            "en": "rule {position} ({name}) refers to column '{column}', which does not exist; columns: {available}",
        },
        "bad_mask": {
            "zh": "第 {position} 条规则（{name}）的函数 '{function}' 没有返回与用户数相同长度的布尔掩码（{reason}）",
            "en": "rule {position} ({name}): function '{function}' did not return a boolean mask with one value "
                  "per user ({reason})",
        },
        "bad_variants": {
            "zh": "variants 必须是至少两个表的列表，例如 [{{ name = \"A\", content = \"…\", share = 0.5 }}, …]",
            "en": "variants must be a list of at least two tables such as [{{ name = \"A\", content = \"…\", "
                  "share = 0.5 }}, …]",
        },
        "bad_variant": {"zh": "variants[{index}]：{reason}", "en": "variants[{index}]: {reason}"},
        "variant_name": {"zh": "每个实验组需要名称（name = \"A\"）", "en": "every arm needs a name (name = \"A\")"},
        "variant_repeat": {"zh": "实验组名称 '{name}' 重复", "en": "arm name '{name}' repeats"},
        "variant_share": {"zh": "share 必须是 0 到 1 之间的比例（如 0.5），而不是 {value!r}",
                          "en": "share must be a proportion between 0 and 1 (e.g. 0.5), not {value!r}"},
        "variant_action": {"zh": "实验组 '{name}' 没有渠道也没有内容（规则本身也没有）",
                           "en": "arm '{name}' has no channel and no content (nor has the rule)"},
        "shares_sum": {
            "zh": "各实验组 share 之和 {shares:g} 加对照组 {holdout:g} 为 {total:g}，超过 1",
            "en": "the arms' shares ({shares:g}) plus the holdout ({holdout:g}) make {total:g}, more than 1",
        },
        "bad_holdout": {"zh": "holdout 必须是 0 到 0.9 之间的比例（如 0.1），而不是 {value!r}",
                        "en": "holdout must be a proportion from 0 to 0.9 (e.g. 0.1), not {value!r}"},
        "default_name": {"zh": "规则{position}", "en": "rule {position}"},
        "play_name": {"zh": "{group}：{strategy}", "en": "{group}: {strategy}"},
        "kind_text": {"zh": "文字", "en": "text"},
        "kind_int": {"zh": "整数", "en": "a whole number"},
        "kind_bool": {"zh": "true 或 false", "en": "true or false"},
        "kind_number": {"zh": "数字", "en": "a number"},
        "kind_segment": {"zh": "分群", "en": "segment"},
        "kind_group": {"zh": "分群细分", "en": "group"},
        "kind_preference": {"zh": "偏好", "en": "preference"},
        "kind_value_layer": {"zh": "价值分层", "en": "value layer"},
        "no_value_layers": {"zh": "value_layer 需要配置 [value_layers]",
                            "en": "value_layer needs a [value_layers] table"},
    },
)

OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
MEMBERSHIP = ("in", "not in")
ALL_OPS = (*OPERATORS, *MEMBERSHIP)
ORDERING = ("<", "<=", ">", ">=")
# Keys a [[rules]] table may hold: shorthands, generic conditions, the action, bookkeeping.
SHORTHANDS = ("segment", "group", "preference", "has_preference", "value_layer", "drove", "idle_months",
              "min_idle_months", "max_idle_months")
ACTION_KEYS = ("channel", "content", "priority")
OTHER_KEYS = ("name", "when", "function", "match_all", "enabled", "variants", "holdout")
VARIANT_KEYS = ("name", "channel", "content", "share")
ALLOWED_KEYS = (*SHORTHANDS, *ACTION_KEYS, *OTHER_KEYS)
RULE_COLUMNS = ("rule", "channel", "channel_key", "content")
JOIN = "、"


@dataclass(frozen=True)
class Condition:
    """``column op value``; ``value`` is already normalised (keys, not labels)."""

    column: str
    op: str
    value: Any


@dataclass(frozen=True)
class Variant:
    """One arm of an A/B test: its name, action and share of the rule's users."""

    name: str
    channel: str
    channel_label: Mapping[str, str]
    content: str
    share: float

    def channel_text(self, lang: str) -> str:
        return self.channel_label.get(lang, self.channel)


@dataclass(frozen=True)
class Rule:
    """One validated rule: conditions (AND) plus an optional Python function, and the action."""

    name: str
    position: int
    conditions: tuple[Condition, ...]
    channel: str = ""
    channel_label: Mapping[str, str] = field(default_factory=dict)
    content: str = ""
    priority: float = 0.0
    function: Callable[[pd.DataFrame], Any] | None = None
    function_name: str = ""
    variants: tuple[Variant, ...] = ()
    holdout: float | None = None  # the rule's own control-group share; None: the run's --holdout

    def channel_text(self, lang: str) -> str:
        return self.channel_label.get(lang, self.channel)


@dataclass(frozen=True)
class RuleSet:
    """Rules in the order they are tried, and whether a user gets the first match or all of them."""

    rules: tuple[Rule, ...] = ()
    match: str = "first"

    def __bool__(self) -> bool:
        return bool(self.rules)


# --------------------------------------------------------------------------- loading


def _setting(raw: Mapping[str, Any], key: str, default: Any) -> Any:
    """A top-level setting; also accepted under [project], where TOML puts keys written after it."""
    if key in raw:
        return raw[key]
    return raw.get("project", {}).get(key, default)


def load_rules(config: Config) -> RuleSet:
    """Validate ``[[rules]]`` of a loaded config; raise :class:`ConfigError` naming the rule and the reason."""
    raw = config.raw
    where = str(config.source or f"preset {config.preset}")
    match = _setting(raw, "rules_match", "first")
    if match not in ("first", "all"):
        raise ConfigError(TEXT("bad_match", value=match))
    items = raw.get("rules", [])
    if not isinstance(items, list):
        items = [items]
    module: Any = None
    rules: list[Rule] = []
    names: dict[str, int] = {}
    for position, item in enumerate(items, start=1):
        name = item.get("name") if isinstance(item, Mapping) else None
        label = name if isinstance(name, str) and name.strip() else TEXT("default_name", position=position)
        if isinstance(item, Mapping) and item.get("enabled", True) is False:
            continue
        try:
            if isinstance(item, Mapping) and "function" in item and module is None:
                module = _load_module(raw, config, position, str(item["function"]))
            rule = _build_rule(item, position, label, config, module)
        except _RuleProblem as problem:
            raise ConfigError(TEXT("bad_rule", where=where, position=position, name=label,
                                   reason=problem.reason)) from None
        if rule.name in names:
            raise ConfigError(TEXT("bad_rule", where=where, position=position, name=label,
                                   reason=TEXT("duplicate_name", name=rule.name, other=names[rule.name])))
        names[rule.name] = position
        rules.append(rule)
    ordered = sorted(rules, key=lambda r: (-r.priority, r.position))
    return RuleSet(tuple(ordered), match)


def has_rules_setting(config: Config) -> bool:
    """Whether the config (preset, template or project) says anything about ``[[rules]]``, even ``rules = []``."""
    return "rules" in config.raw


def playbook_rules(config: Config, lang: str, groups: Sequence[str] = (*GROUPS, UNSPLIT)) -> RuleSet:
    """The playbook as rules, for a config that names no ``[[rules]]`` at all.

    Each group gets the rows the group sheets would suggest (its own plays, else the
    ones it borrows): a preference row outranks the group's general row, as on the
    sheets. Paused and finished plays are left out: nobody should be sent them.
    """
    from tagger.segments import label as segment_label

    rules: list[Rule] = []
    for group in groups:
        plays = [p for p in plays_for(config, group) if p.status not in ("paused", "done")]
        general = [p for p in plays if not p.preference][:1] or plays[:1]
        chosen = [p for p in plays if p.preference]
        for play in [*chosen, *(p for p in general if p not in chosen)]:
            rule = _play_rule(play, group, len(rules) + 1, config, lang, segment_label(group, lang))
            if rule is not None:
                rules.append(rule)
    ordered = sorted(_unique_names(rules), key=lambda r: (-r.priority, r.position))
    return RuleSet(tuple(ordered), "first")


def _play_rule(play: Play, group: str, position: int, config: Config, lang: str, group_label: str) -> Rule | None:
    """One play as a rule; None when it has neither channel nor content."""
    content = play.text("content", lang)
    if not play.channel and not content:
        return None
    item: dict[str, Any] = {"group": group, "channel": play.channel, "content": content,
                            "priority": 20 if play.preference else 10}
    if play.preference:
        item["preference"] = play.preference
    name = TEXT("play_name", group=group_label, strategy=play.text("strategy", lang) or play.goal)
    return _build_rule(item, position, name, config, None)


def _unique_names(rules: list[Rule]) -> list[Rule]:
    """Rule names as given, with the position added to a name that repeats."""
    seen: set[str] = set()
    out = []
    for rule in rules:
        name = rule.name if rule.name not in seen else f"{rule.name} ({rule.position})"
        seen.add(name)
        out.append(replace(rule, name=name))
    return out


class _RuleProblem(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _load_module(raw: Mapping[str, Any], config: Config, position: int, function: str) -> Any:
    """Import the config's ``rules_file`` (relative to the config's folder)."""
    name = _setting(raw, "rules_file", None)
    if not name:
        raise _RuleProblem(TEXT("no_rules_file", position=position, function=function))
    path = Path(name)
    if not path.is_absolute():
        path = config.base_dir / path
    if not path.is_file():
        raise _RuleProblem(TEXT("rules_file_missing", path=path))
    spec = importlib.util.spec_from_file_location(f"tagger_user_rules_{abs(hash(str(path)))}", path)
    if spec is None or spec.loader is None:
        raise _RuleProblem(TEXT("rules_file_broken", path=path, reason="not a Python file"))
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - any error in user code is reported as a config problem
        raise _RuleProblem(TEXT("rules_file_broken", path=path, reason=f"{type(exc).__name__}: {exc}")) from None
    module.__tagger_path__ = path  # type: ignore[attr-defined]
    sys.modules.pop(spec.name, None)
    return module


def _build_rule(item: Any, position: int, name: str, config: Config, module: Any) -> Rule:
    if not isinstance(item, Mapping):
        raise _RuleProblem(TEXT("not_table"))
    unknown = sorted(set(item) - set(ALLOWED_KEYS))
    if unknown:
        raise _RuleProblem(TEXT("unknown_key", keys=", ".join(unknown), allowed=", ".join(ALLOWED_KEYS)))
    conditions = [*_shorthand_conditions(item, config), *_when_conditions(item.get("when", []))]
    function, function_name = _rule_function(item, module)
    if not conditions and function is None and item.get("match_all") is not True:
        raise _RuleProblem(TEXT("no_condition"))
    channel, labels = _channel(item.get("channel", ""), config)
    content = _text(item.get("content", ""), "content")
    holdout = _holdout(item)
    variants = _variants(item, channel, labels, content, holdout, config)
    if not channel and not content and not variants:
        raise _RuleProblem(TEXT("no_action"))
    if variants and not channel and not content:  # the Users sheet shows the arms' actions side by side
        channel = "/".join(dict.fromkeys(v.channel for v in variants if v.channel))
        labels = {lang: "/".join(dict.fromkeys(v.channel_text(lang) for v in variants if v.channel))
                  for lang in LANGUAGES}
        content = "/".join(dict.fromkeys(v.content for v in variants if v.content))
    priority = item.get("priority", 0)
    if isinstance(priority, bool) or not isinstance(priority, (int, float)):
        raise _RuleProblem(TEXT("bad_type", setting="priority", kind=TEXT("kind_number"), value=priority))
    return Rule(name=name, position=position, conditions=tuple(conditions), channel=channel,
                channel_label=labels, content=content, priority=float(priority), function=function,
                function_name=function_name, variants=variants, holdout=holdout)


def _text(value: Any, setting: str) -> str:
    if not isinstance(value, str):
        raise _RuleProblem(TEXT("bad_type", setting=setting, kind=TEXT("kind_text"), value=value))
    return value.strip()


def _holdout(item: Mapping[str, Any]) -> float | None:
    """The rule's own holdout share (0–0.9), or None to use the run's ``--holdout``."""
    if "holdout" not in item:
        return None
    value = item["holdout"]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 0.9:
        raise _RuleProblem(TEXT("bad_holdout", value=value))
    return float(value)


def _variants(item: Mapping[str, Any], channel: str, labels: Mapping[str, str], content: str,
              holdout: float | None, config: Config) -> tuple[Variant, ...]:
    """The rule's arms, checked here so a typo stops the run before any list is written.

    An arm without its own channel or content takes the rule's. The shares and
    the rule's holdout may not add up to more than 1 (the run's ``--holdout`` is
    checked when the lists are drawn, :func:`tagger.contacts.make_contacts`).
    """
    if "variants" not in item:
        return ()
    raw = item["variants"]
    if not isinstance(raw, list) or len(raw) < 2:
        raise _RuleProblem(TEXT("bad_variants"))
    arms: list[Variant] = []
    for index, entry in enumerate(raw):
        try:
            arms.append(_variant(entry, channel, labels, content, config, {a.name for a in arms}))
        except _RuleProblem as problem:
            raise _RuleProblem(TEXT("bad_variant", index=index, reason=problem.reason)) from None
    shares = sum(a.share for a in arms)
    held = holdout or 0.0
    if shares + held > 1 + 1e-9:
        raise _RuleProblem(TEXT("shares_sum", shares=round(shares, 6), holdout=held,
                                total=round(shares + held, 6)))
    return tuple(arms)


def _variant(entry: Any, channel: str, labels: Mapping[str, str], content: str, config: Config,
             taken: set[str]) -> Variant:
    if not isinstance(entry, Mapping):
        raise _RuleProblem(TEXT("not_table"))
    unknown = sorted(set(entry) - set(VARIANT_KEYS))
    if unknown:
        raise _RuleProblem(TEXT("unknown_key", keys=", ".join(unknown), allowed=", ".join(VARIANT_KEYS)))
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _RuleProblem(TEXT("variant_name"))
    name = name.strip()
    if name in taken:
        raise _RuleProblem(TEXT("variant_repeat", name=name))
    share = entry.get("share")
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share <= 1:
        raise _RuleProblem(TEXT("variant_share", value=share))
    own, own_labels = _channel(entry.get("channel", ""), config)
    text = _text(entry.get("content", ""), "content") or content
    if not (own or channel) and not text:
        raise _RuleProblem(TEXT("variant_action", name=name))
    return Variant(name=name, channel=own or channel, channel_label=own_labels if own else dict(labels),
                   content=text, share=float(share))


def _rule_function(item: Mapping[str, Any], module: Any) -> tuple[Callable[[pd.DataFrame], Any] | None, str]:
    if "function" not in item:
        return None, ""
    name = item["function"]
    if not isinstance(name, str):
        raise _RuleProblem(TEXT("bad_type", setting="function", kind=TEXT("kind_text"), value=name))
    function = getattr(module, name, None)
    if not callable(function):
        available = sorted(k for k, v in vars(module).items() if callable(v) and not k.startswith("_"))
        raise _RuleProblem(TEXT("no_function", path=module.__tagger_path__, function=name,
                                available=", ".join(available) or "-"))
    return function, name


def _label_keys(kind: str, config: Config) -> dict[str, str]:
    """Every accepted spelling (key, zh label, en label; casefolded) of a segment, group or preference."""
    if kind == "preference":
        pairs = [(f.key, [f.key, *f.labels.values()]) for f in config.features]
    elif kind == "value_layer":
        layers = config.value_layers
        pairs = [(k, [k, *layers.names[k].values()]) for k in LAYER_KEYS] if layers is not None else []
    else:
        keys = SEGMENTS if kind == "segment" else GROUPS
        keys = (*keys, UNSPLIT)
        pairs = [(k, [k, *(segment_label(k, lang) for lang in LANGUAGES)]) for k in keys]
    return {spelling.casefold(): key for key, spellings in pairs for spelling in spellings}


def _as_keys(key: str, value: Any, kind: str, config: Config) -> list[str]:
    values = value if isinstance(value, list) else [value]
    known = _label_keys(kind, config)
    out = []
    for v in values:
        if not isinstance(v, str) or v.strip().casefold() not in known:
            allowed = ", ".join(sorted(set(known.values())))
            raise _RuleProblem(TEXT("bad_label", setting=key, value=v, kind=TEXT(f"kind_{kind}"),
                                    allowed=allowed))
        out.append(known[v.strip().casefold()])
    return out


# Shorthand keys that name labels: (the rule's key, the tags column it tests, the kind of label).
_LABEL_SHORTHANDS = (("segment", "segment", "segment"), ("group", "group", "group"),
                     ("preference", "primary_key", "preference"))
# Shorthand keys on the months since the last activity, and the comparison each stands for.
_IDLE_SHORTHANDS = (("idle_months", "=="), ("min_idle_months", ">="), ("max_idle_months", "<="))


def _shorthand_conditions(item: Mapping[str, Any], config: Config) -> list[Condition]:
    """The conditions a rule's shorthand keys (``segment = "休眠用户"``, ``min_idle_months = 2`` …) stand for."""
    return [*_label_conditions(item, config), *_activity_conditions(item)]


def _label_conditions(item: Mapping[str, Any], config: Config) -> list[Condition]:
    """Conditions on a user's labels: segment, group, preference, value layer, or any of some preferences."""
    conditions: list[Condition] = []
    for key, column, kind in _LABEL_SHORTHANDS:
        if key in item:
            keys = _as_keys(key, item[key], kind, config)
            conditions.append(Condition(column, "in", tuple(keys)))
    if "value_layer" in item:
        if config.value_layers is None:
            raise _RuleProblem(TEXT("no_value_layers"))
        keys = _as_keys("value_layer", item["value_layer"], "value_layer", config)
        conditions.append(Condition("value_layer", "in", tuple(keys)))
    if "has_preference" in item:
        keys = _as_keys("has_preference", item["has_preference"], "preference", config)
        labels = [text for f in config.features if f.key in keys for text in f.labels.values()]
        conditions.append(Condition("__has_preference__", "in", tuple(labels)))
    return conditions


def _activity_conditions(item: Mapping[str, Any]) -> list[Condition]:
    """Conditions on whether a user drove and on the months since the last activity."""
    conditions: list[Condition] = []
    if "drove" in item:
        if not isinstance(item["drove"], bool):
            raise _RuleProblem(TEXT("bad_type", setting="drove", kind=TEXT("kind_bool"), value=item["drove"]))
        conditions.append(Condition("drove", "==", item["drove"]))
    for key, op in _IDLE_SHORTHANDS:
        if key in item:
            value = item[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise _RuleProblem(TEXT("bad_type", setting=key, kind=TEXT("kind_int"), value=value))
            conditions.append(Condition("idle_months", op, value))
    return conditions


def _when_conditions(when: Any) -> list[Condition]:
    if isinstance(when, Mapping):
        when = [when]
    if not isinstance(when, list):
        raise _RuleProblem(TEXT("bad_condition", index=1))
    conditions = []
    for index, cond in enumerate(when, start=1):
        if not isinstance(cond, Mapping) or set(cond) != {"column", "op", "value"} \
                or not isinstance(cond["column"], str) or not cond["column"].strip():
            raise _RuleProblem(TEXT("bad_condition", index=index))
        op = str(cond["op"]).strip().lower()
        op = " ".join(op.split())
        value = cond["value"]
        if op not in ALL_OPS:
            raise _RuleProblem(TEXT("bad_op", index=index, op=cond["op"], ops=", ".join(ALL_OPS)))
        if op in MEMBERSHIP:
            if not isinstance(value, list) or not value or any(isinstance(v, (list, dict)) for v in value):
                raise _RuleProblem(TEXT("need_list", index=index, op=op))
            value = tuple(value)
        elif isinstance(value, (list, dict)):
            raise _RuleProblem(TEXT("need_scalar", index=index, op=op, value=value))
        elif op in ORDERING and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise _RuleProblem(TEXT("need_number", index=index, op=op, value=value))
        conditions.append(Condition(cond["column"].strip(), op, value))
    return conditions


def _channel(value: Any, config: Config) -> tuple[str, dict[str, str]]:
    """Channel key and labels; a channel not in the config is refused (it would never reach a list)."""
    if value in ("", None):
        return "", {}
    if not isinstance(value, str):
        raise _RuleProblem(TEXT("bad_type", setting="channel", kind=TEXT("kind_text"), value=value))
    wanted = value.strip().casefold()
    for channel in config.channels:
        spellings = {channel.key.casefold(), *(t.casefold() for t in channel.labels.values())}
        if wanted in spellings:
            return channel.key, dict(channel.labels)
    if not config.channels:
        return value.strip(), {}
    allowed = ", ".join(f"{c.key} ({c.label('zh')})" for c in config.channels)
    raise _RuleProblem(TEXT("bad_channel", value=value, allowed=allowed))


# --------------------------------------------------------------------------- matching


def rule_frame(users: pd.DataFrame, tags: pd.DataFrame, raw: pd.DataFrame | None = None) -> pd.DataFrame:
    """The per-user frame rules see: export headers, canonical fields, then tag columns (later wins)."""
    parts = [raw] if raw is not None else []
    parts += [users, tags]
    frame = pd.concat(parts, axis=1)
    return frame.loc[:, ~frame.columns.duplicated(keep="last")]


def _column_mask(frame: pd.DataFrame, cond: Condition) -> np.ndarray:
    if cond.column == "__has_preference__":
        return _has_preference(frame, cond.value)
    series = frame[cond.column]
    if cond.op in MEMBERSHIP:
        hit = _membership(series, cond.value)
        return ~hit if cond.op == "not in" else hit
    value = cond.value
    if isinstance(value, bool):
        data = _flags(series)
        result = OPERATORS[cond.op](data, value)
    elif isinstance(value, (int, float)):
        data = pd.to_numeric(series, errors="coerce")
        result = OPERATORS[cond.op](data, value)
    else:
        data = series.astype("string").str.strip()
        result = OPERATORS[cond.op](data, str(value).strip())
    mask = pd.Series(result, index=frame.index).astype("boolean").fillna(False).to_numpy(dtype=bool)
    return mask


def _flags(series: pd.Series) -> pd.Series:
    """Yes/no cells as booleans: real booleans as they are, text through the same words the export uses."""
    from tagger.values import FALSE_WORDS, TRUE_WORDS

    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("boolean")
    words = series.astype("string").str.strip().str.casefold()
    numbers = pd.to_numeric(series, errors="coerce")
    out = pd.Series(pd.NA, index=series.index, dtype="boolean")
    out[words.isin(TRUE_WORDS).fillna(False) | (numbers == 1)] = True
    out[words.isin(FALSE_WORDS).fillna(False) | (numbers == 0)] = False
    return out


def _membership(series: pd.Series, values: Sequence[Any]) -> np.ndarray:
    """Membership that treats 2 and "2" alike, since export cells may be text or numbers."""
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    texts = {str(v).strip() for v in values}
    hit = series.astype("string").str.strip().isin(texts).fillna(False).to_numpy(dtype=bool, copy=True)
    if numbers:
        hit = hit | pd.to_numeric(series, errors="coerce").isin(numbers).to_numpy(dtype=bool)
    return hit


def _has_preference(frame: pd.DataFrame, labels: Sequence[str]) -> np.ndarray:
    """Whether the user's preference tags (labels joined by ``、``) include any of ``labels``."""
    if "tags" not in frame:
        return np.zeros(len(frame), dtype=bool)
    from tagger.preferences import SEPARATOR

    words = "|".join(re.escape(label) for label in labels)
    pattern = f"(?:^|{SEPARATOR})(?:{words})(?:{SEPARATOR}|$)"
    return frame["tags"].astype("string").str.contains(pattern, regex=True).fillna(False).to_numpy(dtype=bool)


def rule_masks(frame: pd.DataFrame, ruleset: RuleSet) -> pd.DataFrame:
    """One boolean column per rule (in try order), True where every condition of the rule holds."""
    masks: dict[str, np.ndarray] = {}
    for rule in ruleset.rules:
        mask = np.ones(len(frame), dtype=bool)
        for cond in rule.conditions:
            if cond.column != "__has_preference__" and cond.column not in frame.columns:
                available = ", ".join(str(c) for c in frame.columns if not str(c).startswith("share_"))
                raise ConfigError(TEXT("unknown_column", position=rule.position, name=rule.name,
                                       column=cond.column, available=available))
            mask &= _column_mask(frame, cond)
        if rule.function is not None:
            mask &= _function_mask(rule, frame)
        masks[rule.name] = mask
    return pd.DataFrame(masks, index=frame.index, dtype=bool)


def _function_mask(rule: Rule, frame: pd.DataFrame) -> np.ndarray:
    """Call a user's rule function on a copy (so it cannot change the tags) and check what it returns."""
    assert rule.function is not None
    try:
        out = rule.function(frame.copy())
        values = out.reindex(frame.index) if isinstance(out, pd.Series) else out
        mask = np.asarray(values)
        if mask.shape != (len(frame),):
            raise ValueError(f"shape {mask.shape}")
        if mask.dtype != bool:
            mask = pd.Series(mask).astype("boolean").fillna(False).to_numpy(dtype=bool)
    except Exception as exc:  # noqa: BLE001 - user code; report which rule broke
        raise ConfigError(TEXT("bad_mask", position=rule.position, name=rule.name,
                               function=rule.function_name, reason=f"{type(exc).__name__}: {exc}")) from None
    return mask


def assign_rules(masks: pd.DataFrame, ruleset: RuleSet, lang: str) -> pd.DataFrame:
    """``rule``, ``channel`` (label), ``channel_key`` and ``content`` per user; ``""`` where none fired."""
    n = len(masks)
    empty = np.full(n, "", dtype=object)
    if not ruleset.rules or n == 0:
        return pd.DataFrame({c: empty.copy() for c in RULE_COLUMNS}, index=masks.index)
    matrix = masks.to_numpy(dtype=bool)
    names = np.array([r.name for r in ruleset.rules], dtype=object)
    channels = np.array([r.channel_text(lang) for r in ruleset.rules], dtype=object)
    keys = np.array([r.channel for r in ruleset.rules], dtype=object)
    contents = np.array([r.content for r in ruleset.rules], dtype=object)
    if ruleset.match == "first":
        any_hit = matrix.any(axis=1)
        first = matrix.argmax(axis=1)
        columns = {c: np.where(any_hit, values[first], "")
                   for c, values in zip(RULE_COLUMNS, (names, channels, keys, contents), strict=True)}
    else:
        columns = {c: empty.copy() for c in RULE_COLUMNS}
        for j in range(len(ruleset.rules)):  # loop over the handful of rules, not over users
            hit = matrix[:, j]
            for c, values in zip(RULE_COLUMNS, (names, channels, keys, contents), strict=True):
                current = columns[c]
                columns[c] = np.where(hit, np.where(current == "", values[j], current + JOIN + values[j]), current)
    return pd.DataFrame(columns, index=masks.index)


def apply_rules(tags: pd.DataFrame, users: pd.DataFrame, raw: pd.DataFrame | None, ruleset: RuleSet,
                lang: str) -> pd.DataFrame:
    """``tags`` with the rule columns (replaced if present) for the users' current tags."""
    base = tags.drop(columns=[c for c in RULE_COLUMNS if c in tags.columns])
    masks = rule_masks(rule_frame(users, base, raw), ruleset) if ruleset.rules else pd.DataFrame(index=tags.index)
    return pd.concat([base, assign_rules(masks, ruleset, lang)], axis=1)


__all__ = ["Condition", "Rule", "Variant", "RuleSet", "load_rules", "playbook_rules", "has_rules_setting", "rule_frame",
           "rule_masks", "assign_rules", "apply_rules", "OPERATORS", "MEMBERSHIP"]
