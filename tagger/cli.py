"""The ``tagger`` command: parse arguments, call the library, translate its errors.

Subcommands live in :mod:`tagger.commands`, one module each. User errors
(:class:`tagger.errors.TaggerError`) become one red line and the error's exit code
(2 for bad input); a traceback is shown only with ``--verbose``.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Sequence

from rich.console import Console
from rich.markup import escape

from tagger import __version__
from tagger.commands import COMMANDS
from tagger.errors import TaggerError
from tagger.i18n import Catalog, set_language

TEXT = Catalog(
    "cli",
    {
        "error": {"zh": "错误", "en": "Error"},
        "interrupted": {"zh": "已取消，未写入任何文件", "en": "Cancelled; nothing was written"},
        "bug": {
            "zh": "内部错误（{kind}: {message}）。请带上 --verbose 重新运行并把输出发给维护者",
            "en": "internal error ({kind}: {message}). Run again with --verbose and send the output to the "
                  "maintainers",
        },
    },
)

Handler = Callable[[argparse.Namespace, Console, Console], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tagger",
        description="Tag monthly user exports with lifecycle segments and preferences, and write the ops workbook.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"tagger {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None, *, stdout: Console | None = None,
         stderr: Console | None = None) -> int:
    """Run the CLI and return the exit code; tests inject the consoles."""
    out = stdout or Console(highlight=False)
    err = stderr or Console(stderr=True, highlight=False)
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "lang", None):
        set_language(args.lang)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:  # bare `tagger`: people who never used a command line get the wizard
        args = parser.parse_args(["wizard"])
        handler = args.handler
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
