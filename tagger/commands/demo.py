"""``tagger demo``: tag the bundled sample months and say where the workbook is."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tagger.commands.common import OPTIONS, RichProgress, add_lang, command_parser, open_hint
from tagger.demo import DEFAULT_FOLDER, DemoResult, run_demo
from tagger.i18n import Catalog, language
from tagger.report import summary_tables
from tagger.vocabulary import word

NAME = "demo"
HELP = Catalog(
    "help_demo",
    {
        "summary": {"zh": "把自带的示例月份（2024-05..07）打标签到一个示例文件夹",
                    "en": "tag the bundled sample months (2024-05..07) into a demo folder"},
        "description": {
            "zh": "把自带的三个示例导出（car_app_2024-05/06/07.xlsx）复制到 DIR（默认：./tagger-demo），"
                  "按顺序打标签到那里的同一个历史库，并打印最终工作簿的位置。再次运行会刷新同一个文件夹"
                  "（旧工作簿移到 backups/）。",
            "en": "Copy the three bundled sample exports (car_app_2024-05/06/07.xlsx) into DIR (default: "
                  "./tagger-demo), tag them in sequence into one history database there, and print where the "
                  "final workbook is. Running it again refreshes the same folder (old workbooks go to backups/).",
        },
        "dir": {"zh": "示例文件夹（默认：./{folder}）", "en": "demo folder (default: ./{folder})"},
        "quiet": {"zh": "只打印最终工作簿的路径", "en": "print only the final workbook path"},
    },
)
EXAMPLE = ("  tagger demo\n"
           "  tagger demo ~/tagger-demo --lang en")

TEXT = Catalog(
    "cmd_demo",
    {
        "month": {"zh": "示例 {month}", "en": "Sample {month}"},
        "title": {"zh": "示例月份", "en": "Sample months"},
        "col_month": word("month"),
        "col_rows": {"zh": "行数", "en": "Rows"},
        "col_rate": word("active_rate"),
        "col_output": {"zh": "工作簿", "en": "Workbook"},
        "folder": {"zh": "示例项目目录：{folder}（含 tagger.toml 与历史库 {history}）",
                   "en": "Demo project folder: {folder} (with tagger.toml and the history {history})"},
        "final": word("written"),
        "next": {
            "zh": "轮到你自己的导出了：在存放导出的文件夹中运行 tagger（向导逐步提问），"
                  "或直接运行 tagger tag 文件.xlsx",
            "en": "Now your own export: run tagger in the folder that holds it (the wizard asks step by step), "
                  "or run tagger tag FILE.xlsx",
        },
    },
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = command_parser(subparsers, NAME, HELP, EXAMPLE)
    parser.add_argument("dir", nargs="?", type=Path, default=DEFAULT_FOLDER,
                        help=HELP("dir", folder=DEFAULT_FOLDER))
    add_lang(parser)
    parser.add_argument("--verbose", "-v", action="store_true", help=OPTIONS("verbose"))
    parser.add_argument("--quiet", "-q", action="store_true", help=HELP("quiet"))
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, out: Console, err: Console) -> int:
    @contextmanager
    def bars(month: str) -> Iterator[RichProgress | None]:
        if args.quiet:
            yield None
            return
        err.print(f"[bold]{TEXT('month', month=month)}[/]")
        with RichProgress(err) as progress:
            yield progress

    demo = run_demo(args.dir, lang=args.lang, progress=bars)
    if args.quiet:
        out.print(str(demo.final.resolve() if demo.final else ""), markup=False, soft_wrap=True)
        return 0
    with language(demo.results[-1].lang):  # the demo folder's language, as its runs spoke it
        _show(demo, out)
    return 0


def _show(demo: DemoResult, out: Console) -> None:
    """The last month's summary, the months table and where everything went."""
    for table in summary_tables(demo.results[-1]):
        out.print(table)
    out.print(_months_table(demo))
    out.print(escape(TEXT("folder", folder=demo.folder, history=demo.history.name)))
    out.print(escape(open_hint(demo.final)), soft_wrap=True)
    out.print(escape(TEXT("next")), soft_wrap=True)
    final = demo.final.resolve() if demo.final else None
    out.print(f"[bold green]{escape(TEXT('final', path=final))}[/]", soft_wrap=True)


def _months_table(demo: DemoResult) -> Table:
    table = Table(title=TEXT("title"), title_justify="left")
    for key in ("col_month", "col_rows", "col_rate", "col_output"):
        table.add_column(TEXT(key), justify="right" if key in ("col_rows", "col_rate") else "left")
    for result in demo.results:
        rate = result.metrics.active_rate
        table.add_row(result.month, f"{result.metrics.rows:,}", "—" if rate is None else f"{rate:.2%}",
                      escape(str(result.output)))
    return table
