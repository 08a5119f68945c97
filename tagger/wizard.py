"""The terminal wizard: ``tagger`` with no arguments, or ``tagger wizard``.

Many ops staff have never used a command line, so the wizard asks for what
``tagger tag`` takes as flags, one question at a time: the export, the sheet,
the month, the column mapping, the preset and its numbers, the language and
where things go. It only *builds* a :class:`tagger.pipeline.TagOptions` (and the
``tagger.toml`` to save) and then calls :func:`tagger.pipeline.run`, the same
path every front end takes.

Every questionary call goes through :class:`Prompter`, whose prompt_toolkit
input and output can be injected, so tests drive the real prompts through a
pipe. Ctrl-C (or Ctrl-D) anywhere raises :class:`KeyboardInterrupt`; nothing is
written before the run, and the run and the config both write through
temporary files that are renamed only when complete.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
import questionary
from prompt_toolkit.input import Input
from prompt_toolkit.output import Output
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tagger.check import sample_values
from tagger.columns import REQUIRED_FIELDS, build_aliases, field_label, field_note, match_columns
from tagger.commands.common import RichProgress, open_hint
from tagger.config import CONFIG_NAME, available_presets, find_config, load_config
from tagger.errors import InputError, TaggerError
from tagger.files import atomic_output
from tagger.i18n import Catalog, get_language, set_language
from tagger.pipeline import TagOptions, TagResult, default_output, month_from_name, resolve_month, run
from tagger.prepare import DATE_FIELDS, column_aliases, prepare_users
from tagger.project import ProjectSettings, all_fields, config_text, minimal_overrides, source_note
from tagger.readers import EXPORT_SUFFIXES, SCAN_ROWS, SheetInfo, head_rows, list_sheets, read_export
from tagger.readers import Table as RawTable
from tagger.report import summary_tables
from tagger.values import first_day_month_date, month_key, parse_month, proven_date_order
from tagger.vocabulary import word

NONE = "__none__"
OTHER = "__other__"
CONFIRM = "__confirm__"

TEXT = Catalog(
    "wizard",
    {
        "no_terminal": {
            "zh": "向导需要在终端中交互运行（当前输入或输出不是终端）。"
                  "在脚本或 CI 中请用：tagger tag 导出文件.xlsx（tagger --help 列出全部命令）",
            "en": "the wizard needs an interactive terminal (input or output is not a terminal). In scripts "
                  "and CI use: tagger tag EXPORT.xlsx (tagger --help lists every command)",
        },
        "welcome": {
            "zh": "tagger 向导：为月度用户导出打上生命周期分群和偏好标签。随时按 Ctrl-C 取消，不会留下写了一半的文件。",
            "en": "tagger wizard: tag a monthly user export with lifecycle segments and preferences. Press "
                  "Ctrl-C at any time to cancel; nothing half-written is left behind.",
        },
        "pick_export": {"zh": "选择要打标签的导出文件（最新的在最前）", "en": "Export to tag (newest first)"},
        "other_file": {"zh": "其他文件…（输入路径，Tab 补全）", "en": "Another file… (type a path, Tab completes)"},
        "export_path": {"zh": "导出文件路径（Tab 补全）", "en": "Path of the export (Tab completes)"},
        "not_export": {"zh": "请选择一个存在的 xlsx/xls/ods/csv/tsv/txt 文件",
                       "en": "choose an existing xlsx/xls/ods/csv/tsv/txt file"},
        "pick_sheet": {"zh": "读取哪个工作表？", "en": "Which sheet holds the users?"},
        "sheet_item": {"zh": "{name}（{rows:,} 行）", "en": "{name} ({rows:,} rows)"},
        "hidden": {"zh": "，隐藏", "en": ", hidden"},
        "date_order": {
            "zh": "日期写成 {sample} 这样（日、月在年前面），tagger 不猜顺序。这份导出的日期是？",
            "en": "Dates are written like {sample} (day and month before the year) and tagger does not guess the "
                  "order. How do this export's dates read?",
        },
        "date_order_proven": {
            "zh": "（“{column}”列的 '{proof}' 只能这样读，已选好，回车确认）",
            "en": " ('{proof}' in '{column}' allows only this order, chosen for you; Enter to confirm)",
        },
        "order_mdy": {"zh": "月/日/年（09/13/2024 = 2024-09-13）", "en": "month/day/year (09/13/2024 = 2024-09-13)"},
        "order_dmy": {"zh": "日/月/年（13/09/2024 = 2024-09-13）", "en": "day/month/year (13/09/2024 = 2024-09-13)"},
        "r_date_order": {"zh": "日期顺序", "en": "Date order"},
        "month": {"zh": "报告月份（YYYY-MM）", "en": "Report month (YYYY-MM)"},
        "month_guess": {"zh": "（依据{source}推测，回车确认）", "en": " (guessed from {source}; Enter to confirm)"},
        "from_name": word("file_name"),
        "from_dates": {"zh": "最近活跃时间", "en": "the last-active dates"},
        "bad_month": {"zh": "请写成 2024-07 这样的月份", "en": "write the month like 2024-07"},
        "headers_unmatched": {
            "zh": "没能自动认出所有必需的列（{reason}）。请从表头中选出对应的列。",
            "en": "Not every required column was recognised ({reason}). Pick them from the headers.",
        },
        "mapping_title": {"zh": "列对应（必需字段不能跳过）",
                          "en": "Column mapping (required fields cannot be skipped)"},
        "field": word("field"),
        "header": word("header"),
        "samples": word("samples"),
        "effect": {"zh": "有这一列时", "en": "When present"},
        "group_required": {"zh": "必需", "en": "Required"},
        "group_required_note": {"zh": "每个都要对应一列，不能跳过", "en": "each needs a column; cannot be skipped"},
        "group_optional": {"zh": "可选", "en": "Optional"},
        "group_optional_note": {"zh": "有就用上，没有也能运行", "en": "used when present; runs without"},
        "group_counts": {"zh": "使用次数 (近三个月)", "en": "Usage counts (3 months)"},
        "group_counts_note": {"zh": "各功能次数的占比决定偏好标签", "en": "their shares make the preference tags"},
        "unused": {"zh": "—（未使用）", "en": "— (not used)"},
        "mapping_ok": {"zh": "列对应正确，继续", "en": "The mapping is right, continue"},
        "mapping_missing": {"zh": "还缺少：{fields}", "en": "still missing: {fields}"},
        "mapping_menu": {"zh": "确认列对应，或选择一个字段修改", "en": "Confirm the mapping or pick a field to change"},
        "change_item": {"zh": "修改 {field} ← {header}", "en": "Change {field} ← {header}"},
        "pick_header": {"zh": "哪一列是“{field}”？", "en": "Which column is '{field}'?"},
        "header_item": {"zh": "{header}   例：{samples}", "en": "{header}   e.g. {samples}"},
        "not_used": {"zh": "（不使用这个字段）", "en": "(do not use this field)"},
        "preset": {"zh": "预设（决定偏好功能、渠道和默认参数）", "en": "Preset (features, channels and defaults)"},
        "preset_car_app": {"zh": "car_app 车主APP", "en": "car_app (car-owner app)"},
        "preset_ecommerce": {"zh": "ecommerce 电商", "en": "ecommerce (online shop)"},
        "preset_social": {"zh": "social 社交", "en": "social (social app)"},
        "churn": {
            "zh": "连续几个月不活跃算流失？（少于这个月数为休眠）",
            "en": "After how many inactive months is a user churned? (fewer: dormant)",
        },
        "bad_churn": {"zh": "请输入 1 到 24 之间的整数", "en": "enter a whole number from 1 to 24"},
        "threshold": {
            "zh": "偏好阈值：某功能占该用户使用次数的比例达到多少算偏好（如 0.3 或 30%）",
            "en": "Preference threshold: share of a user's usage that makes a preference (e.g. 0.3 or 30%)",
        },
        "target": {"zh": "月活率目标（如 0.85 或 85%）", "en": "Target monthly active rate (e.g. 0.85 or 85%)"},
        "bad_share": {"zh": "请输入 0 到 1 之间的比例，或 1% 到 100%",
                      "en": "enter a share between 0 and 1, or 1% to 100%"},
        "language": {"zh": "工作簿和提示的语言", "en": "Language of the workbook and messages"},
        "history": {"zh": "历史库（记录每个月，用于区分唤醒/回流和计算4个比率）",
                    "en": "History database (remembers each month for awakened/returned and the 4 rates)"},
        "output": {"zh": "输出工作簿", "en": "Workbook to write"},
        "bad_output": {"zh": "请输入 .xlsx 文件路径，且不能是导出文件本身，所在文件夹须存在",
                       "en": "enter an .xlsx path in an existing folder, not the export itself"},
        "review_title": {"zh": "请确认", "en": "Review"},
        "r_export": {"zh": "导出文件", "en": "Export"},
        "r_sheet": {"zh": "工作表", "en": "Sheet"},
        "r_month": word("report_month"),
        "r_columns": word("columns"),
        "r_preset": {"zh": "预设", "en": "Preset"},
        "r_churn": {"zh": "流失月数", "en": "Churn after (months)"},
        "r_threshold": word("preference_threshold"),
        "r_target": {"zh": "月活率目标", "en": "Target active rate"},
        "r_language": {"zh": "语言", "en": "Language"},
        "r_history": {"zh": "历史库", "en": "History"},
        "r_output": {"zh": "输出工作簿", "en": "Workbook"},
        "r_config": {"zh": "保存配置到", "en": "Config saved to"},
        "auto": {"zh": "（自动）", "en": " (auto)"},
        "save": {"zh": "把这些回答保存到 {path}（下次 tagger tag 直接使用，不再提问）？",
                 "en": "Save these answers to {path} (tagger tag reuses them without questions)?"},
        "go": {"zh": "开始运行？", "en": "Run now?"},
        "saved": {"zh": "已保存配置：{path}（可直接编辑）", "en": "Saved the config: {path} (edit it freely)"},
        "next_time": {"zh": "下个月只需运行：tagger tag 新导出文件.xlsx",
                      "en": "Next month just run: tagger tag NEW_EXPORT.xlsx"},
        "written": word("written"),
        "written_both": {"zh": "已写入：{path} 和 {config}", "en": "Written: {path} and {config}"},
    },
)


class NoTerminalError(TaggerError):
    """The wizard was started where nobody can answer (CI, a pipe, cron)."""

    exit_code = 2


# --------------------------------------------------------------------------- prompts


class Prompter:
    """Every questionary prompt the wizard asks, with injectable prompt_toolkit input and output.

    ``unsafe_ask`` lets Ctrl-C propagate as :class:`KeyboardInterrupt` (``ask``
    would swallow it and return None, which a wizard could mistake for an
    answer); Ctrl-D (EOF, e.g. a closed pipe) is treated the same way so the
    wizard never waits on input that cannot come.
    """

    def __init__(self, input: Input | None = None, output: Output | None = None) -> None:
        self.input = input
        self.output = output

    @property
    def injected(self) -> bool:
        return self.input is not None

    def _ask(self, question: questionary.Question) -> Any:
        try:
            return question.unsafe_ask()
        except EOFError:
            raise KeyboardInterrupt from None

    def _io(self) -> dict[str, Any]:
        return {key: value for key, value in (("input", self.input), ("output", self.output)) if value}

    def select(self, message: str, choices: Sequence[questionary.Choice], default: Any = None) -> Any:
        chosen = next((c for c in choices if default is not None and c.value == default), None)
        return self._ask(questionary.select(message, choices=list(choices), default=chosen, **self._io()))

    def text(self, message: str, default: str = "", validate: Any = None) -> str:
        return str(self._ask(questionary.text(message, default=default, validate=validate, **self._io())))

    def path(self, message: str, default: str = "", validate: Any = None) -> str:
        return str(self._ask(questionary.path(message, default=default, validate=validate, **self._io())))

    def confirm(self, message: str, default: bool = True) -> bool:
        return bool(self._ask(questionary.confirm(message, default=default, **self._io())))


def require_terminal(prompter: Prompter) -> None:
    """Refuse at once when nobody can answer, instead of hanging or reading a pipe as keystrokes."""
    if prompter.injected:
        return
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise NoTerminalError(TEXT("no_terminal"))


# --------------------------------------------------------------------------- reading the export


def candidate_exports(folder: Path, limit: int = 12) -> list[Path]:
    """Exports in ``folder``, newest first; our own outputs and Excel lock files left out."""
    found = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in EXPORT_SUFFIXES
             and not p.name.startswith(("~$", ".")) and not p.stem.endswith("_tagged")]
    return sorted(found, key=lambda p: (-p.stat().st_mtime, p.name))[:limit]


@dataclass
class Columns:
    """The export's headers with a few sample values each, and where the header row is."""

    headers: list[str]
    samples: dict[str, list[str]]
    table: RawTable | None = None
    problem: str | None = None


