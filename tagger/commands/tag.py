"""``tagger tag``: tag one monthly export and write the workbook."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from tagger.commands.common import (
    RichProgress,
    add_common,
    add_export_arguments,
    command_parser,
)
from tagger.errors import TaggerError
from tagger.pipeline import TagOptions, TagResult, run
from tagger.privacy import mask_text
from tagger.report import dump_json, print_summary, result_json

NAME = "tag"
HELP = "tag one monthly export and write the workbook"
EXAMPLE = ("  tagger tag samples/car_app_2024-07.xlsx\n"
           "  tagger tag 用户明细_2024-07.xlsx --month 2024-07 -o 七月标签.xlsx --json")


def add_tag_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of a tagging run; ``refresh`` takes them too."""
    add_export_arguments(parser)
    parser.add_argument("--history", type=Path,
                        help="history database (default: tagger-history.sqlite next to the config)")
    parser.add_argument("--no-history", action="store_true", help="do not read or write the history database")
    parser.add_argument("--replace", action="store_true", help="replace a month already imported from another file")
    parser.add_argument("-o", "--output", type=Path, help="workbook to write (default: <export>_tagged.xlsx)")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout instead of tables")
    parser.add_argument("--table", help="the snapshot table to read from a .duckdb database (default: users)")
    parser.add_argument("--mask-pii", action="store_true",
                        help="mask phone (138****8000) and ID-card numbers (110101********1234) in every output")
    add_common(parser)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = command_parser(
        subparsers, NAME, HELP,
        "Read a monthly user export (xlsx/xls/ods/csv), tag every user with a lifecycle segment and "
        "preferences, record the month in the history database and write a new workbook.",
        EXAMPLE)
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
