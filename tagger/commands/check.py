"""``tagger check``: say whether an export will go through, without writing anything."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tagger.check import CheckReport, check_export
from tagger.commands.common import (
    RichProgress,
    add_common,
    add_export_arguments,
    command_parser,
)
from tagger.i18n import Catalog
from tagger.pipeline import TagOptions
from tagger.report import dump_json
from tagger.segments import label as segment_label
from tagger.vocabulary import word

NAME = "check"
HELP = Catalog(
    "help_check",
    {
        "summary": {"zh": "检查一个导出能否打标签，不写任何文件", "en": "validate an export without writing anything"},
        "description": {
            "zh": "像 `tagger tag` 那样读取导出，报告对应上的列（字段、表头、列号）、行数、日期范围、报告月份、"
                  "发现的问题（含行号）以及运行后会得到什么。不写任何文件：没有工作簿，也不写历史库。"
                  "导出无法打标签时退出码为 2。",
            "en": "Read an export the way `tagger tag` would and report the columns matched (field, header, column "
                  "letter), rows, date ranges, the report month, the problems found (with rows) and what the run "
                  "would produce. Writes nothing: no workbook, no history. Exit code 2 when the export cannot be "
                  "tagged.",
        },
        "history": {"zh": "用来查上个月的历史库（只读）",
                    "en": "history database to look up last month in (read only)"},
        "output": {"zh": "运行时会写出的工作簿", "en": "the workbook the run would write"},
        "json": {"zh": "把报告打印为一个 JSON 对象", "en": "print the report as one JSON object"},
    },
)
EXAMPLE = ("  tagger check samples/car_app_2024-07.xlsx\n"
           "  tagger check 用户明细_2024-07.xlsx --sheet 明细 --json")

TEXT = Catalog(
    "cmd_check",
    {
        "title": {"zh": "检查 {file}", "en": "Checking {file}"},
        "where": {"zh": "工作表 '{sheet}'，表头在第 {row} 行，{rows} 行数据",
                  "en": "sheet '{sheet}', header on row {row}, {rows} data rows"},
        "where_text": {"zh": "表头在第 {row} 行，{rows} 行数据", "en": "header on row {row}, {rows} data rows"},
        "columns": word("columns"),
        "field": word("field"),
        "header": word("header"),
        "letter": {"zh": "列", "en": "Column"},
        "samples": word("samples"),
        "required": {"zh": "（必需）", "en": " (required)"},
        "missing": {"zh": "未找到", "en": "not found"},
        "others": {"zh": "原样保留的其他列：{names}", "en": "Other columns, carried through: {names}"},
        "dates": {"zh": "日期范围", "en": "Date ranges"},
        "from": {"zh": "最早", "en": "Earliest"},
        "to": {"zh": "最晚", "en": "Latest"},
        "blank": {"zh": "空白", "en": "Blank"},
        "month": {"zh": "报告月份：{month}（依据{source}）", "en": "Report month: {month} (from {source})"},
        "prev": {"zh": "上月状态来源：{source}", "en": "Last month's state: {source}"},
        "would": {"zh": "运行 tagger tag 将得到", "en": "What tagger tag would produce"},
        "segment": word("segment"),
        "users": word("users"),
        "mau": {"zh": "月活 {mau:,}，月活率 {rate}", "en": "MAU {mau:,}, active rate {rate}"},
        "output": {"zh": "将写入：{path}", "en": "Would write: {path}"},
        "history": {"zh": "并记录到历史库：{path}", "en": "and record the month in history: {path}"},
        "warning": word("warning"),
        "error": word("error"),
        "ok": {"zh": "检查通过，未写入任何文件", "en": "Check passed; nothing was written"},
    },
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = command_parser(subparsers, NAME, HELP, EXAMPLE)
    add_export_arguments(parser)
    parser.add_argument("--history", type=Path, help=HELP("history"))
    parser.add_argument("-o", "--output", type=Path, help=HELP("output"))
    parser.add_argument("--json", action="store_true", help=HELP("json"))
    add_common(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, out: Console, err: Console) -> int:
    options = TagOptions(export=args.export, month=args.month, config=args.config, preset=args.preset,
                         history=args.history, output=args.output, lang=args.lang, sheet=args.sheet, write=False,
                         date_order=args.date_order)
    if args.quiet or args.json:
        report = check_export(options)
    else:
        with RichProgress(err) as progress:
            report = check_export(options, progress)
    if args.json:
        out.file.write(dump_json(report.to_json()) + "\n")
    elif args.quiet:
        _print_verdict(report, out, err)
    else:
        print_report(report, out)
        _print_verdict(report, out, err)
    return report.exit_code


def _print_verdict(report: CheckReport, out: Console, err: Console) -> None:
    if report.ok:
        out.print(f"[bold green]{TEXT('ok')}[/]")
    else:
        err.print(f"[bold red]{TEXT('error')}:[/] {escape(report.error or '')}", soft_wrap=True)


def print_report(report: CheckReport, out: Console) -> None:
    """Everything found, in the order a person fixes things: columns, dates, month, problems, result."""
    out.print(f"[bold]{escape(TEXT('title', file=report.export))}[/]")
    if report.header_row is not None:
        where = (TEXT("where", sheet=report.sheet, row=report.header_row, rows=f"{report.rows:,}") if report.sheet
                 else TEXT("where_text", row=report.header_row, rows=f"{report.rows:,}"))
        out.print(escape(where))
    if report.columns:
        out.print(_columns_table(report))
    if report.other_columns:
        out.print(escape(TEXT("others", names="、".join(report.other_columns))))
    if report.dates:
        out.print(_dates_table(report))
    if report.month:
        out.print(escape(TEXT("month", month=report.month, source=report.month_source)))
        out.print(escape(TEXT("prev", source=report.prev_state)))
    for warning in report.warnings:
        out.print(f"[yellow]{TEXT('warning')}:[/] {escape(warning)}", soft_wrap=True)
    if report.ok:
        _print_outcome(report, out)


def _columns_table(report: CheckReport) -> Table:
    table = Table(title=TEXT("columns"), title_justify="left")
    for key in ("field", "header", "letter", "samples"):
        table.add_column(TEXT(key))
    for column in report.columns:
        name = column.label + (TEXT("required") if column.required else "")
        header = escape(column.header) if column.header else f"[red]{TEXT('missing')}[/]"
        table.add_row(escape(name), header, column.letter or "", escape(", ".join(column.samples)))
    return table


def _dates_table(report: CheckReport) -> Table:
    table = Table(title=TEXT("dates"), title_justify="left")
    for key in ("field", "from", "to", "blank"):
        table.add_column(TEXT(key))
    for item in report.dates:
        table.add_row(escape(item.label), item.first or "", item.last or "", f"{item.blank:,}")
    return table


def _print_outcome(report: CheckReport, out: Console) -> None:
    table = Table(title=TEXT("would"), title_justify="left")
    table.add_column(TEXT("segment"))
    table.add_column(TEXT("users"), justify="right")
    for key, count in report.segments.items():
        table.add_row(segment_label(key), f"{count:,}")
    out.print(table)
    rate = "—" if report.active_rate is None else f"{report.active_rate:.2%}"
    out.print(escape(TEXT("mau", mau=report.mau or 0, rate=rate)))
    out.print(escape(TEXT("output", path=report.output)), soft_wrap=True)
    if report.history:
        out.print(escape(TEXT("history", path=report.history)), soft_wrap=True)