def raw_columns(path: Path, sheet: str | None, rows: int = SCAN_ROWS) -> Columns:
    """Headers and samples straight from the first rows: the header row is the first widest row.

    Used only when :func:`tagger.readers.read_export` cannot find the required
    headers, so the person can say which columns they are; the rows come from the
    same reader (:func:`tagger.readers.head_rows`), decoded and split as tagger reads them.
    """
    try:
        head = head_rows(path, sheet, rows)
    except InputError:
        head = []
    widths = [sum(1 for cell in row if cell.strip()) for row in head]
    if not widths or max(widths) == 0:
        return Columns(headers=[], samples={})
    index = widths.index(max(widths))
    header_row = head[index]
    headers: list[str] = []
    samples: dict[str, list[str]] = {}
    for position, name in enumerate(header_row):
        if not name.strip() or name in samples:
            continue
        headers.append(name)
        samples[name] = sample_values([row[position] for row in head[index + 1:] if position < len(row)])
    return Columns(headers=headers, samples=samples)


def table_columns(table: RawTable) -> Columns:
    headers = [str(c) for c in table.frame.columns]
    samples = {h: sample_values(table.frame[c].head(50).tolist())
               for h, c in zip(headers, table.frame.columns, strict=True)}
    return Columns(headers=headers, samples=samples, table=table)


