"""``tagger init``: start a project folder with an editable ``tagger.toml`` and its preset."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from tagger.commands.common import command_parser
from tagger.config import available_presets
from tagger.i18n import Catalog
from tagger.project import init_project

NAME = "init"
HELP = "write an editable tagger.toml and the preset's template into a folder"
EXAMPLE = ("  tagger init\n"
           "  tagger init ~/月度标签 --preset ecommerce")

TEXT = Catalog(
    "cmd_init",
    {
        "config": {"zh": "已写入配置：{path}", "en": "Wrote the config: {path}"},
        "template": {"zh": "已复制预设模板：{path}", "en": "Copied the preset template: {path}"},
        "backed_up": {"zh": "原有文件已备份到 {folder}", "en": "The previous files were backed up to {folder}"},
        "next": {
            "zh": "下一步：编辑 {config}（目标、流失月数、偏好阈值、列名、历史库），然后在该目录运行 tagger tag 导出文件.xlsx",
            "en": "Next: edit {config} (target, churn window, threshold, columns, history), then run "
                  "tagger tag EXPORT.xlsx in that folder",
        },
    },
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = command_parser(
        subparsers, NAME, HELP,
        "Write tagger.toml (commented: preset, target active rate, churn window, preference threshold, "
        "columns, history path) and a copy of the preset template that it uses, into DIR (default: the "
        "current folder). Existing files are left alone unless --force, which backs them up first.",
        EXAMPLE)
    parser.add_argument("dir", nargs="?", type=Path, default=Path("."), help="project folder (default: .)")
    parser.add_argument("--preset", choices=available_presets(), default=None,
                        help="preset to start from (default: car_app)")
    parser.add_argument("--force", action="store_true", help="replace existing files (backed up to backups/)")
    parser.add_argument("--lang", choices=("zh", "en"), help="language of the messages")
    parser.add_argument("--verbose", "-v", action="store_true", help="show tracebacks for errors")
    parser.add_argument("--quiet", "-q", action="store_true", help="print only the config path")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, out: Console, err: Console) -> int:
    result = init_project(args.dir, args.preset, force=args.force)
    if args.quiet:
        out.print(str(result.config), markup=False, soft_wrap=True)
        return 0
    if result.replaced:
        out.print(escape(TEXT("backed_up", folder=result.config.parent / "backups")))
    out.print(escape(TEXT("template", path=result.template)))
    out.print(escape(TEXT("next", config=result.config)))
    out.print(f"[bold green]{escape(TEXT('config', path=result.config))}[/]", soft_wrap=True)
    return 0
