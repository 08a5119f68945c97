"""The ``tagger`` command: parse arguments, call the library, translate its errors.

Subcommands live in :mod:`tagger.commands`, one module each. User errors
(:class:`tagger.errors.TaggerError`) become one red line and the error's exit code
(2 for bad input); a traceback is shown only with ``--verbose``.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from tagger import __version__
from tagger.commands import COMMANDS
from tagger.commands.common import OPTIONS, TaggerParser
from tagger.config import CONFIG_NAME
from tagger.errors import TaggerError
from tagger.i18n import LANGUAGES, Catalog, set_language
from tagger.vocabulary import word

TEXT = Catalog(
    "cli",
    {
        "error": word("error"),
        "interrupted": {"zh": "已取消，未写入任何文件", "en": "Cancelled; nothing was written"},
        "bug": {
            "zh": "内部错误（{kind}: {message}）。请带上 --verbose 重新运行并把输出发给维护者",
            "en": "internal error ({kind}: {message}). Run again with --verbose and send the output to the "
                  "maintainers",
        },
    },
)

HELP = Catalog(
    "help_cli",
    {
        "description": {
            "zh": "给月度用户导出打上生命周期分群和偏好标签，并写出运营工作簿。\n"
                  "直接运行 tagger（不带命令）会启动向导，一步步提问，不需要记任何参数。",
            "en": "Tag monthly user exports with lifecycle segments and preferences, and write the ops workbook.\n"
                  "A bare `tagger` (no command) starts the wizard, which asks one question at a time.",
        },
        "commands": {"zh": "命令", "en": "commands"},
        "version": {"zh": "显示版本号并退出", "en": "show the version and exit"},
        "epilog": {
            "zh": "示例：\n  tagger                         # 启动向导\n  tagger demo\n"
                  "  tagger tag 用户明细_2024-07.xlsx\n"
                  "每个命令的帮助：tagger 命令 --help（如 tagger tag --help）；英文帮助：--lang en",
            "en": "Example:\n  tagger                         # starts the wizard\n  tagger demo\n"
                  "  tagger tag 用户明细_2024-07.xlsx\n"
                  "Help of one command: tagger COMMAND --help (e.g. tagger tag --help); Chinese help: --lang zh",
        },
    },
)

Handler = Callable[[argparse.Namespace, Console, Console], int]


def _option_value(argv: Sequence[str], name: str) -> str | None:
    """The last value given to ``name`` (``--name VALUE`` or ``--name=VALUE``), looked at before parsing."""
    value = None
    for index, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == name and index + 1 < len(argv):
            value = argv[index + 1]
        elif arg.startswith(name + "="):
            value = arg.split("=", 1)[1]
    return value


def help_language(argv: Sequence[str], cwd: Path | None = None) -> str:
    """The language to print help and messages in, chosen as a run chooses it.

    argparse prints ``--help`` while it parses, so this is worked out first:
    ``--lang`` anywhere on the command line, else ``[project] language`` of the
    config (``--config PATH`` or ``./tagger.toml``), else Chinese. A config that
    cannot be read is ignored here; the run itself reports it.
    """
    lang = _option_value(argv, "--lang")
    if lang in LANGUAGES:
        return lang
    named = _option_value(argv, "--config")
    config = Path(named) if named else (cwd or Path.cwd()) / CONFIG_NAME
    try:
        project = tomllib.loads(config.read_text(encoding="utf-8-sig")).get("project", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return "zh"
    language = project.get("language") if isinstance(project, dict) else None
    return language if language in LANGUAGES else "zh"


def build_parser() -> argparse.ArgumentParser:
    """Every parser, its help in the current language (see :func:`help_language`)."""
    parser = TaggerParser(prog="tagger", description=HELP("description"), epilog=HELP("epilog"))
    parser.add_argument("--version", action="version", version=f"tagger {__version__}", help=HELP("version"))
    # Its own dest: a subcommand's --lang default (None) would overwrite a shared one.
    parser.add_argument("--lang", dest="main_lang", choices=LANGUAGES, help=OPTIONS("lang"))
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title=HELP("commands"))
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None, *, stdout: Console | None = None,
         stderr: Console | None = None) -> int:
    """Run the CLI and return the exit code; tests inject the consoles."""
    out = stdout or Console(highlight=False)
    err = stderr or Console(stderr=True, highlight=False)
    argv = list(sys.argv[1:] if argv is None else argv)
    set_language(help_language(argv))
    parser = build_parser()
    args = parser.parse_args(argv)
    lang = getattr(args, "lang", None) or args.main_lang  # `tagger --lang en tag …` too
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:  # bare `tagger`: people who never used a command line get the wizard
        args = parser.parse_args(["wizard", *(["--lang", lang] if lang else [])])
        handler = args.handler
    args.lang = lang
    if lang:
        set_language(lang)
    try:
        return handler(args, out, err)
    except TaggerError as exc:
        if args.verbose:
            err.print(traceback.format_exc(), markup=False)
        err.print(f"[bold red]{TEXT('error')}:[/] {escape(str(exc))}", soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        err.print(f"[yellow]{TEXT('interrupted')}[/]")
        return 130
    except Exception as exc:  # noqa: BLE001 - last line of defence: one readable line, not a traceback
        if getattr(args, "verbose", False):
            raise
        err.print(f"[bold red]{TEXT('error')}:[/] " + escape(TEXT("bug", kind=type(exc).__name__, message=exc)),
                  soft_wrap=True)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
