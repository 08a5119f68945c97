"""Pieces every subcommand shares: common flags and rich progress bars."""

from __future__ import annotations

import argparse
import re
import shlex
import sys
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from tagger.i18n import LANGUAGES, Catalog
from tagger.values import DATE_ORDERS

STEPS = Catalog(
    "steps",
    {
        "read": {"zh": "读取导出", "en": "Reading the export"},
        "tag": {"zh": "打标签", "en": "Tagging"},
        "history": {"zh": "写入历史库", "en": "Recording history"},
        "write": {"zh": "写出工作簿", "en": "Writing the workbook"},
    },
)


TEXT = Catalog(
    "hints",
    {
        "open": {"zh": "打开工作簿：{command}（或在文件管理器中双击它）",
                 "en": "Open the workbook: {command} (or double-click it in your file manager)"},
    },
)


def open_hint(path: Path | None, platform: str = sys.platform) -> str:
    """How to open ``path`` from this terminal, for people who would not know the command."""
    if platform.startswith("win"):
        command = f'start "" "{path}"'
    else:
        command = f"{'open' if platform == 'darwin' else 'xdg-open'} {shlex.quote(str(path))}"
    return TEXT("open", command=command)


OPTIONS = Catalog(
    "help_common",
    {
        "export": {"zh": "导出文件（xlsx、xlsm、xls、ods、csv、tsv、txt）",
                   "en": "the export file (xlsx, xlsm, xls, ods, csv, tsv, txt)"},
        "month": {"zh": "报告月份 YYYY-MM（默认：取自文件名，否则取最近的活跃时间）",
                  "en": "report month YYYY-MM (default: from the file name or the latest activity)"},
        "sheet": {"zh": "要读取的工作表（默认：含必需表头的可见工作表）",
                  "en": "sheet to read (default: the visible sheet with the required headers)"},
        "date_order": {"zh": "09/13/2024 这类日期的读法：mdy（月/日/年）、dmy 或 ymd"
                             "（默认：[columns] date_order，未设置则拒绝这类日期）",
                       "en": "how dates like 09/13/2024 read: mdy (month/day/year), dmy or ymd "
                             "(default: [columns] date_order, else such dates are refused)"},
        "config": {"zh": "项目配置（默认：当前文件夹中的 ./tagger.toml）",
                   "en": "project config (default: ./tagger.toml if present)"},
        "preset": {"zh": "起始预设：car_app、ecommerce、social",
                   "en": "preset to start from: car_app, ecommerce, social"},
        "lang": {"zh": "工作表名、标签、提示和帮助的语言（默认：配置中的 [project] language，否则中文）",
                 "en": "language of sheets, labels, messages and help (default: [project] language in the "
                       "config, else zh)"},
        "verbose": {"zh": "出错时显示完整的调用栈", "en": "show tracebacks for errors"},
        "quiet": {"zh": "只打印错误和最后一行", "en": "print only errors and the final line"},
        # Said by tag and contacts, each in its own HELP.
        "no_history": {"zh": "不读也不写历史库", "en": "do not read or write the history database"},
        "replace": {"zh": "替换已从另一个文件导入的同一月份",
                    "en": "replace a month already imported from another file"},
    },
)

PARSER = Catalog(
    "help_parser",
    {
        "usage": {"zh": "用法：", "en": "usage: "},
        "positionals": {"zh": "位置参数", "en": "positional arguments"},
        "optionals": {"zh": "选项", "en": "options"},
        "help": {"zh": "显示本帮助并退出", "en": "show this help message and exit"},
        "example": {"zh": "示例：", "en": "Example:"},
        "error": {"zh": "{prog}：错误：{message}", "en": "{prog}: error: {message}"},
        "required": {"zh": "缺少必需的参数：{names}", "en": "the following arguments are required: {names}"},
        "choice": {"zh": "无效的取值：{value}（可选：{choices}）",
                   "en": "invalid choice: {value} (choose from {choices})"},
        "unrecognized": {"zh": "无法识别的参数：{names}", "en": "unrecognized arguments: {names}"},
        "one_value": {"zh": "需要一个值", "en": "expected one argument"},
        "bad_value": {"zh": "无效的{kind}值：{value}", "en": "invalid {kind} value: {value}"},
        "argument": {"zh": "参数 {name}：{message}", "en": "argument {name}: {message}"},
    },
)

# argparse builds its error messages in English; these patterns give them back in the chosen language.
_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"the following arguments are required: (?P<names>.+)"), "required"),
    (re.compile(r"invalid choice: (?P<value>.+) \(choose from (?P<choices>.+)\)"), "choice"),
    (re.compile(r"unrecognized arguments: (?P<names>.+)"), "unrecognized"),
    (re.compile(r"expected one argument"), "one_value"),
    (re.compile(r"invalid (?P<kind>\S+) value: (?P<value>.+)"), "bad_value"),
)


def translate_error(message: str) -> str:
    """One argparse error in the current language (unknown ones pass through unchanged).

    >>> from tagger.i18n import set_language
    >>> set_language("zh"); translate_error("argument --lang: invalid choice: 'fr' (choose from 'zh', 'en')")
    "参数 --lang：无效的取值：'fr'（可选：'zh', 'en'）"
    >>> set_language("en"); translate_error("unrecognized arguments: --nope")
    'unrecognized arguments: --nope'
    """
    argument = re.fullmatch(r"argument (?P<name>[^:]+): (?P<message>.+)", message, re.S)
    if argument:
        return PARSER("argument", name=argument["name"], message=translate_error(argument["message"]))
    for pattern, key in _ERRORS:
        found = pattern.fullmatch(message)
        if found:
            return PARSER(key, **found.groupdict()) if found.groupdict() else PARSER(key)
    return message


