"""Presets and project configuration.

A preset (``car_app``, ``ecommerce``, ``social``) is a complete TOML file shipped
inside the package; a project's ``tagger.toml`` names its preset and overrides
any part of it. Tables merge key by key; arrays (features, channels, playbook,
rules) replace the preset's array as a whole, because a half-merged list of
features would be impossible to reason about.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from tagger.errors import ConfigError
from tagger.i18n import LANGUAGES, Catalog

DEFAULT_PRESET = "car_app"
CONFIG_NAME = "tagger.toml"
HISTORY_NAME = "tagger-history.sqlite"

MESSAGES = Catalog(
    "config",
    {
        "unknown_preset": {
            "zh": "没有名为 '{name}' 的预设；可用：{available}",
            "en": "no preset named '{name}'; available: {available}",
        },
        "unreadable": {
            "zh": "配置文件 {path} 不是有效的 TOML：{reason}",
            "en": "config file {path} is not valid TOML: {reason}",
        },
        "missing_file": {"zh": "找不到配置文件 {path}", "en": "config file {path} not found"},
        "bad_value": {
            "zh": "配置 {path} 中 {key} 的值 {value!r} 无效：{reason}",
            "en": "config {path}: {key} = {value!r} is invalid: {reason}",
        },
        "bad_playbook": {
            "zh": "配置 {path} 中 playbook[{index}] 的 {key} = {value!r} 无效：{reason}",
            "en": "config {path}: playbook[{index}].{key} = {value!r} is invalid: {reason}",
        },
        "no_features": {
            "zh": "配置 {path} 没有定义任何偏好功能 [[preferences.features]]",
            "en": "config {path} defines no preference features [[preferences.features]]",
        },
    },
)


@dataclass(frozen=True)
class Feature:
    """A product feature whose usage share makes a preference tag."""

    key: str
    labels: Mapping[str, str]
    columns: tuple[str, ...]
    keywords: tuple[str, ...] = ()

    def label(self, lang: str) -> str:
        return self.labels[lang]

    @property
    def field(self) -> str:
        """Canonical column field of this feature's usage count."""
        return f"usage_{self.key}"


@dataclass(frozen=True)
class Channel:
    key: str
    labels: Mapping[str, str]

    def label(self, lang: str) -> str:
        return self.labels[lang]


# Keys a playbook row may name; kept here (not imported) so config stays at the bottom of the
# import graph. tests/test_config_playbook.py checks them against tagger.segments and tagger.metrics.
PLAY_GROUPS: tuple[str, ...] = (
    "new", "last_month_new", "active", "awakened", "returned", "dormant",
    "churned_driving", "churned_not_driving", "churned", "active_unsplit",
)
PLAY_GOALS: tuple[str, ...] = ("active_rate", "old_retention", "new_retention", "awaken_rate", "return_rate")
PLAY_STATUSES: tuple[str, ...] = ("planned", "running", "done", "paused")
SHARE_OF: tuple[str, ...] = ("total", "sessions")
WINDOWS: tuple[str, ...] = ("3m", "month")
PLAY_TEXTS: tuple[str, ...] = ("strategy", "content", "cadence", "owner")


@dataclass(frozen=True)
class Play:
    """One row of a group's playbook: which strategy, through which channel, measured how.

    ``preference`` (a feature key, or ``""``) narrows the row to the group's users with
    that primary preference; the workbook suggests each user the most specific row.
    """

    group: str
    goal: str
    channel: str
    texts: Mapping[str, Mapping[str, str]]
    status: str = "planned"
    preference: str = ""

    def text(self, name: str, lang: str) -> str:
        """``strategy``, ``content``, ``cadence`` or ``owner`` in ``lang``."""
        return self.texts.get(name, {}).get(lang, "")


LAYER_KEYS: tuple[str, ...] = ("high_active", "high_sleeping", "potential", "general")
LAYER_NAMES: dict[str, dict[str, str]] = {
    "high_active": {"zh": "高价值活跃", "en": "High value, active"},
    "high_sleeping": {"zh": "高价值沉睡", "en": "High value, sleeping"},
    "potential": {"zh": "潜力", "en": "Potential"},
    "general": {"zh": "一般", "en": "General"},
}
LAYER_METHODS: tuple[str, ...] = ("quantile", "thresholds")