# --------------------------------------------------------------------------- the answers


@dataclass
class Plan:
    """What the wizard will do: the run's options and the config it saves."""

    options: TagOptions
    settings: ProjectSettings
    config_path: Path
    save: bool
    mapping: dict[str, str | None] = field(default_factory=dict)


def _share(text: str) -> float | None:
    """``0.3``, ``30%`` or ``30`` as a share; None if it is not one."""
    value = text.strip().rstrip("%").strip()
    try:
        number = float(value)
    except ValueError:
        return None
    if text.strip().endswith("%") or number > 1:
        number /= 100
    return number if 0 < number <= 1 else None


def _shown(path: Path) -> str:
    """A path as short as it can be shown (relative to the working folder when inside it)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class Wizard:
    """One walk through the questions; :meth:`plan` asks, :meth:`execute` runs and saves."""

    def __init__(self, console: Console, prompter: Prompter, *, folder: Path | None = None,
                 export: Path | None = None, config: Path | None = None, lang: str | None = None) -> None:
        self.console = console
        self.ask = prompter
        self.folder = folder or Path.cwd()
        self.export = export
        # The config goes where `tagger tag` will look for it: the folder the person works in.
        self.config_path = config or (Path.cwd() / CONFIG_NAME)
        existing = config if config is not None and config.is_file() else find_config()
        self.config = load_config(existing)
        self.settings = ProjectSettings.from_config(self.config)
        if lang:
            self.settings.language = lang
        set_language(lang or self.config.language)

    # -- the export ------------------------------------------------------------------

    def pick_export(self) -> Path:
        if self.export is not None:
            return self.export
        candidates = candidate_exports(self.folder)
        if candidates:
            choices = [questionary.Choice(_shown(p), value=str(p)) for p in candidates]
            choices.append(questionary.Choice(TEXT("other_file"), value=OTHER))
            picked = self.ask.select(TEXT("pick_export"), choices)
            if picked != OTHER:
                return Path(picked)
        return Path(self.ask.path(TEXT("export_path"), validate=self._valid_export)).expanduser()

    @staticmethod
    def _valid_export(text: str) -> bool | str:
        path = Path(text.strip()).expanduser()
        return True if path.is_file() and path.suffix.lower() in EXPORT_SUFFIXES else TEXT("not_export")

    def pick_sheet(self, export: Path) -> str | None:
        sheets: list[SheetInfo] = list_sheets(export)
        if len(sheets) <= 1:
            return None
        choices = []
        for info in sheets:
            title = TEXT("sheet_item", name=info.name, rows=info.rows)
            if not info.visible:
                title = title[:-1] + TEXT("hidden") + title[-1]
            choices.append(questionary.Choice(title, value=info.name))
        first_visible = next((s.name for s in sheets if s.visible), sheets[0].name)
        return str(self.ask.select(TEXT("pick_sheet"), choices, default=first_visible))

    def read_columns(self, export: Path, sheet: str | None) -> Columns:
        """The export as tagger reads it; failing that, its raw headers for a manual pick."""
        try:
            return table_columns(read_export(export, sheet=sheet, aliases=column_aliases(self.config)))
        except InputError as exc:
            columns = raw_columns(export, sheet)
            if not columns.headers:
                raise
            columns.problem = exc.message
            return columns

    # -- the date order --------------------------------------------------------------

    def _date_columns(self, columns: Columns) -> dict[str, pd.Series]:
        """The export's date columns (header -> values), as far as this config maps them."""
        matched = match_columns(columns.headers, build_aliases(self.config.columns, self._extra()))
        found: dict[str, pd.Series] = {}
        for name in DATE_FIELDS:
            header = matched.get(name)
            if header is None:
                continue
            if columns.table is not None:
                frame = columns.table.frame
                found[header] = frame[next(c for c in frame.columns if str(c) == header)]
            else:
                found[header] = pd.Series(columns.samples.get(header, []), dtype=object)
        return found

    def pick_date_order(self, columns: Columns) -> None:
        """Ask how 09/13/2024-style dates read, only when the export's date columns hold such dates.

        The order one cell proves (a day over 12) is chosen already, so Enter is the answer most of the time.
        """
        dated = self._date_columns(columns)
        sample = next((values.iloc[proven_at] for values in dated.values()
                       if (proven_at := first_day_month_date(values)) is not None), None)
        if sample is None:
            return
        message = TEXT("date_order", sample=sample)
        default = self.config.date_order if self.config.date_order in ("mdy", "dmy") else "mdy"
        for header, values in dated.items():
            proven = proven_date_order(values)
            if proven is not None:
                default = proven[0]
                message += TEXT("date_order_proven", column=header, proof=values.iloc[proven[1]])
                break
        choices = [questionary.Choice(TEXT(f"order_{order}"), value=order) for order in ("mdy", "dmy")]
        order = str(self.ask.select(message, choices, default=default))
        self.settings.date_order = order
        self.config.date_order = order

    # -- the month -------------------------------------------------------------------

    def guess_month(self, export: Path, columns: Columns) -> tuple[str | None, str]:
        try:
            named = month_from_name(export)
        except InputError:
            return None, ""
        if named is not None:
            return month_key(named), TEXT("from_name")
        if columns.table is None:
            return None, ""
        try:
            users = prepare_users(columns.table, self.config)
            return month_key(resolve_month(TagOptions(export=export), users)), TEXT("from_dates")
        except TaggerError:
            return None, ""

    def pick_month(self, export: Path, columns: Columns) -> str:
        guess, source = self.guess_month(export, columns)
        message = TEXT("month") + (TEXT("month_guess", source=source) if guess else "")
        answer = self.ask.text(message, default=guess or "", validate=self._valid_month)
        return month_key(parse_month(answer))

    @staticmethod
    def _valid_month(text: str) -> bool | str:
        try:
            parse_month(text)
        except ValueError:
            return TEXT("bad_month")
        return True

    # -- the columns -----------------------------------------------------------------

    def _fields(self) -> list[str]:
        return all_fields(f.field for f in self.config.features)

    def _label(self, name: str) -> str:
        """What the field holds: a feature's field is its usage count, not its preference."""
        return field_label(name, get_language(), {f.field: f.labels for f in self.config.features})

    def _extra(self) -> dict[str, tuple[str, ...]]:
        return {f.field: f.columns for f in self.config.features}

    def map_columns(self, columns: Columns) -> dict[str, str | None]:
        """Show what was matched, make sure every required field has a column, let any be changed."""
        matched = match_columns(columns.headers, build_aliases(self.config.columns, self._extra()))
        mapping: dict[str, str | None] = {name: matched.get(name) for name in self._fields()}
        if columns.problem:
            self.console.print(f"[yellow]{escape(TEXT('headers_unmatched', reason=columns.problem))}[/]",
                               soft_wrap=True)
        self.console.print(self._mapping_table(mapping, columns))
        for name in REQUIRED_FIELDS:
            if mapping[name] is None:
                self._pick_header(name, mapping, columns)
        while True:
            choice = self.ask.select(TEXT("mapping_menu"), self._menu(mapping))
            if choice == CONFIRM:
                return mapping
            self._pick_header(choice, mapping, columns)
            self.console.print(self._mapping_table(mapping, columns))

    def _menu(self, mapping: dict[str, str | None]) -> list[questionary.Choice]:
        missing = [self._label(n) for n in REQUIRED_FIELDS if mapping[n] is None]
        confirm = questionary.Choice(TEXT("mapping_ok"), value=CONFIRM,
                                     disabled=TEXT("mapping_missing", fields="、".join(missing)) if missing else None)
        items = [questionary.Choice(TEXT("change_item", field=self._label(n), header=mapping[n] or TEXT("unused")),
                                    value=n) for n in mapping]
        return [confirm, *items]

    def _pick_header(self, name: str, mapping: dict[str, str | None], columns: Columns) -> None:
        taken = {h for h in mapping.values() if h}
        ordered = [h for h in columns.headers if h not in taken] + [h for h in columns.headers if h in taken]
        choices = [questionary.Choice(
            TEXT("header_item", header=h, samples=", ".join(columns.samples.get(h, [])) or "—"), value=h)
            for h in ordered]
        if name not in REQUIRED_FIELDS:
            choices.append(questionary.Choice(TEXT("not_used"), value=NONE))
        picked = self.ask.select(TEXT("pick_header", field=self._label(name)), choices, default=mapping[name])
        header = None if picked == NONE else str(picked)
        for other, current in mapping.items():
            if header is not None and current == header:
                mapping[other] = None
        mapping[name] = header

    def _groups(self, mapping: dict[str, str | None]) -> list[tuple[str, list[str]]]:
        """The fields in three groups, each under its heading: required, optional, usage counts."""
        counts = {f.field for f in self.config.features}
        groups = [("group_required", [n for n in mapping if n in REQUIRED_FIELDS]),
                  ("group_optional", [n for n in mapping if n not in REQUIRED_FIELDS and n not in counts]),
                  ("group_counts", [n for n in mapping if n in counts])]
        return [(heading, names) for heading, names in groups if names]

    def _mapping_table(self, mapping: dict[str, str | None], columns: Columns) -> Table:
        """Field ← header with samples, grouped, and what each optional field changes."""
        table = Table(title=TEXT("mapping_title"), title_justify="left")
        table.add_column(TEXT("field"), overflow="fold")  # fold: Chinese has no spaces to wrap at
        table.add_column(TEXT("header"), overflow="fold")
        table.add_column(TEXT("samples"), no_wrap=True, overflow="ellipsis", max_width=24)
        table.add_column(TEXT("effect"), overflow="fold")
        for index, (heading, names) in enumerate(self._groups(mapping)):
            if index:
                table.add_section()
            table.add_row(f"[bold]{escape(TEXT(heading))}[/]", "", "", f"[bold]{escape(TEXT(heading + '_note'))}[/]")
            for name in names:
                header = mapping[name]
                table.add_row(f"  {escape(self._label(name))}",
                              escape(header) if header else f"[dim]{escape(TEXT('unused'))}[/]",
                              escape(", ".join(columns.samples.get(header, []))) if header else "",
                              escape(field_note(name, get_language())))
        return table

    # -- the settings ------------------------------------------------------------------

    def pick_settings(self) -> None:
        presets = available_presets()
        choices = [questionary.Choice(TEXT(f"preset_{p}") if f"preset_{p}" in TEXT.texts else p, value=p)
                   for p in presets]
        preset = str(self.ask.select(TEXT("preset"), choices, default=self.settings.preset))
        if preset != self.settings.preset:
            fresh = ProjectSettings.from_config(load_config(None, preset))
            self.settings.preset = preset
            self.settings.template = None
            self.settings.churn_after_months = fresh.churn_after_months
            self.settings.threshold = fresh.threshold
            self.settings.target_active_rate = fresh.target_active_rate
            self.settings.feature_labels = fresh.feature_labels
            self.config = load_config(None, preset)
        s = self.settings
        s.churn_after_months = int(self.ask.text(TEXT("churn"), str(s.churn_after_months), self._valid_churn))
        s.threshold = _share(self.ask.text(TEXT("threshold"), f"{s.threshold:g}", self._valid_share)) or s.threshold
        s.target_active_rate = _share(self.ask.text(TEXT("target"), f"{s.target_active_rate:g}",
                                                    self._valid_share)) or s.target_active_rate
        languages = [questionary.Choice("中文 (zh)", value="zh"), questionary.Choice("English (en)", value="en")]
        s.language = str(self.ask.select(TEXT("language"), languages, default=s.language))
        set_language(s.language)

    @staticmethod
    def _valid_churn(text: str) -> bool | str:
        return True if text.strip().isdigit() and 1 <= int(text) <= 24 else TEXT("bad_churn")

    @staticmethod
    def _valid_share(text: str) -> bool | str:
        return True if _share(text) is not None else TEXT("bad_share")

    def pick_paths(self, export: Path) -> tuple[Path, Path]:
        base = self.config_path.parent
        history = self.ask.path(TEXT("history"), self.settings.history_path).strip()
        self.settings.history_path = history or self.settings.history_path
        default = _shown(default_output(export))

        def valid_output(text: str) -> bool | str:
            path = Path(text.strip()).expanduser()
            ok = (path.suffix.lower() == ".xlsx" and path.resolve() != export.resolve()
                  and (path.parent if str(path.parent) else Path(".")).is_dir())
            return True if ok else TEXT("bad_output")

        output = Path(self.ask.path(TEXT("output"), default, valid_output).strip()).expanduser()
        return base / Path(self.settings.history_path).expanduser(), output

    # -- putting it together -----------------------------------------------------------

    def plan(self) -> Plan:
        """Ask every question; nothing is written here."""
        self.console.print(f"[bold]{TEXT('welcome')}[/]", soft_wrap=True)
        export = self.pick_export()
        sheet = self.pick_sheet(export)
        columns = self.read_columns(export, sheet)
        self.pick_date_order(columns)
        month = self.pick_month(export, columns)
        mapping = self.map_columns(columns)
        self.pick_settings()
        mapping = {name: header for name, header in mapping.items() if name in self._fields()}  # preset may change
        history, output = self.pick_paths(export)
        self.settings.columns = minimal_overrides(columns.headers, mapping, self._extra())
        self.settings.matched = {k: v for k, v in mapping.items() if v and k not in self.settings.columns}
        self.settings.source_note = source_note(export.name, sheet, self.settings.language)
        options = TagOptions(export=export, month=month, history=history, output=output,
                             lang=self.settings.language, sheet=sheet)
        self.review(options, mapping)
        save = self.ask.confirm(TEXT("save", path=_shown(self.config_path)), default=True)
        if not self.ask.confirm(TEXT("go"), default=True):
            raise KeyboardInterrupt
        return Plan(options=options, settings=self.settings, config_path=self.config_path, save=save,
                    mapping=mapping)

    def review(self, options: TagOptions, mapping: dict[str, str | None]) -> None:
        s = self.settings
        table = Table(title=TEXT("review_title"), title_justify="left", show_header=False)
        table.add_column()
        table.add_column()
        columns = ", ".join(f"{self._label(k)} ← {v}" for k, v in mapping.items() if v and k in REQUIRED_FIELDS)
        rows = [
            ("r_export", _shown(options.export)), ("r_sheet", options.sheet or TEXT("auto")),
            ("r_month", options.month), ("r_columns", columns),
            *([("r_date_order", TEXT(f"order_{s.date_order}"))] if s.date_order in ("mdy", "dmy") else []),
            ("r_preset", s.preset),
            ("r_churn", str(s.churn_after_months)), ("r_threshold", f"{s.threshold:.0%}"),
            ("r_target", f"{s.target_active_rate:.0%}"), ("r_language", s.language),
            ("r_history", _shown(options.history) if options.history else ""),
            ("r_output", _shown(options.output) if options.output else ""),
            ("r_config", _shown(self.config_path)),
        ]
        for key, value in rows:
            table.add_row(TEXT(key), escape(str(value)))
        self.console.print(table)