_TOKENS = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]|[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+|\s+")
_NO_LINE_START = set("，。；：、！？）》」』")
_NO_LINE_END = set("（《「『")


def cells(text: str) -> int:
    """Terminal columns ``text`` takes: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrap_cells(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` terminal columns, breaking between words or Chinese characters.

    argparse wraps by character count, so Chinese help would run twice as wide as the terminal.

    >>> wrap_cells("读取月度用户导出（xlsx），给每个用户打标签", 20)
    ['读取月度用户导出', '（xlsx），给每个用户', '打标签']
    """
    lines: list[str] = []
    line = ""
    for token in _TOKENS.findall(text):
        if token.isspace():
            line += " " if line else ""
            continue
        if line and cells(line.rstrip() + token) > width and token[0] not in _NO_LINE_START:
            carried = line[-1] if line[-1] in _NO_LINE_END and len(line) > 1 else ""
            lines.append(line[: len(line) - len(carried)].rstrip())
            line = carried
        line += token
    if line.strip():
        lines.append(line.rstrip())
    return lines


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """The usage line in the chosen language, and text wrapped by terminal columns, not characters.

    Descriptions and examples keep their line breaks; only unindented lines wider
    than the terminal are wrapped (indented ones are example commands to copy).
    """

    def add_usage(self, usage: str | None, actions: Iterable[argparse.Action],
                  groups: Iterable[argparse._MutuallyExclusiveGroup], prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, PARSER("usage") if prefix is None else prefix)

    def _format_usage(self, usage: str | None, actions: Iterable[argparse.Action],
                      groups: Iterable[argparse._MutuallyExclusiveGroup], prefix: str | None) -> str:
        extra = cells(prefix or "") - len(prefix or "")  # "用法：" is 3 characters but 6 columns
        self._width -= extra
        try:
            return super()._format_usage(usage, actions, groups, prefix)
        finally:
            self._width += extra

    def _split_lines(self, text: str, width: int) -> list[str]:
        return wrap_cells(" ".join(text.split()), width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        out: list[str] = []
        for line in text.splitlines():  # indented lines are commands to copy: never broken
            keep = cells(line) <= width or line[:1].isspace()
            out.extend([indent + line] if keep else [indent + part for part in wrap_cells(line, width)])
        return "\n".join(out)


class TaggerParser(argparse.ArgumentParser):
    """An argument parser whose help and usage errors speak the language chosen before it was built.

    argparse prints help while it parses, so the CLI sets the language (from
    ``--lang`` or the config) before building the parsers; subcommand parsers are
    made by the same class, so every ``--help`` follows it.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        add_help = kwargs.pop("add_help", True)
        kwargs["add_help"] = False  # our own -h, its help text translated, is added below
        super().__init__(*args, **kwargs)
        self._positionals.title = PARSER("positionals")
        self._optionals.title = PARSER("optionals")
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help=PARSER("help"))

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, PARSER("error", prog=self.prog, message=translate_error(message)) + "\n")


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    """The export to read and how to read it, for every command that reads one."""
    parser.add_argument("export", type=Path, help=OPTIONS("export"))
    parser.add_argument("--month", help=OPTIONS("month"))
    parser.add_argument("--sheet", help=OPTIONS("sheet"))
    parser.add_argument("--date-order", choices=DATE_ORDERS, help=OPTIONS("date_order"))


def add_lang(parser: argparse.ArgumentParser, help_text: str | None = None) -> None:
    """``--lang``; the CLI reads it from the command line before parsing (see :func:`tagger.cli.help_language`)."""
    parser.add_argument("--lang", choices=LANGUAGES, help=help_text or OPTIONS("lang"))


def add_common(parser: argparse.ArgumentParser) -> None:
    """Flags every command takes."""
    parser.add_argument("--config", type=Path, help=OPTIONS("config"))
    parser.add_argument("--preset", help=OPTIONS("preset"))
    add_lang(parser)
    parser.add_argument("--verbose", "-v", action="store_true", help=OPTIONS("verbose"))
    parser.add_argument("--quiet", "-q", action="store_true", help=OPTIONS("quiet"))


def command_parser(subparsers: argparse._SubParsersAction, name: str, texts: Catalog,
                   example: str) -> argparse.ArgumentParser:
    """A subcommand parser, its summary and description from ``texts``, whose help ends with a runnable example."""
    return subparsers.add_parser(
        name, help=texts("summary"), description=texts("description"),
        epilog=f"{PARSER('example')}\n{example}", formatter_class=HelpFormatter)


class RichProgress:
    """Draws the pipeline's steps as rich progress bars (on stderr, so --json stdout stays clean)."""

    def __init__(self, console: Console, steps: Catalog = STEPS) -> None:
        self.steps = steps
        self.bars = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                             TimeElapsedColumn(), console=console, transient=False)
        self.task: TaskID | None = None

    def __enter__(self) -> RichProgress:
        self.bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._finish()
        self.bars.stop()

    def _finish(self) -> None:
        if self.task is not None:
            total = self.bars.tasks[-1].total or 1
            self.bars.update(self.task, completed=total, total=total)

    def step(self, name: str, total: int | None = None) -> None:
        self._finish()
        label = self.steps(name) if name in self.steps.texts else name
        self.task = self.bars.add_task(label, total=total)

    def advance(self, amount: int = 1) -> None:
        if self.task is not None:
            self.bars.advance(self.task, amount)