@dataclass(frozen=True)
class ValueLayers:
    """``[value_layers]``: RFM-style layering on a value measure, beside the lifecycle.

    ``value`` (spend, orders, mileage…) and the optional ``frequency`` and ``recency``
    (days since the last purchase/visit) are export headers. ``method = "quantile"``
    sets the value/frequency cuts at the ``quantile`` of the users' values;
    ``"thresholds"`` takes ``value_min``/``frequency_min`` as the team sets them. A user
    is recent when recency ≤ ``recency_max_days`` (without a recency column: active this
    month). The cuts are editable named cells on 参数.
    """

    value: str
    frequency: str | None = None
    recency: str | None = None
    method: str = "quantile"
    quantile: float = 0.8
    value_min: float = 0.0
    frequency_min: float = 0.0
    recency_max_days: float = 30.0
    names: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: dict(LAYER_NAMES))

    def name(self, key: str, lang: str) -> str:
        return self.names[key][lang]


@dataclass
class Config:
    """Everything a run needs to know besides the export itself."""

    preset: str = DEFAULT_PRESET
    project_name: str = ""
    language: str = "zh"
    target_active_rate: float = 0.85
    timezone: str = "Asia/Shanghai"
    churn_after_months: int = 2
    # What a blank 最近一次活跃时间 does: "warn" (counted from the registration date) or "error".
    blank_last_active: str = "warn"
    preference_threshold: float = 0.3
    # What a feature's share is taken of: "total" (the user's summed counts; shares add up to 1) or
    # "sessions" (the user's active days in the window, as the article's user A; shares overlap).
    preference_share_of: str = "total"
    # What the export's counts cover: "3m" (three-month totals) or "month" (this month only; the
    # window is then built from the last three months in history).
    preference_window: str = "3m"
    features: tuple[Feature, ...] = ()
    channels: tuple[Channel, ...] = ()
    playbook: tuple[Play, ...] = ()
    value_layers: ValueLayers | None = None
    columns: dict[str, list[str]] = field(default_factory=dict)
    history_path: Path | None = None
    keep_months: int = 13
    source: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def base_dir(self) -> Path:
        """Where relative paths in the config are resolved: the config's folder."""
        return self.source.parent if self.source else Path.cwd()

    def default_history_path(self) -> Path:
        return self.history_path or self.base_dir / HISTORY_NAME


def available_presets() -> list[str]:
    """Names of the presets shipped with tagger."""
    folder = resources.files("tagger") / "templates"
    return sorted(p.name[: -len(".toml")] for p in folder.iterdir() if p.name.endswith(".toml"))


