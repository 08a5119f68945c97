"""A project's ``tagger.toml``: what ``tagger init`` and the wizard write.

The file is meant to be opened and edited by ops staff, so it is rendered by
hand (not dumped): every key a person changes comes with a comment saying what
it means, and the preset itself is copied beside it (``[project] template``)
for the parts people rarely touch (features, channels, playbooks). Writing goes
through :func:`tagger.files.atomic_output`, so Ctrl-C never leaves half a file
and a replaced file is first copied to ``backups/``.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tagger import __version__
from tagger.columns import (
    DEFAULT_ALIASES,
    REQUIRED_FIELDS,
    build_aliases,
    field_label,
    match_columns,
)
from tagger.config import CONFIG_NAME, DEFAULT_PRESET, HISTORY_NAME, Config, load_config, preset_text
from tagger.errors import OutputError
from tagger.files import atomic_output
from tagger.i18n import LANGUAGES, Catalog
from tagger.preset_comments import localize_comments

if TYPE_CHECKING:
    from tomlkit import TOMLDocument
    from tomlkit.items import InlineTable, Table

# tomlkit is imported where it is used: every ``tagger`` command start would otherwise pay ~25 ms for it.

TEXT = Catalog(
    "project",
    {
        "exists": {
            "zh": "{path} 已存在，未做改动；要覆盖请加 --force（旧文件会先备份到 backups/）",
            "en": "{path} already exists and was left alone; add --force to replace it (the old file is "
                  "backed up to backups/ first)",
        },
    },
)


@dataclass
class ProjectSettings:
    """The answers a project's ``tagger.toml`` records (everything else comes from the preset)."""

    preset: str = DEFAULT_PRESET
    language: str = "zh"
    target_active_rate: float = 0.85
    churn_after_months: int = 2
    threshold: float = 0.3
    history_path: str = HISTORY_NAME
    keep_months: int = 13
    template: str | None = None
    columns: dict[str, str | list[str]] = field(default_factory=dict)
    date_order: str | None = None  # [columns] date_order: how 09/13/2024 reads
    matched: dict[str, str] = field(default_factory=dict)
    feature_labels: dict[str, dict[str, str]] = field(default_factory=dict)  # usage field -> label per language
    source_note: str | None = None

    @classmethod
    def from_config(cls, config: Config) -> ProjectSettings:
        """Start from a loaded config (a preset, or an existing project file)."""
        history = config.raw.get("history", {}).get("path", HISTORY_NAME)
        return cls(
            preset=config.preset, language=config.language, target_active_rate=config.target_active_rate,
            churn_after_months=config.churn_after_months, threshold=config.preference_threshold,
            history_path=str(history), keep_months=config.keep_months,
            template=config.raw.get("project", {}).get("template") if config.source else None,
            columns={k: (v[0] if len(v) == 1 else list(v)) for k, v in config.columns.items()},
            date_order=config.date_order,
            feature_labels={f.field: dict(f.labels) for f in config.features},
        )


def _value(value: object) -> str:
    """A TOML literal: JSON strings, numbers and arrays of strings are valid TOML too."""
    if isinstance(value, float):
        return repr(round(value, 6))
    return json.dumps(value, ensure_ascii=False)


def _field_label(name: str, settings: ProjectSettings) -> str:
    """What a ``[columns]`` key holds, in the file's language (a feature's key holds its usage count)."""
    return field_label(name, settings.language if settings.language in LANGUAGES else "zh", settings.feature_labels)


