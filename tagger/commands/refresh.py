"""``tagger refresh``: re-tag a newer export and carry forward every edit of the last workbook.

``--auto DIR`` is the cron form: the newest export and the newest tagged workbook
in DIR, a log file, a lock so two runs never overlap, and a non-zero exit code
on any failure.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from tagger.commands.common import RichProgress, command_parser
from tagger.commands.tag import add_tag_arguments, options_from, show
from tagger.errors import InputError, TaggerError
from tagger.i18n import Catalog
from tagger.pipeline import default_output
from tagger.refresh import LOCK_NAME, RefreshOptions, RefreshOutcome, auto_inputs, refresh, run_lock
from tagger.vocabulary import word

NAME = "refresh"
HELP = Catalog(
    "help_refresh",
    {
        "summary": {"zh": "给更新的导出重新打标签，保留上一个工作簿里的所有修改",
                    "en": "re-tag a newer export, keeping every edit made in the last workbook"},
        "description": {
            "zh": "给更新的导出（月中或下个月）打标签，写出一个新工作簿，并保留大家在上一个工作簿里填写的内容："
                  "人工标签、备注、每一行触达跟踪。上一个工作簿只读取，并先复制到 backups/。"
                  "这些修改也保存在历史库中。",
            "en": "Tag a newer export (mid-month or next month) and write a new workbook that keeps what people "
                  "typed into the last one: 人工标签 overrides, 备注, every 触达跟踪 row. The last workbook is only "
                  "read; it is copied to backups/ first. Edits are also kept in the history database.",
        },
        "workbook": {"zh": "上一个工作簿，其中的修改会带到新工作簿",
                     "en": "the last workbook, whose edits are carried forward"},
        "force": {"zh": "使用比历史库记录的最新工作簿更旧的工作簿（之后保存的标签仍然保留）",
                  "en": "use a last workbook older than the newest one written for the history (labels stored "
                        "since are kept)"},
        "auto": {"zh": "定时任务模式：DIR 中最新的导出和最新的 *_tagged.xlsx，带锁和日志",
                 "en": "cron mode: newest export and newest *_tagged.xlsx in DIR, with a lock and a log"},
        "log": {"zh": "--auto 的日志文件（默认：DIR/{name}）", "en": "log file for --auto (default: DIR/{name})"},
    },
)
EXAMPLE = ("  tagger refresh 用户明细_2024-07-15.xlsx --workbook 七月标签.xlsx -o 七月标签.xlsx\n"
           "  tagger refresh --auto /data/exports --log /data/exports/refresh.log   # for cron")
LOG_NAME = "tagger-refresh.log"

TEXT = Catalog(
    "refresh_cli",
    {
        "need_export": {"zh": "请给出导出文件 EXPORT，或用 --auto DIR", "en": "give an EXPORT file or --auto DIR"},
        "backup": {"zh": "上次的工作簿已备份：{path}", "en": "last workbook backed up: {path}"},
        "kept": {"zh": "新文件另存为：{path}", "en": "new file kept as: {path}"},
        "picked": {"zh": "自动选择：导出 {export}，上次工作簿 {workbook}",
                   "en": "picked export {export}, last workbook {workbook}"},
        "none": word("none"),
    },
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = command_parser(subparsers, NAME, HELP, EXAMPLE)
    add_tag_arguments(parser)
    # EXPORT is optional here because --auto finds it.
    export = next(a for a in parser._actions if a.dest == "export")
    export.nargs, export.default = "?", None
    parser.add_argument("--workbook", "-w", type=Path, help=HELP("workbook"))
    parser.add_argument("--force", action="store_true", help=HELP("force"))
    parser.add_argument("--auto", type=Path, metavar="DIR", help=HELP("auto"))
    parser.add_argument("--log", type=Path, help=HELP("log", name=LOG_NAME))
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, out: Console, err: Console) -> int:
    if args.auto is not None:
        return _auto(args, out, err)
    if args.export is None:
        raise InputError(TEXT("need_export"))
    # The same lock as --auto, in the folder written to: a manual run and the cron job never overlap.
    with run_lock((args.output or default_output(args.export)).parent / LOCK_NAME):
        outcome = _run(args, err)
    _report(outcome, args, out, err)
    return 0


def _run(args: argparse.Namespace, err: Console) -> RefreshOutcome:
    options = RefreshOptions(options_from(args), workbook=args.workbook, force=args.force)
    if args.quiet or args.json:
        return refresh(options)
    with RichProgress(err) as progress:
        return refresh(options, progress)


def _report(outcome: RefreshOutcome, args: argparse.Namespace, out: Console, err: Console) -> None:
    show(outcome.result, args, out, err)
    target = err if (args.json or args.quiet) else out
    if outcome.backup is not None:
        target.print(escape(TEXT("backup", path=outcome.backup)))
    if outcome.kept_as is not None:
        err.print(f"[yellow]{escape(TEXT('kept', path=outcome.kept_as))}[/]")


def _log(path: Path, message: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"{datetime.now().isoformat(timespec='seconds')} {message}\n")


def _auto(args: argparse.Namespace, out: Console, err: Console) -> int:
    folder: Path = args.auto
    log = args.log or folder / LOG_NAME
    try:
        with run_lock(folder / LOCK_NAME):
            export, workbook = auto_inputs(folder)
            args.export, args.workbook = export, args.workbook or workbook
            _log(log, TEXT("picked", export=export.name, workbook=args.workbook.name if args.workbook else
                           TEXT("none")))
            outcome = _run(args, err)
            for line in outcome.result.warnings:
                _log(log, f"WARNING {line}")
            _log(log, f"OK {outcome.result.output}")
    except TaggerError as exc:
        _log(log, f"ERROR {exc}")
        raise
    except Exception as exc:
        _log(log, f"ERROR {type(exc).__name__}: {exc}")
        raise
    _report(outcome, args, out, err)
    return 0