def preset_text(name: str) -> str:
    """The commented TOML of a preset, as shipped."""
    if name not in available_presets():
        raise ConfigError(MESSAGES("unknown_preset", name=name, available=", ".join(available_presets())))
    return (resources.files("tagger") / "templates" / f"{name}.toml").read_text(encoding="utf-8")


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge tables; any non-table value (arrays included) replaces the base's.

    >>> merge({"a": {"x": 1, "y": 2}, "l": [1]}, {"a": {"y": 3}, "l": [2]})
    {'a': {'x': 1, 'y': 3}, 'l': [2]}
    """
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(MESSAGES("missing_file", path=path))
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(MESSAGES("unreadable", path=path, reason=exc)) from None


def find_config(start: Path | None = None) -> Path | None:
    """``tagger.toml`` in the working directory, if there is one."""
    candidate = (start or Path.cwd()) / CONFIG_NAME
    return candidate if candidate.is_file() else None


def load_config(path: Path | str | None = None, preset: str | None = None) -> Config:
    """Load a preset, overlay the project config on it, and validate the result.

    ``preset`` (e.g. from ``--preset``) wins over the preset the file names.
    """
    project: dict[str, Any] = {}
    source = Path(path) if path else None
    if source is not None:
        project = _read_toml(source)
    name = preset or project.get("project", {}).get("preset") or DEFAULT_PRESET
    base = _project_template(project, source) if preset is None else None
    data = merge(base if base is not None else tomllib.loads(preset_text(name)), project)
    return _build(data, name, source)


def _project_template(project: Mapping[str, Any], source: Path | None) -> dict[str, Any] | None:
    """The preset copy a project keeps beside its config (``[project] template``), if it names one.

    ``tagger init`` copies the preset there so people can edit features and
    playbooks in place; an explicit ``--preset`` still means the shipped preset.
    """
    template = project.get("project", {}).get("template")
    if not template or source is None:
        return None
    return _read_toml(source.parent / str(template))


def _check(cond: bool, where: Path | str, key: str, value: object, reason: str) -> None:
    if not cond:
        raise ConfigError(MESSAGES("bad_value", path=where, key=key, value=value, reason=reason))


def _labels(item: Mapping[str, Any], where: Path | str, key: str) -> dict[str, str]:
    labels = {lang: item.get(lang) for lang in LANGUAGES}
    for lang, text in labels.items():
        _check(isinstance(text, str) and bool(text), where, f"{key}.{lang}", text, "a label is required")
    return labels  # type: ignore[return-value]


def _build(data: dict[str, Any], preset: str, source: Path | None) -> Config:
    where: Path | str = source or f"preset {preset}"
    project = data.get("project", {})
    lifecycle = data.get("lifecycle", {})
    prefs = data.get("preferences", {})
    history = data.get("history", {})

    language = project.get("language", "zh")
    _check(language in LANGUAGES, where, "project.language", language, "use zh or en")
    target = project.get("target_active_rate", 0.85)
    _check(isinstance(target, (int, float)) and 0 < target <= 1, where, "project.target_active_rate",
           target, "a share between 0 and 1, e.g. 0.85")
    churn = lifecycle.get("churn_after_months", 2)
    _check(isinstance(churn, int) and 1 <= churn <= 24, where, "lifecycle.churn_after_months", churn,
           "a whole number of months from 1 to 24")
    blank_last_active = lifecycle.get("blank_last_active", "warn")
    _check(blank_last_active in ("warn", "error"), where, "lifecycle.blank_last_active", blank_last_active,
           "warn or error")
    threshold = prefs.get("threshold", 0.3)
    _check(isinstance(threshold, (int, float)) and 0 < threshold <= 1, where, "preferences.threshold",
           threshold, "a share between 0 and 1, e.g. 0.3")
    share_of = prefs.get("share_of", "total")
    _check(share_of in SHARE_OF, where, "preferences.share_of", share_of, "total or sessions")
    window = prefs.get("window", "3m")
    _check(window in WINDOWS, where, "preferences.window", window, "3m or month")
    keep = history.get("keep_months", 13)
    _check(isinstance(keep, int) and keep >= 2, where, "history.keep_months", keep, "at least 2")

    features = []
    for i, item in enumerate(prefs.get("features", [])):
        key = item.get("key")
        _check(isinstance(key, str) and key.isidentifier(), where, f"preferences.features[{i}].key", key,
               "a short identifier such as control")
        features.append(Feature(
            key=key,
            labels=_labels(item, where, f"preferences.features[{i}]"),
            columns=tuple(item.get("columns", [])),
            keywords=tuple(item.get("keywords", [])),
        ))
    if not features:
        raise ConfigError(MESSAGES("no_features", path=where))
    channels = tuple(
        Channel(key=item.get("key", f"channel{i}"), labels=_labels(item, where, f"channels[{i}]"))
        for i, item in enumerate(data.get("channels", []))
    )
    playbook = _playbook(data.get("playbook", []), where, features, channels)
    columns = {
        field_name: [names] if isinstance(names, str) else list(names)
        for field_name, names in data.get("columns", {}).items()
    }
    history_path = history.get("path")
    base = source.parent if source else Path.cwd()
    return Config(
        preset=preset,
        project_name=project.get("name", ""),
        language=language,
        target_active_rate=float(target),
        timezone=project.get("timezone", "Asia/Shanghai"),
        churn_after_months=churn,
        blank_last_active=blank_last_active,
        preference_threshold=float(threshold),
        preference_share_of=share_of,
        preference_window=window,
        features=tuple(features),
        channels=channels,
        playbook=playbook,
        value_layers=_value_layers(data.get("value_layers"), where),
        columns=columns,
        history_path=(base / history_path) if history_path else None,
        keep_months=keep,
        source=source,
        raw=data,
    )


def _value_layers(table: object, where: Path | str) -> ValueLayers | None:
    """Validate ``[value_layers]``; None when the config has none (nothing changes then)."""
    if table is None:
        return None
    _check(isinstance(table, Mapping), where, "value_layers", table, "a table [value_layers]")
    assert isinstance(table, Mapping)
    headers: dict[str, str | None] = {}
    for key in ("value", "frequency", "recency"):
        header = table.get(key)
        _check(header is None or (isinstance(header, str) and header.strip() != ""), where, f"value_layers.{key}",
               header, "the header of an export column")
        headers[key] = header.strip() if isinstance(header, str) else None
    _check(headers["value"] is not None, where, "value_layers.value", None,
           "name the value measure column, e.g. value = \"近三个月消费金额\"")
    method = table.get("method", "quantile")
    _check(method in LAYER_METHODS, where, "value_layers.method", method, "quantile or thresholds")
    quantile = table.get("quantile", 0.8)
    _check(isinstance(quantile, (int, float)) and not isinstance(quantile, bool) and 0 < quantile < 1, where,
           "value_layers.quantile", quantile, "a share between 0 and 1, e.g. 0.8 (the top 20 % are high)")
    numbers = {}
    for key, default in (("value_min", 0.0), ("frequency_min", 0.0), ("recency_max_days", 30.0)):
        value = table.get(key, default)
        _check(isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0, where,
               f"value_layers.{key}", value, "a number ≥ 0")
        numbers[key] = float(value)
    if method == "thresholds":
        _check("value_min" in table, where, "value_layers.value_min", None, "method = \"thresholds\" needs value_min")
    names = {key: dict(labels) for key, labels in LAYER_NAMES.items()}
    given = table.get("names", {})
    _check(isinstance(given, Mapping), where, "value_layers.names", given, "a table of layer names")
    for key, text in given.items():
        _check(key in LAYER_KEYS, where, f"value_layers.names.{key}", text, "use " + ", ".join(LAYER_KEYS))
        if isinstance(text, str) and text.strip():
            names[key] = {lang: text.strip() for lang in LANGUAGES}
        else:
            names[key] = _labels(text if isinstance(text, Mapping) else {}, where, f"value_layers.names.{key}")
    for key, labels in names.items():  # COUNTIFS reads a leading = < > and * ? ~ as operators and wildcards
        for text in labels.values():
            _check(not text.startswith(("=", "<", ">")) and not any(c in text for c in "*?~"), where,
                   f"value_layers.names.{key}", text, "a name without = < > at the start and without * ? ~")
    for lang in LANGUAGES:
        shown = [names[k][lang] for k in LAYER_KEYS]
        _check(len(set(shown)) == len(shown), where, "value_layers.names", shown, "every layer needs its own name")
    return ValueLayers(value=str(headers["value"]), frequency=headers["frequency"], recency=headers["recency"],
                       method=method, quantile=float(quantile), names=names, **numbers)


def _play_text(value: object, where: Path | str, index: int, key: str) -> dict[str, str]:
    """A playbook text: one string for every language, or a table ``{ zh = "…", en = "…" }``."""
    if isinstance(value, str):
        return {lang: value for lang in LANGUAGES}
    if isinstance(value, Mapping) and all(isinstance(value.get(lang), str) for lang in LANGUAGES):
        return {lang: value[lang] for lang in LANGUAGES}
    raise ConfigError(MESSAGES("bad_playbook", path=where, index=index, key=key, value=value,
                               reason='a text, or { zh = "…", en = "…" }'))


def _playbook(items: object, where: Path | str, features: list[Feature],
              channels: tuple[Channel, ...]) -> tuple[Play, ...]:
    """Validate ``[[playbook]]`` rows: known group, goal, channel, status and preference keys."""
    if not isinstance(items, list):
        raise ConfigError(MESSAGES("bad_playbook", path=where, index=0, key="playbook", value=items,
                                   reason="use [[playbook]] tables"))
    allowed = {
        "group": PLAY_GROUPS,
        "goal": PLAY_GOALS,
        "status": PLAY_STATUSES,
        "channel": tuple(c.key for c in channels),
        "preference": ("", *(f.key for f in features)),
    }
    plays = []
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise ConfigError(MESSAGES("bad_playbook", path=where, index=index, key="playbook", value=item,
                                       reason="each row is a table"))
        values = {"status": "planned", "preference": "", **{k: item.get(k) for k in ("group", "goal", "channel")},
                  **{k: item[k] for k in ("status", "preference") if k in item}}
        for key, choices in allowed.items():
            if values[key] not in choices:
                raise ConfigError(MESSAGES("bad_playbook", path=where, index=index, key=key, value=values[key],
                                           reason="use one of " + ", ".join(c for c in choices if c)))
        texts = {name: _play_text(item.get(name, ""), where, index, name) for name in PLAY_TEXTS}
        if not texts["strategy"]["zh"]:
            raise ConfigError(MESSAGES("bad_playbook", path=where, index=index, key="strategy", value="",
                                       reason="every row names its strategy"))
        plays.append(Play(group=values["group"], goal=values["goal"], channel=values["channel"], texts=texts,
                          status=values["status"], preference=values["preference"]))
    return tuple(plays)