COMMENTS = Catalog(
    "project_toml",
    {
        "date_order": {
            "zh": "09/13/2024 这类日期的读法：\"mdy\"（月/日/年）或 \"dmy\"（日/月/年）；不设置则拒绝这类日期，\n"
                  "而不是去猜（--date-order 可为单次运行指定）。",
            "en": "How dates like 09/13/2024 read: \"mdy\" (month/day/year), \"dmy\" (day/month/year); unset refuses\n"
                  "them rather than guess (--date-order says it for one run).",
        },
        "written": {"zh": "# tagger 项目设置，由 `{by}`（tagger {version}）写于 {stamp}。",
                    "en": "# tagger project settings, written by `{by}` (tagger {version}) on {stamp}."},
        "intro": {
            "zh": "# 这个文件在运行的文件夹中时（或用 --config 路径指定），`tagger tag 导出文件`、`tagger refresh`\n"
                  "# 和向导都会读取它。下面的值都可以改；这里没有写的设置取自预设。",
            "en": "# `tagger tag EXPORT`, `tagger refresh` and the wizard read this file when it sits in the folder\n"
                  "# they run in (or pass --config PATH). Change any value below; anything not set here comes from\n"
                  "# the preset.",
        },
        "last_export": {"zh": "上次的导出：{name}", "en": "Last export: {name}"},
        "last_export_sheet": {"zh": "上次的导出：{name}，工作表“{sheet}”",
                              "en": "Last export: {name}, sheet '{sheet}'"},
        "preset": {"zh": "# 项目起始的预设：car_app、ecommerce 或 social。",
                   "en": "# Preset this project starts from: car_app, ecommerce or social."},
        "template": {"zh": "# 复制在本文件旁边的预设；要改功能、渠道和策略就编辑它",
                     "en": "# the preset copied beside this file; edit it for features, channels and playbooks"},
        "no_template": {"zh": "# 本文件旁边的一份预设副本，用来代替自带的预设",
                        "en": "# a preset copy beside this file to use instead of the shipped one"},
        "language": {"zh": "# 工作表名、标签和提示的语言：\"zh\"（中文）或 \"en\"（English）。",
                     "en": "# Language of sheet names, labels and messages: \"zh\" (中文) or \"en\"."},
        "target": {"zh": "# 月活率目标（月活率 = 当月活跃用户 / 累计用户），0 到 1 之间的比例。",
                   "en": "# Target monthly active rate (月活率目标 = 当月活跃用户 / 累计用户), "
                         "a share between 0 and 1."},
        "churn": {
            "zh": "# 连续多少个月没有活跃算流失；不到这个月数（但本月不活跃）算休眠。\n"
                  "# car_app 和原文用 2，电商 3，社交应用 1。",
            "en": "# Months without activity after which a user is 流失 (churned); fewer is 休眠 (dormant).\n"
                  "# car_app and the source article use 2, e-commerce 3, social apps 1.",
        },
        "threshold": {
            "zh": "# 某个功能在该用户近三个月使用次数中的占比达到这个值，就成为偏好标签（0.3 = 30%）。",
            "en": "# A feature becomes a preference tag when it makes up at least this share of a user's\n"
                  "# usage over the last three months (0.3 = 30%).",
        },
        "columns": {
            "zh": "# 导出中哪个表头对应哪个字段。tagger 已认识常见的名称（用户ID、注册时间、最近一次活跃时间……）；\n"
                  "# 这里写一行就会替换该字段的这些名称。写成列表表示接受其中任意一个表头；[] 表示“不使用这个字段”。",
            "en": "# Which header of your export holds each field. tagger already knows the usual names\n"
                  "# (用户ID, 注册时间, 最近一次活跃时间 …); a line here replaces them for that field.\n"
                  "# A list accepts any of several headers; [] means \"never use this field\".",
        },
        "matched": {"zh": "# 上次导出中自动对应上的列（去掉行首的 # 即可固定这个表头）：",
                    "en": "# Matched automatically in the last export (uncomment to pin the header):"},
        "history_path": {"zh": "# 记录每个导入月份的历史库（相对于本文件）。",
                         "en": "# The history database that remembers every imported month (relative to this file)."},
        "keep_months": {"zh": "# 为趋势和状态转移保留多少个月的逐用户历史。",
                        "en": "# Months of per-user history kept for trends and transitions."},
        "rules": {
            "zh": "# `tagger contacts`、预警和分群表使用的触发规则。预设自带下面这些，它们已经在生效。\n"
                  "# 要修改就把它们全部取消注释后再编辑：本文件中的 [[rules]] 列表会整体替换预设的列表（不合并）。\n"
                  "# 写 `rules = []` 则关闭规则。",
            "en": "# Trigger rules used by `tagger contacts`, 预警 and the group sheets. The preset ships the ones\n"
                  "# below and they already run. To change them, uncomment ALL of them here and edit: a [[rules]] "
                  "list\n"
                  "# in this file replaces the preset's whole list (nothing is merged). "
                  "`rules = []` switches rules off.",
        },
    },
)


def source_note(export: str, sheet: str | None, lang: str) -> str:
    """The line saying which export a wizard-written config was made from."""
    if sheet:
        return COMMENTS("last_export_sheet", lang=lang, name=export, sheet=sheet)
    return COMMENTS("last_export", lang=lang, name=export)


def _comment(key: str, lang: str) -> list[str]:
    return COMMENTS(key, lang=lang).splitlines()


def _columns_block(settings: ProjectSettings) -> list[str]:
    lang = settings.language
    lines = ["[columns]", *_comment("columns", lang)]
    for name, header in settings.columns.items():
        lines.append(f"{name} = {_value(header)}  # {_field_label(name, settings)}")
    shown = [name for name in settings.matched if name not in settings.columns]
    if shown:
        lines.extend(_comment("matched", lang))
    for name in shown:
        lines.append(f"# {name} = {_value(settings.matched[name])}  # {_field_label(name, settings)}")
    if not settings.columns and not shown:
        for name in REQUIRED_FIELDS:
            lines.append(f"# {name} = {_value(DEFAULT_ALIASES[name][0])}  # {_field_label(name, settings)}")
    return [*lines, *_date_order_lines(settings)]


