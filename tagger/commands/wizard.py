"""``tagger wizard`` (and bare ``tagger``): the questions, the run and the saved config."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from tagger.commands.common import OPTIONS, add_lang, command_parser
from tagger.i18n import Catalog

NAME = "wizard"
HELP = Catalog(
    "help_wizard",
    {
        "summary": {"zh": "回答几个问题，给导出打标签，并把回答保存到 tagger.toml（直接运行 tagger 也会启动）",
                    "en": "answer a few questions, tag an export and save the answers to tagger.toml (a bare "
                          "`tagger` starts it too)"},
        "description": {
            "zh": "在终端里一步步完成一次运行：选择导出文件（最新的在前，Tab 补全路径）、工作表、月份，确认或修改"
                  "列对应，选择预设、流失月数、偏好阈值、目标、语言、历史库和输出，确认后带进度条运行，并把回答"
                  "保存到可编辑的 tagger.toml，之后 `tagger tag` 直接使用。不带任何参数运行 `tagger` 也会启动它。"
                  "需要终端：在脚本和 CI 中会立即退出并给出提示。",
            "en": "Walk through a complete run in the terminal: pick the export (newest first, Tab completes paths), "
                  "the sheet, the month, confirm or correct the column mapping, choose the preset, churn window, "
                  "preference threshold, target, language, history and output, review, run with progress bars, "
                  "and save the answers to an editable tagger.toml that `tagger tag` reuses. Running `tagger` with "
                  "no arguments starts it too. Needs a terminal: in scripts and CI it exits at once with a message.",
        },
        "start": {"zh": "查找导出文件的文件夹，或导出文件本身（默认：当前文件夹）",
                  "en": "folder to look for exports in, or the export itself (default: the current folder)"},
        "config": {"zh": "读取和保存配置的位置（默认：./tagger.toml）",
                   "en": "where to read and save the config (default: ./tagger.toml)"},
        "lang": {"zh": "问题、帮助和工作簿的语言", "en": "language of the questions, the help and the workbook"},
        "quiet": {"zh": "为与其他命令一致而接受；向导总会显示内容",
                  "en": "accepted for symmetry; the wizard always talks"},
    },
)
EXAMPLE = ("  tagger\n"
           "  tagger wizard ~/Downloads --lang en")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = command_parser(subparsers, NAME, HELP, EXAMPLE)
    parser.add_argument("start", nargs="?", type=Path, help=HELP("start"))
    parser.add_argument("--config", type=Path, help=HELP("config"))
    add_lang(parser, HELP("lang"))
    parser.add_argument("--verbose", "-v", action="store_true", help=OPTIONS("verbose"))
    parser.add_argument("--quiet", "-q", action="store_true", help=HELP("quiet"))
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, out: Console, err: Console) -> int:
    from tagger.wizard import run_wizard  # questionary loads only when the wizard runs

    start: Path | None = args.start
    folder = start if start is not None and start.is_dir() else None
    export = start if start is not None and not start.is_dir() else None
    run_wizard(out, folder=folder, export=export, config=args.config, lang=args.lang)
    return 0
