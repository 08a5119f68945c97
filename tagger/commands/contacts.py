"""``tagger contacts``: one contact list per channel from the rules, recorded as campaigns."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console, JustifyMethod
from rich.markup import escape
from rich.table import Table

from tagger.commands.common import (
    OPTIONS,
    RichProgress,
    add_common,
    add_export_arguments,
    command_parser,
)
from tagger.contacts import ContactOptions, ContactsResult, make_contacts
from tagger.i18n import Catalog
from tagger.pipeline import TagOptions
from tagger.vocabulary import word

NAME = "contacts"
HELP = Catalog(
    "help_contacts",
    {
        "summary": {"zh": "按规则为每个渠道写出一份触达名单，并记录批次",
                    "en": "write one contact list per channel from the rules and record the campaigns"},
        "description": {
            "zh": "给导出打标签，用配置中的 [[rules]] 挑出用户，为每个渠道写出一份名单（xlsx 和 UTF-8 csv，"
                  "防公式注入）。每个批次（日期、规则、分群、渠道、内容、用户ID）都记录到历史库，"
                  "并作为一行触达跟踪留给下一次 refresh。",
            "en": "Tag an export, pick users with the [[rules]] of the config, and write one list per channel (xlsx "
                  "and UTF-8 csv guarded against formula injection). Each campaign (date, rule, group, channel, "
                  "content, user IDs) is recorded in the history database and as a 触达跟踪 row for the next "
                  "refresh.",
        },
        "history": {"zh": "历史库（默认：tagger-history.sqlite）",
                    "en": "history database (default: tagger-history.sqlite)"},
        "no_history": OPTIONS.shared("no_history"),
        "replace": OPTIONS.shared("replace"),
        "out_dir": {"zh": "名单所在的文件夹（默认：导出文件旁边的 contacts_<日期>）",
                    "en": "folder for the lists (default: contacts_<date> beside EXPORT)"},
        "holdout": {"zh": "每条规则留出这个百分比的用户不触达，作为对照组（如 10）",
                    "en": "keep this %% of each rule's users uncontacted as a control group (e.g. 10)"},
        "seed": {"zh": "对照组抽样的随机种子（可复现）", "en": "seed of the holdout draw (reproducible)"},
        "date": {"zh": "批次日期 YYYY-MM-DD（默认：今天）", "en": "campaign date YYYY-MM-DD (default: today)"},
        "research": {"zh": "另为用户调研从一个分群中按种子抽取 N 个用户",
                     "en": "also draw a seeded sample of N users of one group for user research"},
        "research_group": {"zh": "调研抽样的分群，键或名称（默认：[research] group，即 churned_not_driving）",
                           "en": "group to sample for research, key or label (default: [research] group, "
                                 "churned_not_driving)"},
        "format": {"zh": "xlsx、csv 或两者（默认：xlsx,csv）", "en": "xlsx, csv or both (default: xlsx,csv)"},
        "json": {"zh": "在标准输出打印一个 JSON 对象", "en": "print one JSON object on stdout"},
        "mask_pii": {"zh": "在名单中遮盖手机号和身份证号（用户ID保持完整：它是上传的主键）",
                     "en": "mask phone and ID-card numbers in the lists (IDs stay whole: they are the upload key)"},
    },
)
EXAMPLE = ("  tagger contacts 用户明细_2024-07.xlsx\n"
           "  tagger contacts 用户明细_2024-07.xlsx --holdout 10 --seed 7 --out-dir 触达名单/\n"
           "  tagger contacts 用户明细_2024-07.xlsx --research 30")

TEXT = Catalog(
    "contacts_cli",
    {
        "title": {"zh": "{date} 触达名单", "en": "Contact lists, {date}"},
        "channel": word("channel"),
        "users": word("users"),
        "files": {"zh": "文件", "en": "Files"},
        "campaigns": {"zh": "已记录 {count} 个批次（对照组 {holdout} 人）到历史库",
                      "en": "{count} campaigns recorded in history ({holdout} users held out)"},
        "not_recorded": {"zh": "未记录到历史库（--no-history）", "en": "not recorded (--no-history)"},
        "research": {"zh": "调研抽样 {users} 人：{files}（下次 tagger refresh 的工作簿中有“用户调研”表可填写结果）",
                     "en": "research sample of {users}: {files} (the next tagger refresh workbook has a Research "
                           "sheet to type the answers in)"},
    },
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = command_parser(subparsers, NAME, HELP, EXAMPLE)
    add_export_arguments(parser)
    parser.add_argument("--history", type=Path, help=HELP("history"))
    parser.add_argument("--no-history", action="store_true", help=HELP("no_history"))
    parser.add_argument("--replace", action="store_true", help=HELP("replace"))
    parser.add_argument("--out-dir", type=Path, help=HELP("out_dir"))
    parser.add_argument("--holdout", type=float, default=0.0, metavar="PCT", help=HELP("holdout"))
    parser.add_argument("--seed", type=int, default=20240501, help=HELP("seed"))
    parser.add_argument("--date", help=HELP("date"))
    parser.add_argument("--research", type=int, default=0, metavar="N", help=HELP("research"))
    parser.add_argument("--research-group", metavar="GROUP", help=HELP("research_group"))
    parser.add_argument("--format", default="xlsx,csv", help=HELP("format"))
    parser.add_argument("--json", action="store_true", help=HELP("json"))
    parser.add_argument("--mask-pii", action="store_true", help=HELP("mask_pii"))
    add_common(parser)
    parser.set_defaults(handler=handle)


def options_from(args: argparse.Namespace) -> ContactOptions:
    tag = TagOptions(export=args.export, month=args.month, config=args.config, preset=args.preset,
                     history=args.history, use_history=not args.no_history, replace=args.replace,
                     lang=args.lang, sheet=args.sheet, write=False, mask_pii=args.mask_pii,
                     date_order=args.date_order)
    formats = tuple(f.strip().lower() for f in args.format.split(",") if f.strip())
    return ContactOptions(tag=tag, out_dir=args.out_dir, holdout=args.holdout, seed=args.seed, date=args.date,
                          formats=formats, research=args.research, research_group=args.research_group)


def as_json(done: ContactsResult) -> dict[str, object]:
    return {
        "out_dir": str(done.out_dir),
        "lists": [{"channel": c.channel, "label": c.label, "users": c.users, "files": [str(f) for f in c.files]}
                  for c in done.lists],
        "campaigns": [{"id": c.id, "date": c.date, "rule": c.rule, "group": c.group, "channel": c.channel,
                       "content": c.content, "arm": c.arm, "contacted": len(c.contacted), "holdout": len(c.holdout)}
                      for c in done.campaigns],
        "research": None if done.research is None else {
            "users": done.research.users, "files": [str(f) for f in done.research.files]},
    }


def handle(args: argparse.Namespace, out: Console, err: Console) -> int:
    options = options_from(args)
    if args.quiet or args.json:
        done = make_contacts(options)
    else:
        with RichProgress(err) as progress:
            done = make_contacts(options, progress)
    if args.json:
        out.file.write(json.dumps(as_json(done), ensure_ascii=False) + "\n")
        return 0
    if args.quiet:
        out.print(str(done.out_dir), markup=False)
        return 0
    day = done.campaigns[0].date if done.campaigns else (args.date or "")
    table = Table(title=TEXT("title", date=day), title_justify="left")
    columns: tuple[tuple[str, JustifyMethod], ...] = (("channel", "left"), ("users", "right"), ("files", "left"))
    for name, justify in columns:
        table.add_column(TEXT(name), justify=justify)
    for item in done.lists:
        table.add_row(escape(item.label), f"{item.users:,}", escape("\n".join(f.name for f in item.files)))
    out.print(table)
    held = sum(len(c.holdout) for c in done.campaigns)
    recorded = done.result.history_path is not None
    out.print(TEXT("campaigns", count=len(done.campaigns), holdout=held) if recorded else TEXT("not_recorded"))
    if done.research is not None:
        out.print(TEXT("research", users=done.research.users,
                       files=", ".join(f.name for f in done.research.files)), markup=False)
    for warning in done.result.warnings:
        err.print(f"[yellow]![/] {escape(warning)}")
    return 0