def _date_order_lines(settings: ProjectSettings) -> list[str]:
    """``date_order``, set when the export needs it, else shown commented so people find the key."""
    line = f"date_order = {_value(settings.date_order or 'mdy')}"
    comment = [f"# {row}" for row in _comment("date_order", settings.language)]
    return [*comment, line if settings.date_order else f"# {line}"]


def render_config(settings: ProjectSettings, *, written_by: str = "tagger init") -> str:
    """The commented TOML of a project config; :func:`tomllib.loads` reads it back to the same values.

    The comments are in the project's language (``settings.language``), the one
    its workbook and messages use, so the person editing it reads their own.
    """
    lang = settings.language if settings.language in LANGUAGES else "zh"
    stamp = datetime.now().strftime("%Y-%m-%d %H:%M")
    template_line = (f"template = {_value(settings.template)}  {COMMENTS('template', lang=lang)}"
                     if settings.template else
                     f"# template = \"car_app.toml\"  {COMMENTS('no_template', lang=lang)}")
    lines = [
        COMMENTS("written", lang=lang, by=written_by, version=__version__, stamp=stamp),
        *_comment("intro", lang),
        *([f"# {settings.source_note}"] if settings.source_note else []),
        "",
        "[project]",
        *_comment("preset", lang),
        f"preset = {_value(settings.preset)}",
        template_line,
        *_comment("language", lang),
        f"language = {_value(settings.language)}",
        *_comment("target", lang),
        f"target_active_rate = {_value(float(settings.target_active_rate))}",
        "",
        "[lifecycle]",
        *_comment("churn", lang),
        f"churn_after_months = {int(settings.churn_after_months)}",
        "",
        "[preferences]",
        *_comment("threshold", lang),
        f"threshold = {_value(float(settings.threshold))}",
        "",
        *_columns_block(settings),
        "",
        "[history]",
        *_comment("history_path", lang),
        f"path = {_value(settings.history_path)}",
        *_comment("keep_months", lang),
        f"keep_months = {int(settings.keep_months)}",
        "",
        *_rules_block(settings.preset, lang),
    ]
    return "\n".join(lines)


def _rules_block(preset: str, lang: str) -> list[str]:
    """The preset's default ``[[rules]]``, commented out, so a person sees what runs and can take it over.

    They run from the preset (or its copy) as they are; uncommenting them here makes this file's list the
    one that counts, because a project's ``[[rules]]`` replace the preset's as a whole.
    """
    text = preset_text(preset)
    start = text.find("\n[[rules]]")
    if start < 0:
        return []
    body = text[start:].strip("\n").splitlines()
    return [*_comment("rules", lang), *(f"# {line}" if line else "#" for line in body), ""]


# The keys `tagger init` and the wizard write; everything else in an existing tagger.toml (its other
# tables and keys, [[rules]], comments, order) is what people typed, and a re-save keeps it as it is.
OWNED_KEYS: dict[str, tuple[str, ...]] = {
    "project": ("preset", "template", "language", "target_active_rate"),
    "lifecycle": ("churn_after_months",),
    "preferences": ("threshold",),
    "history": ("path", "keep_months"),
}


def update_config(existing: str, settings: ProjectSettings, *, written_by: str = "tagger init",
                  columns: bool = True) -> str | None:
    """``existing`` with only the owned keys (and, with ``columns``, ``[columns]``) set from ``settings``.

    A person may have added ``[forecast]``, ``[value_layers]``, ``[[rules]]`` with variants, comments …
    that the wizard never asks about; re-rendering the file would drop them, so the existing document
    is edited in place with tomlkit (comments and order survive). A table the file lacks is added as
    :func:`render_config` writes it, comments included. None when ``existing`` is not TOML.
    """
    import tomlkit
    import tomlkit.exceptions

    try:
        doc = tomlkit.parse(existing)
    except tomlkit.exceptions.TOMLKitError:
        return None
    fresh = tomlkit.parse(render_config(settings, written_by=written_by))
    for table, keys in OWNED_KEYS.items():
        _set_keys(doc, fresh, table, keys)
    if columns:
        _set_columns(doc, fresh)
    text = tomlkit.dumps(doc)
    tomllib.loads(text)  # what we write must read back
    return text


def _table_of(doc: TOMLDocument, fresh: TOMLDocument, name: str) -> Table | InlineTable | None:
    """``doc``'s table ``name``; added from ``fresh`` (None then: nothing left to set) when missing."""
    import tomlkit.items

    table = doc.get(name)
    if isinstance(table, (tomlkit.items.Table, tomlkit.items.InlineTable)):
        return table
    if name in doc:
        del doc[name]  # not a table (load_config refuses that file anyway): the rendered table replaces it
    doc[name] = fresh[name]
    return None


