"""One module per ``tagger`` subcommand.

Each module exposes ``NAME``, ``HELP`` (a catalog: ``summary``, ``description`` and
its options' help, in Chinese and English) and ``register(subparsers)``, which adds
its parser and sets ``handler(args, out, err) -> int``. A handler builds options,
calls the library and prints; it holds no tagging logic.
"""

from __future__ import annotations

from types import ModuleType

# One import and one tuple entry per command, one per line, so additions merge cleanly.
from tagger.commands import check
from tagger.commands import contacts
from tagger.commands import demo
from tagger.commands import init
from tagger.commands import refresh
from tagger.commands import sql
from tagger.commands import tag
from tagger.commands import wizard

COMMANDS: tuple[ModuleType, ...] = (
    tag,
    check,
    init,
    demo,
    wizard,
    refresh,
    contacts,
    sql,
)
