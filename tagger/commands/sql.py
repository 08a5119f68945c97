"""``tagger sql``: print the tagging rules as one SQL SELECT for a warehouse engine."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from tagger.commands.common import command_parser
from tagger.config import find_config, load_config
from tagger.errors import InputError
from tagger.i18n import Catalog
from tagger.sql import DIALECTS, WHAT, build_sql
from tagger.values import month_key, parse_month

NAME = "sql"
HELP = "print the segments, preferences or the month's metrics as one SQL SELECT"
EXAMPLE = ("  tagger sql --dialect duckdb --month 2024-07 > users_2024-07.sql\n"
           "  tagger sql --dialect spark --month 2024-07 --table dw.user_snapshot --what metrics")

TEXT = Catalog(
    "cmd_sql",
    {
        "bad_month": {"zh": "--month 的值 '{value}' 不是月份，请写成 2024-07",
                      "en": "--month '{value}' is not a month; write it as 2024-07"},
        "header": {"zh": "tagger {what}：{month}，方言 {dialect}，配置 {config}",
                   "en": "tagger {what}: {month}, dialect {dialect}, config {config}"},
    },
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = command_parser(
        subparsers, NAME, HELP,
        "Print ONE SQL SELECT (and nothing else) on stdout that computes, from a snapshot table with one "
        "row per user, the same segments and preference tags as `tagger tag` (--what users) or the month's "
        "segment counts, MAU and four rates (--what metrics). Built from the same config.",
        EXAMPLE)
    parser.add_argument("--dialect", required=True, choices=DIALECTS, help="the SQL engine to write for")
    parser.add_argument("--month", required=True, help="report month YYYY-MM")
    parser.add_argument("--table", help="the snapshot table (default: [sql] table, else users)")
    parser.add_argument("--what", choices=WHAT, default="users", help="one row per user, or the month's metrics")
    parser.add_argument("--config", type=Path, help="project config (default: ./tagger.toml if present)")
    parser.add_argument("--preset", help="preset to start from: car_app, ecommerce, social")
    parser.add_argument("--lang", choices=("zh", "en"), help="language of the tag texts and messages")
    parser.add_argument("--verbose", "-v", action="store_true", help="show tracebacks for errors")
    parser.add_argument("--quiet", "-q", action="store_true", help="leave out the leading comment line")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, out: Console, err: Console) -> int:
    try:
        month = parse_month(args.month)
    except ValueError:
        raise InputError(TEXT("bad_month", value=args.month)) from None
    source = args.config or find_config()
    config = load_config(source, args.preset)
    for line in config.warnings:  # on stderr: stdout is the SQL itself
        err.print(f"[yellow]![/] {escape(line)}", soft_wrap=True)
    sql = build_sql(config, month, args.dialect, what=args.what, table=args.table, lang=args.lang)
    if not args.quiet:
        header = TEXT("header", what=args.what, month=month_key(month), dialect=args.dialect,
                      config=source.name if source else f"preset {config.preset}")
        out.file.write("-- " + " ".join(header.split()) + "\n")  # one comment line, whatever the file name
    out.file.write(sql + ";\n")
    return 0