@contextmanager
def _config_for_run(plan: Plan) -> Iterator[Path]:
    """The answers as a config file for the run; renamed to ``tagger.toml`` only if the run succeeds.

    The run needs the column mapping as ``[columns]``, and the pipeline reads it
    from a config file; a temp file beside the target keeps relative paths the same.
    """
    # An existing tagger.toml keeps everything the wizard does not ask about (and the run uses it too).
    text = config_text(plan.config_path, plan.settings, written_by="tagger wizard")
    folder = plan.config_path.parent
    folder.mkdir(parents=True, exist_ok=True)
    if plan.save:
        with atomic_output(plan.config_path) as temp:
            temp.write_text(text, encoding="utf-8")
            yield temp
        return
    handle, name = tempfile.mkstemp(prefix=".tagger.", suffix=".tmp.toml", dir=folder)
    os.close(handle)
    temp = Path(name)
    try:
        temp.write_text(text, encoding="utf-8")
        yield temp
    finally:
        temp.unlink(missing_ok=True)


def execute(plan: Plan, console: Console) -> TagResult:
    """Run the pipeline with the plan (progress bars on the console); save the config on success."""
    with _config_for_run(plan) as config, RichProgress(console) as progress:
        result = run(replace(plan.options, config=config), progress)
    # The temp file is gone now; point at the saved config (or none) for whoever reads the result.
    saved = plan.config_path if plan.save else None
    return replace(result, options=replace(plan.options, config=saved), config=replace(result.config, source=saved))