def _set_keys(doc: TOMLDocument, fresh: TOMLDocument, name: str, keys: Sequence[str]) -> None:
    table = _table_of(doc, fresh, name)
    if table is None:
        return
    source = fresh[name]
    for key in keys:
        if key in source:
            table[key] = source[key].unwrap()  # a plain value: the line's own comment stays
        elif key in table:
            del table[key]


def _set_columns(doc: TOMLDocument, fresh: TOMLDocument) -> None:
    """``[columns]`` exactly as the wizard's mapping (its own comments and commented lines stay)."""
    table = _table_of(doc, fresh, "columns")
    if table is None:
        return
    wanted = fresh["columns"]
    for key in [k for k in table if k not in wanted]:
        del table[key]
    for key in wanted:
        table[key] = wanted[key].unwrap()


def config_text(path: Path, settings: ProjectSettings, *, written_by: str, columns: bool = True) -> str:
    """What saving ``settings`` to ``path`` writes: the existing file updated, else a fresh render."""
    if path.is_file():
        updated = update_config(path.read_text(encoding="utf-8-sig"), settings, written_by=written_by,
                                columns=columns)
        if updated is not None:
            return updated
    return render_config(settings, written_by=written_by)


def minimal_overrides(headers: Sequence[object], wanted: Mapping[str, str | None],
                      extra: Mapping[str, Sequence[str]]) -> dict[str, str | list[str]]:
    """The fewest ``[columns]`` lines that make ``headers`` map exactly as ``wanted``.

    Built-in aliases stay in charge of every field they already get right, so
    next month's export may use another usual name; a field set to None gets
    ``[]`` only when a built-in alias would otherwise pick a header for it.

    >>> minimal_overrides(["会员号", "注册时间", "最近活跃时间"],
    ...                   {"user_id": "会员号", "register_date": "注册时间", "last_active_date": "最近活跃时间"}, {})
    {'user_id': '会员号'}
    """
    overrides: dict[str, str | list[str]] = {}
    for _ in range(len(wanted) + 1):
        got = match_columns(headers, build_aliases(overrides, extra))
        wrong = [f for f, header in wanted.items() if got.get(f) != header]
        if not wrong:
            break
        for name in wrong:
            overrides[name] = [] if wanted[name] is None else str(wanted[name])
    return overrides


def write_text_atomically(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` via a temp file and rename (backing up an existing file)."""
    with atomic_output(path) as temp:
        temp.write_text(text, encoding="utf-8")
    return path


@dataclass
class InitResult:
    config: Path
    template: Path
    replaced: list[Path]


def init_project(folder: Path, preset: str | None = None, *, force: bool = False,
                 lang: str | None = None) -> InitResult:
    """Write ``tagger.toml`` and a copy of the preset into ``folder``; refuse to overwrite unless ``force``.

    ``lang`` (``--lang``) becomes the project's language and the language of the file's comments.
    """
    name = preset or DEFAULT_PRESET
    template_text = preset_text(name)  # raises ConfigError for an unknown preset, before writing anything
    folder.mkdir(parents=True, exist_ok=True)
    config_path, template_path = folder / CONFIG_NAME, folder / f"{name}.toml"
    existing = [p for p in (config_path, template_path) if p.exists()]
    if existing and not force:
        raise OutputError(TEXT("exists", path=existing[0]))
    settings = ProjectSettings.from_config(load_config(None, name))
    settings.template = template_path.name
    if lang:
        settings.language = lang
    write_text_atomically(template_path, localize_comments(template_text, settings.language))
    # --force keeps what people added (other tables, [[rules]], [columns], comments) and resets only the
    # keys init writes to the preset's values; a file that is not TOML is replaced. Both are backed up.
    write_text_atomically(config_path, config_text(config_path, settings, written_by="tagger init", columns=False))
    tomllib.loads(config_path.read_text(encoding="utf-8"))  # what we wrote must read back
    return InitResult(config=config_path, template=template_path, replaced=existing)


def all_fields(extra: Iterable[str]) -> list[str]:
    """Canonical fields in the order a person reads them: required, then optional, then usage counts."""
    optional = [f for f in DEFAULT_ALIASES if f not in REQUIRED_FIELDS]
    return [*REQUIRED_FIELDS, *optional, *[f for f in extra if f not in DEFAULT_ALIASES]]


__all__ = ["ProjectSettings", "InitResult", "OWNED_KEYS", "config_text", "update_config", "render_config",
           "source_note", "minimal_overrides", "init_project", "write_text_atomically", "all_fields"]
