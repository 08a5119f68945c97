"""Presets and project configuration.

A preset (``car_app``, ``ecommerce``, ``social``) is a complete TOML file shipped
inside the package; a project's ``tagger.toml`` names its preset and overrides
any part of it. Tables merge key by key; arrays (features, channels, playbook,
rules) replace the preset's array as a whole, because a half-merged list of
features would be impossible to reason about.
"""

from __future__ import annotations

import difflib
import functools
import itertools
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from tagger.columns import DEFAULT_ALIASES
from tagger.errors import ConfigError
from tagger.i18n import LANGUAGES, Catalog
from tagger.registry import REGISTRY
from tagger.values import DATE_ORDERS

DEFAULT_PRESET = "car_app"
CONFIG_NAME = "tagger.toml"
HISTORY_NAME = "tagger-history.sqlite"

TEXT = Catalog(
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
        "unknown_key": {
            "zh": "配置 {path} 第 {line} 行：不认识的设置 {key}，已忽略{hint}",
            "en": "config {path} line {line}: unknown setting {key}, ignored{hint}",
        },
        "did_you_mean": {"zh": "；是不是 {near}？", "en": "; did you mean {near}?"},
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


# Keys a playbook row may name, from the registry (which sits below config in the import graph).
PLAY_GROUPS: tuple[str, ...] = REGISTRY.play_groups
PLAY_GOALS: tuple[str, ...] = ("active_rate", *REGISTRY.rates)
PLAY_STATUSES: tuple[str, ...] = ("planned", "running", "done", "paused")
SHARE_OF: tuple[str, ...] = ("total", "sessions")
WINDOWS: tuple[str, ...] = ("3m", "month")
PLAY_TEXTS: tuple[str, ...] = ("strategy", "content", "cadence", "owner")
RATE_BASIS: tuple[str, ...] = ("mean3", "best6")  # = tagger.forecast.RATE_BASIS (tests/test_forecast_period.py)
MAX_TARGET_MONTHS = 12


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


@dataclass(frozen=True)
class UnknownSetting:
    """A key of a project file that nothing reads: where it is and the known key it is nearest to."""

    path: Path
    line: int | None
    key: str
    near: str = ""

    def message(self) -> str:
        hint = TEXT("did_you_mean", near=self.near) if self.near else ""
        return TEXT("unknown_key", path=self.path, line=self.line or "?", key=self.key, hint=hint)


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
    # How day-and-month-first dates (09/13/2024) read: "mdy", "dmy" or "ymd"; None refuses them.
    date_order: str | None = None
    history_path: Path | None = None
    keep_months: int = 13
    # [forecast]: the months 目标拆解 plans (empty: the next three) and how rate defaults are drawn.
    target_months: tuple[str, ...] = ()
    rate_basis: str = "mean3"
    # [review] min_lift: the smallest lift (in points of back-rate) an A/B test should detect; 复盘 shows
    # the users per arm that needs at 95 % confidence and 80 % power.
    min_lift: float = 0.05
    # [research] group: the group ``tagger contacts --research N`` samples for user research.
    research_group: str = "churned_not_driving"
    source: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    # Keys of the project file no reader knows (misspelt, or meant for another version).
    unknown_settings: list[UnknownSetting] = field(default_factory=list)

    @property
    def base_dir(self) -> Path:
        """Where relative paths in the config are resolved: the config's folder."""
        return self.source.parent if self.source else Path.cwd()

    def default_history_path(self) -> Path:
        return self.history_path or self.base_dir / HISTORY_NAME

    @property
    def warnings(self) -> list[str]:
        """One line per unknown setting, in the current language (set after the config is read)."""
        return [setting.message() for setting in self.unknown_settings]


# A key is known when a shipped preset sets it or when load_config/_build reads it, so a key added there is
# known with nothing else to update. Listed here are only the tables another module reads from Config.raw
# (and checks itself): [[rules]] (tagger.rules names an unknown rule key), [sql] (tagger.snapshot, likewise)
# and [[alerts.levels]] (tagger.alerts). A new table read that way needs a line here or a preset entry.
READ_ELSEWHERE: frozenset[tuple[str, ...]] = frozenset({
    ("rules",), ("rules_match",), ("rules_file",), ("project", "rules_match"), ("project", "rules_file"),
    ("sql",), ("alerts",),
})
ANY = "*"  # in a path: every key of the table was taken (a reader walked it whole)
ITEM = "[]"  # in a path: an item of an array of tables


class _Tracked(dict):
    """A TOML table that records which keys its readers look up, so the keys nobody reads can be named.

    Built once over the parsed config (nested tables and arrays of tables wrapped too); ``get``,
    ``[]`` and ``in`` record the key, walking the table (``items`` …) records :data:`ANY`.
    """

    def __init__(self, data: Mapping[str, Any], path: tuple[str, ...], seen: set[tuple[str, ...]]) -> None:
        super().__init__({key: _track(value, (*path, key), seen) for key, value in data.items()})
        self._path, self._seen = path, seen

    def _saw(self, key: object) -> None:
        self._seen.add((*self._path, str(key)))

    def get(self, key: Any, default: Any = None) -> Any:
        self._saw(key)
        return super().get(key, default)

    def __getitem__(self, key: Any) -> Any:
        self._saw(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self._saw(key)
        return super().__contains__(key)

    def __iter__(self) -> Iterator[str]:
        self._saw(ANY)
        return super().__iter__()

    def items(self) -> Any:
        self._saw(ANY)
        return super().items()

    def keys(self) -> Any:
        self._saw(ANY)
        return super().keys()

    def values(self) -> Any:
        self._saw(ANY)
        return super().values()


def _track(value: Any, path: tuple[str, ...], seen: set[tuple[str, ...]]) -> Any:
    if isinstance(value, Mapping):
        return _Tracked(value, path, seen)
    if isinstance(value, list):
        return [_Tracked(item, (*path, ITEM), seen) if isinstance(item, Mapping) else item for item in value]
    return value


def _paths(data: Mapping[str, Any], path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every key of a parsed TOML document as a path (array items as :data:`ITEM`), tables first."""
    for key, value in data.items():
        here = (*path, key)
        yield here
        items = [value] if isinstance(value, Mapping) else value if isinstance(value, list) else []
        for item in items:
            if isinstance(item, Mapping):
                yield from _paths(item, here if item is value else (*here, ITEM))


@functools.lru_cache(maxsize=1)
def _preset_keys() -> frozenset[tuple[str, ...]]:
    """Every key some shipped preset sets: the presets are complete, commented configs."""
    known: set[tuple[str, ...]] = set()
    for name in available_presets():
        known.update(_paths(tomllib.loads(preset_text(name))))
    return frozenset(known)


def unknown_keys(project: Mapping[str, Any], seen: set[tuple[str, ...]],
                 fields: set[str]) -> list[tuple[tuple[str, ...], list[str]]]:
    """Keys of ``project`` that no preset sets and no reader asked for, each with the known keys beside it.

    ``fields``: the names ``[columns]`` takes (its keys are field names, not settings).
    """
    known = seen | _preset_keys() | {("columns", name) for name in fields}
    found = []

    def walk(data: Mapping[str, Any], path: tuple[str, ...]) -> None:
        for key, value in data.items():
            here = (*path, key)
            if here in READ_ELSEWHERE or (*path, ANY) in known:
                continue
            if here not in known:
                siblings = sorted({k[len(path)] for k in known if len(k) > len(path) and k[:len(path)] == path
                                   and k[len(path)] not in (ANY, ITEM)})
                found.append((here, siblings))
            elif isinstance(value, Mapping):
                walk(value, here)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, Mapping):
                        walk(item, (*here, ITEM))

    walk(project, ())
    return found


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_.\"' -]+?)\s*=")


def _dotted(text: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in text.split("."))


def key_line(text: str, path: tuple[str, ...]) -> int | None:
    """The line of ``text`` (1-based) where the key at ``path`` is written (array items: the first one).

    >>> text = '[project]\\nname = "x"\\n\\n[[playbook]]\\nstratgy = "y"\\nstrategy = { zh = "a", fr = "b" }\\n'
    >>> key_line(text, ("playbook", ITEM, "stratgy")), key_line(text, ("playbook", ITEM, "strategy", "fr"))
    (5, 6)
    >>> key_line(text, ("project",)), key_line(text, ("colums",)) is None
    (1, True)
    """
    wanted = tuple(part for part in path if part != ITEM)
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = _dotted(header[1])
            if table == wanted:
                return number
            continue
        key = _KEY.match(line)
        if key and (*table, *_dotted(key[1])) == wanted:
            return number
    return key_line(text, path[:-1]) if len(path) > 1 else None


def _unknown_settings(source: Path, project: Mapping[str, Any], seen: set[tuple[str, ...]],
                      fields: set[str]) -> list[UnknownSetting]:
    """Each unknown key of ``source``: its line and the nearest key tagger knows in the same table."""
    text = source.read_text(encoding="utf-8-sig")
    found = []
    for path, siblings in unknown_keys(project, seen, fields):
        table = [part for part in path[:-1] if part != ITEM]
        near = difflib.get_close_matches(path[-1], siblings, n=1, cutoff=0.6)
        found.append(UnknownSetting(source, key_line(text, path), ".".join((*table, path[-1])),
                                    ".".join((*table, near[0])) if near else ""))
    return found


def available_presets() -> list[str]:
    """Names of the presets shipped with tagger."""
    folder = resources.files("tagger") / "templates"
    return sorted(p.name[: -len(".toml")] for p in folder.iterdir() if p.name.endswith(".toml"))


def preset_text(name: str) -> str:
    """The commented TOML of a preset, as shipped."""
    if name not in available_presets():
        raise ConfigError(TEXT("unknown_preset", name=name, available=", ".join(available_presets())))
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
        raise ConfigError(TEXT("missing_file", path=path))
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(TEXT("unreadable", path=path, reason=exc)) from None


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
    seen: set[tuple[str, ...]] = set()
    reading = _Tracked(project, (), seen)  # what load_config and _build ask of the file
    name = preset or reading.get("project", {}).get("preset") or DEFAULT_PRESET
    base = _project_template(reading, source) if preset is None else None
    data = merge(base if base is not None else tomllib.loads(preset_text(name)), project)
    config = _build(_Tracked(data, (), seen), name, source)
    config.raw = data
    if source is not None:
        fields = {*DEFAULT_ALIASES, *(f.field for f in config.features), "date_order"}
        config.unknown_settings = _unknown_settings(source, project, seen, fields)
    return config


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
        raise ConfigError(TEXT("bad_value", path=where, key=key, value=value, reason=reason))


def _labels(item: Mapping[str, Any], where: Path | str, key: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    for lang in LANGUAGES:
        text = item.get(lang)
        _check(isinstance(text, str) and bool(text), where, f"{key}.{lang}", text, "a label is required")
        labels[lang] = str(text)  # a str: _check refused anything else
    return labels


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
    min_lift = data.get("review", {}).get("min_lift", 0.05)
    _check(isinstance(min_lift, (int, float)) and not isinstance(min_lift, bool) and 0 < min_lift < 1, where,
           "review.min_lift", min_lift, "a lift in points of back-rate between 0 and 1, e.g. 0.05")
    research_group = data.get("research", {}).get("group", "churned_not_driving")
    _check(isinstance(research_group, str) and bool(research_group.strip()), where, "research.group",
           research_group, "a group key or label, e.g. churned_not_driving")

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
        raise ConfigError(TEXT("no_features", path=where))
    channels = tuple(
        Channel(key=item.get("key", f"channel{i}"), labels=_labels(item, where, f"channels[{i}]"))
        for i, item in enumerate(data.get("channels", []))
    )
    playbook = _playbook(data.get("playbook", []), where, features, channels)
    column_table = dict(dict.items(data.get("columns", {})))  # field names, checked by unknown_keys
    date_order = column_table.pop("date_order", None)
    _check(date_order is None or date_order in DATE_ORDERS, where, "columns.date_order", date_order,
           "mdy (09/13/2024), dmy (13/09/2024) or ymd")
    columns = {
        field_name: [names] if isinstance(names, str) else list(names)
        for field_name, names in column_table.items()
    }
    target_months, rate_basis = _forecast(data.get("forecast", {}), where)
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
        date_order=date_order,
        history_path=(base / history_path) if history_path else None,
        keep_months=keep,
        target_months=target_months,
        rate_basis=rate_basis,
        min_lift=float(min_lift),
        research_group=research_group.strip(),
        source=source,
        raw=data,
    )


def _forecast(section: Mapping[str, Any], where: Path | str) -> tuple[tuple[str, ...], str]:
    """``[forecast]``: consecutive ``YYYY-MM`` months (at most a year) and the rate basis."""
    months = section.get("target_months", [])
    _check(isinstance(months, list) and len(months) <= MAX_TARGET_MONTHS
           and all(isinstance(m, str) and re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", m) for m in months),
           where, "forecast.target_months", months,
           f'a list of up to {MAX_TARGET_MONTHS} months, e.g. ["2024-07", "2024-08", "2024-09"]')
    numbers = [int(m[:4]) * 12 + int(m[5:]) for m in months]
    _check(all(b - a == 1 for a, b in itertools.pairwise(numbers)), where, "forecast.target_months", months,
           'consecutive months in order, e.g. ["2024-07", "2024-08", "2024-09"]')
    basis = section.get("rate_basis", "mean3")
    _check(basis in RATE_BASIS, where, "forecast.rate_basis", basis, " or ".join(RATE_BASIS))
    return tuple(months), basis


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
    raise ConfigError(TEXT("bad_playbook", path=where, index=index, key=key, value=value,
                           reason='a text, or { zh = "…", en = "…" }'))


def _playbook(items: object, where: Path | str, features: list[Feature],
              channels: tuple[Channel, ...]) -> tuple[Play, ...]:
    """Validate ``[[playbook]]`` rows: known group, goal, channel, status and preference keys."""
    if not isinstance(items, list):
        raise ConfigError(TEXT("bad_playbook", path=where, index=0, key="playbook", value=items,
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
            raise ConfigError(TEXT("bad_playbook", path=where, index=index, key="playbook", value=item,
                                   reason="each row is a table"))
        values = {"status": "planned", "preference": "", **{k: item.get(k) for k in ("group", "goal", "channel")},
                  **{k: item[k] for k in ("status", "preference") if k in item}}
        for key, choices in allowed.items():
            if values[key] not in choices:
                raise ConfigError(TEXT("bad_playbook", path=where, index=index, key=key, value=values[key],
                                       reason="use one of " + ", ".join(c for c in choices if c)))
        texts = {name: _play_text(item.get(name, ""), where, index, name) for name in PLAY_TEXTS}
        if not texts["strategy"]["zh"]:
            raise ConfigError(TEXT("bad_playbook", path=where, index=index, key="strategy", value="",
                                   reason="every row names its strategy"))
        plays.append(Play(group=values["group"], goal=values["goal"], channel=values["channel"], texts=texts,
                          status=values["status"], preference=values["preference"]))
    return tuple(plays)
