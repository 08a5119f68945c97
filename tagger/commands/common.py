"""Pieces every subcommand shares: common flags and rich progress bars."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from tagger.i18n import Catalog
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


HINTS = Catalog(
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
    return HINTS("open", command=command)


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    """The export to read and how to read it, for every command that reads one."""
    parser.add_argument("export", type=Path, help="the export file (xlsx, xlsm, xls, ods, csv, tsv, txt)")
    parser.add_argument("--month", help="report month YYYY-MM (default: from the file name or the latest activity)")
    parser.add_argument("--sheet", help="sheet to read (default: the visible sheet with the required headers)")
    parser.add_argument("--date-order", choices=DATE_ORDERS,
                        help="how dates like 09/13/2024 read: mdy (month/day/year), dmy or ymd "
                             "(default: [columns] date_order, else such dates are refused)")


def add_common(parser: argparse.ArgumentParser) -> None:
    """Flags every command takes."""
    parser.add_argument("--config", type=Path, help="project config (default: ./tagger.toml if present)")
    parser.add_argument("--preset", help="preset to start from: car_app, ecommerce, social")
    parser.add_argument("--lang", choices=("zh", "en"), help="language of sheets, labels and messages")
    parser.add_argument("--verbose", "-v", action="store_true", help="show tracebacks for errors")
    parser.add_argument("--quiet", "-q", action="store_true", help="print only errors and the final line")


def command_parser(subparsers: argparse._SubParsersAction, name: str, help_text: str, description: str,
                   example: str) -> argparse.ArgumentParser:
    """A subcommand parser whose help ends with a runnable example."""
    return subparsers.add_parser(
        name, help=help_text, description=description, epilog=f"例 / example:\n{example}",
        formatter_class=argparse.RawDescriptionHelpFormatter)


class RichProgress:
    """Draws the pipeline's steps as rich progress bars (on stderr, so --json stdout stays clean)."""

    def __init__(self, console: Console, steps: Catalog = STEPS) -> None:
        self.steps = steps
        self.bars = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                             TimeElapsedColumn(), console=console, transient=False)
        self.task: int | None = None

    def __enter__(self) -> "RichProgress":
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
