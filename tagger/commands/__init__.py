"""One module per ``tagger`` subcommand.

Each module exposes ``NAME``, ``HELP`` and ``register(subparsers)``, which adds its
parser and sets ``handler(args, out, err) -> int``. A handler builds options,
calls the library and prints; it holds no tagging logic.
"""

from __future__ import annotations

from types import ModuleType

from tagger.commands import tag

COMMANDS: tuple[ModuleType, ...] = (tag,)
