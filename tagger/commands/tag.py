"""``tagger tag``: tag one monthly export and write the workbook."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from tagger.commands.common import (
    OPTIONS,
    RichProgress,
    add_common,
    add_export_arguments,
    command_parser,
)
from tagger.errors import TaggerError
from tagger.i18n import Catalog
from tagger.pipeline import TagOptions, TagResult, run
from tagger.privacy import mask_text
from tagger.report import dump_json, print_summary, result_json

NAME = "tag"
HELP = Catalog(
    "help_tag",
    {
        "summary": {"zh": "给一个月度导出打标签并写出工作簿", "en": "tag one monthly export and write the workbook"},
        "description": {
            "zh": "读取月度用户导出（xlsx/xls/ods/csv），给每个用户打上生命周期分群和偏好标签，把这个月记录到"
                  "历史库，并写出一个新的工作簿。",
            "en": "Read a monthly user export (xlsx/xls/ods/csv), tag every user with a lifecycle segment and "
                  "preferences, record the month in the history database and write a new workbook.",
        },
        "history": {"zh": "历史库（默认：配置旁边的 tagger-history.sqlite）",
                    "en": "history database (default: tagger-history.sqlite next to the config)"},
        "no_history": OPTIONS.shared("no_history"),
        "replace": OPTIONS.shared("replace"),
        "output": {"zh": "要写出的工作簿（默认：<导出文件>_tagged.xlsx）",
                   "en": "workbook to write (default: <export>_tagged.xlsx)"},
        "json": {"zh": "在标准输出打印一个 JSON 对象，代替表格",
                 "en": "print one JSON object on stdout instead of tables"},
        "table": {"zh": "从 .duckdb 数据库读取的快照表（默认：users）",
                  "en": "the snapshot table to read from a .duckdb database (default: users)"},
        "mask_pii": {"zh": "在所有输出中遮盖手机号（138****8000）和身份证号（110101********1234）",
                     "en": "mask phone (138****8000) and ID-card numbers (110101********1234) in every output"},
    },
)
EXAMPLE = ("  tagger tag samples/car_app_2024-07.xlsx\n"
           "  tagger tag 用户明细_2024-07.xlsx --month 2024-07 -o 七月标签.xlsx --json")


def add_tag_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of a tagging run; ``refresh`` takes them too."""
    add_export_arguments(parser)
    parser.add_argument("--history", type=Path, help=HELP("history"))
    parser.add_argument("--no-history", action="store_true", help=HELP("no_history"))
    parser.add_argument("--replace", action="store_true", help=HELP("replace"))
    parser.add_argument("-o", "--output", type=Path, help=HELP("output"))
    parser.add_argument("--json", action="store_true", help=HELP("json"))
    parser.add_argument("--table", help=HELP("table"))
    parser.add_argument("--mask-pii", action="store_true", help=HELP("mask_pii"))
    add_common(parser)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = command_parser(subparsers, NAME, HELP, EXAMPLE)
    add_tag_arguments(parser)
    parser.set_defaults(handler=handle)


def options_from(args: argparse.Namespace) -> TagOptions:
    return TagOptions(
        export=args.export, month=args.month, config=args.config, preset=args.preset,
        history=args.history, use_history=not args.no_history, replace=args.replace,
        output=args.output, lang=args.lang, sheet=args.sheet, mask_pii=args.mask_pii,
        table=getattr(args, "table", None), date_order=args.date_order,
    )


def show(result: TagResult, args: argparse.Namespace, out: Console, err: Console) -> None:
    """Print a run's outcome the way the flags ask: JSON, one line, or the summary tables."""
    if args.json:
        out.file.write(dump_json(result_json(result)) + "\n")
        for line in result.warnings:
            err.print(f"[yellow]![/] {escape(line)}")
    elif args.quiet:
        out.print(str(result.output), markup=False, highlight=False, soft_wrap=True)
    else:
        print_summary(result, out)


def handle(args: argparse.Namespace, out: Console, err: Console) -> int:
    options = options_from(args)
    try:
        if args.quiet or args.json:
            result = run(options)
        else:
            with RichProgress(err) as progress:
                result = run(options, progress)
    except TaggerError as exc:
        if options.mask_pii:  # error lines quote cell values: mask them too
            exc.args = (mask_text(str(exc)),)
        raise
    show(result, args, out, err)
    return 0