def show_result(result: TagResult, plan: Plan, console: Console) -> None:
    """The summary tables, notes, where things went and how to open the workbook."""
    for table in summary_tables(result):
        console.print(table)
    for note in result.notes:
        console.print(f"[cyan]•[/] {escape(note)}", soft_wrap=True)
    for warning in result.warnings:
        console.print(f"[yellow]![/] {escape(warning)}", soft_wrap=True)
    console.print(escape(open_hint(result.output)), soft_wrap=True)
    if plan.save:
        console.print(escape(TEXT("saved", path=_shown(plan.config_path))), soft_wrap=True)
        console.print(escape(TEXT("next_time")), soft_wrap=True)
        final = TEXT("written_both", path=_shown(result.output or Path()), config=_shown(plan.config_path))
    else:
        final = TEXT("written", path=_shown(result.output or Path()))
    console.print(f"[bold green]{escape(final)}[/]", soft_wrap=True)


def run_wizard(console: Console, prompter: Prompter | None = None, *, folder: Path | None = None,
               export: Path | None = None, config: Path | None = None, lang: str | None = None) -> TagResult:
    """Ask, run, show and save. Raises :class:`KeyboardInterrupt` on Ctrl-C, :class:`TaggerError` on bad input."""
    prompter = prompter or Prompter()
    require_terminal(prompter)
    wizard = Wizard(console, prompter, folder=folder, export=export, config=config, lang=lang)
    plan = wizard.plan()
    result = execute(plan, console)
    show_result(result, plan, console)
    return result


__all__ = ["Prompter", "Wizard", "Plan", "NoTerminalError", "run_wizard", "candidate_exports", "raw_columns"]
