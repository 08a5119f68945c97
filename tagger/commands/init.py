"""``tagger init``: start a project folder with an editable ``tagger.toml`` and its preset."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from tagger.commands.common import OPTIONS, add_lang, command_parser
from tagger.config import available_presets
from tagger.i18n import Catalog
from tagger.project import init_project

NAME = "init"
HELP = Catalog(
    "help_init",
    {
        "summary": {"zh": "在文件夹中写出可编辑的 tagger.toml 和预设模板",
                    "en": "write an editable tagger.toml and the preset's template into a folder"},
        "description": {
            "zh": "把 tagger.toml（带注释：预设、月活率目标、流失月数、偏好阈值、列名、历史库路径）和它使用的"
                  "预设模板副本写到 DIR（默认：当前文件夹）。注释使用 --lang 的语言。已有文件保持不动，"
                  "除非加 --force（会先备份）：已有的 tagger.toml 只把上面这些设置改回预设的值，"
                  "其余设置、[columns]、[[rules]] 和注释都保留。",
            "en": "Write tagger.toml (commented: preset, target active rate, churn window, preference threshold, "
                  "columns, history path) and a copy of the preset template that it uses, into DIR (default: the "
                  "current folder). The comments are in the --lang language. Existing files are left alone "
                  "unless --force, which backs them up first: an existing tagger.toml only gets the settings "
                  "above back to the preset's values; its other settings, [columns], [[rules]] and comments stay.",
        },
        "dir": {"zh": "项目文件夹（默认：.）", "en": "project folder (default: .)"},
        "preset": {"zh": "起始预设（默认：car_app）", "en": "preset to start from (default: car_app)"},
        "force": {"zh": "改写已有文件（先备份到 backups/；tagger.toml 中 init 不写的设置保留）",
                  "en": "rewrite existing files (backed up to backups/; settings init does not write stay in "
                        "tagger.toml)"},
        "lang": {"zh": "提示、帮助和 tagger.toml 注释的语言，也写入 [project] language",
                 "en": "language of the messages, the help and the comments of tagger.toml, also written as "
                       "[project] language"},
        "quiet": {"zh": "只打印配置文件的路径", "en": "print only the config path"},
    },
)
EXAMPLE = ("  tagger init\n"
           "  tagger init ~/月度标签 --preset ecommerce")

TEXT = Catalog(
    "cmd_init",
    {
        "config": {"zh": "已写入配置：{path}", "en": "Wrote the config: {path}"},
        "template": {"zh": "已复制预设模板：{path}", "en": "Copied the preset template: {path}"},
        "backed_up": {"zh": "原有文件已备份到 {folder}", "en": "The previous files were backed up to {folder}"},
        "next": {
            "zh": "下一步：编辑 {config}（目标、流失月数、偏好阈值、列名、历史库），"
                  "然后在该目录运行 tagger tag 导出文件.xlsx",
            "en": "Next: edit {config} (target, churn window, threshold, columns, history), then run "
                  "tagger tag EXPORT.xlsx in that folder",
        },
    },
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = command_parser(subparsers, NAME, HELP, EXAMPLE)
    parser.add_argument("dir", nargs="?", type=Path, default=Path("."), help=HELP("dir"))
    parser.add_argument("--preset", choices=available_presets(), default=None, help=HELP("preset"))
    parser.add_argument("--force", action="store_true", help=HELP("force"))
    add_lang(parser, HELP("lang"))
    parser.add_argument("--verbose", "-v", action="store_true", help=OPTIONS("verbose"))
    parser.add_argument("--quiet", "-q", action="store_true", help=HELP("quiet"))
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, out: Console, err: Console) -> int:
    result = init_project(args.dir, args.preset, force=args.force, lang=args.lang)
    if args.quiet:
        out.print(str(result.config), markup=False, soft_wrap=True)
        return 0
    if result.replaced:
        out.print(escape(TEXT("backed_up", folder=result.config.parent / "backups")))
    out.print(escape(TEXT("template", path=result.template)))
    out.print(escape(TEXT("next", config=result.config)))
    out.print(f"[bold green]{escape(TEXT('config', path=result.config))}[/]", soft_wrap=True)
    return 0
