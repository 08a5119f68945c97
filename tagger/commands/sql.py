"""``tagger sql``: print the tagging rules as one SQL SELECT for a warehouse engine."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from tagger.commands.common import OPTIONS, add_lang, command_parser
from tagger.config import find_config, load_config
from tagger.errors import InputError
from tagger.i18n import Catalog
from tagger.pipeline import TEXT as PIPELINE_TEXT
from tagger.sql import DIALECTS, WHAT, build_sql
from tagger.values import month_key, parse_month

NAME = "sql"
HELP = Catalog(
    "help_sql",
    {
        "summary": {"zh": "把分群、偏好或当月指标打印为一条 SQL SELECT",
                    "en": "print the segments, preferences or the month's metrics as one SQL SELECT"},
        "description": {
            "zh": "在标准输出只打印一条 SQL SELECT（别无其他），它从每个用户一行的快照表算出与 `tagger tag` "
                  "相同的分群和偏好标签（--what users），或当月的各分群人数、月活和 4 个比率（--what metrics）。"
                  "与 tag 使用同一份配置。",
            "en": "Print ONE SQL SELECT (and nothing else) on stdout that computes, from a snapshot table with one "
                  "row per user, the same segments and preference tags as `tagger tag` (--what users) or the "
                  "month's segment counts, MAU and four rates (--what metrics). Built from the same config.",
        },
        "dialect": {"zh": "要生成 SQL 的引擎", "en": "the SQL engine to write for"},
        "month": {"zh": "报告月份 YYYY-MM", "en": "report month YYYY-MM"},
        "table": {"zh": "快照表（默认：[sql] table，否则 users）",
                  "en": "the snapshot table (default: [sql] table, else users)"},
        "what": {"zh": "每个用户一行，或当月指标", "en": "one row per user, or the month's metrics"},
        "lang": {"zh": "标签文字、提示和帮助的语言", "en": "language of the tag texts, messages and help"},
        "quiet": {"zh": "不输出开头的注释行", "en": "leave out the leading comment line"},
    },
)
EXAMPLE = ("  tagger sql --dialect duckdb --month 2024-07 > users_2024-07.sql\n"
           "  tagger sql --dialect spark --month 2024-07 --table dw.user_snapshot --what metrics")

TEXT = Catalog(
    "cmd_sql",
    {
        "bad_month": PIPELINE_TEXT.shared("bad_month"),  # the same check as tag's --month
        "header": {"zh": "tagger {what}：{month}，方言 {dialect}，配置 {config}",
                   "en": "tagger {what}: {month}, dialect {dialect}, config {config}"},
    },
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = command_parser(subparsers, NAME, HELP, EXAMPLE)
    parser.add_argument("--dialect", required=True, choices=DIALECTS, help=HELP("dialect"))
    parser.add_argument("--month", required=True, help=HELP("month"))
    parser.add_argument("--table", help=HELP("table"))
    parser.add_argument("--what", choices=WHAT, default="users", help=HELP("what"))
    parser.add_argument("--config", type=Path, help=OPTIONS("config"))
    parser.add_argument("--preset", help=OPTIONS("preset"))
    add_lang(parser, HELP("lang"))
    parser.add_argument("--verbose", "-v", action="store_true", help=OPTIONS("verbose"))
    parser.add_argument("--quiet", "-q", action="store_true", help=HELP("quiet"))
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
