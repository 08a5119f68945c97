"""``tagger wizard`` (and bare ``tagger``): the questions, the run and the saved config."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from tagger.commands.common import command_parser

NAME = "wizard"
HELP = "answer a few questions, tag an export and save the answers to tagger.toml"
EXAMPLE = ("  tagger\n"
           "  tagger wizard ~/Downloads --lang en")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = command_parser(
        subparsers, NAME, HELP,
        "Walk through a complete run in the terminal: pick the export (newest first, Tab completes paths), "
        "the sheet, the month, confirm or correct the column mapping, choose the preset, churn window, "
        "preference threshold, target, language, history and output, review, run with progress bars, and "
        "save the answers to an editable tagger.toml that `tagger tag` reuses. Running `tagger` with no "
        "arguments starts it too. Needs a terminal: in scripts and CI it exits at once with a message.",
        EXAMPLE)
    parser.add_argument("start", nargs="?", type=Path,
                        help="folder to look for exports in, or the export itself (default: the current folder)")
    parser.add_argument("--config", type=Path, help="where to read and save the config (default: ./tagger.toml)")
    parser.add_argument("--lang", choices=("zh", "en"), help="language of the questions and the workbook")
    parser.add_argument("--verbose", "-v", action="store_true", help="show tracebacks for errors")
    parser.add_argument("--quiet", "-q", action="store_true", help="accepted for symmetry; the wizard always talks")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, out: Console, err: Console) -> int:
    from tagger.wizard import run_wizard  # questionary loads only when the wizard runs

    start: Path | None = args.start
    folder = start if start is not None and start.is_dir() else None
    export = start if start is not None and not start.is_dir() else None
    run_wizard(out, folder=folder, export=export, config=args.config, lang=args.lang)
    return 0
