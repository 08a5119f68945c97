"""The interface every export format implements, and the request it is given.

A reader is chosen by :func:`tagger.readers.sniff` from the file's first bytes
(extensions lie) or, for warehouse snapshots, from the extension alone. Adding a
format is one module with a class that has these members, plus one entry in
:data:`tagger.readers.READERS`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from tagger.columns import DEFAULT_ALIASES
from tagger.readers.messages import TEXT
from tagger.readers.table import SheetInfo, Table

# How many rows from the top the header row is looked for in (title rows and notes sit above it).
SCAN_ROWS = 30


@dataclass(frozen=True)
class Request:
    """What :func:`tagger.readers.read_export` was asked for; each reader uses what its format has."""

    sheet: str | None = None
    aliases: Mapping[str, Sequence[str]] = field(default_factory=lambda: DEFAULT_ALIASES)
    scan_rows: int = SCAN_ROWS
    table: str | None = None  # a table of a database (DuckDB)
    columns: Mapping[str, str] | None = None  # snapshot name -> the table's column (tagger.snapshot)


class Reader(Protocol):
    """One input format: how to recognise it, list its sheets, read it, and show its first rows."""

    name: str  # the sniffed format: "zip", "ole", "text", "parquet", "duckdb"
    suffixes: frozenset[str]  # the extensions such content normally has
    offered: tuple[str, ...]  # the extensions a person picks an export by (wizard, refresh folders)
    by_suffix: bool  # chosen by extension alone, before any content is sniffed

    def recognise(self, path: Path, head: bytes) -> bool:
        """Whether ``head`` (the first bytes) is this format; may refuse a file that can never hold data."""
        ...

    def extension_warnings(self, path: Path) -> list[str]:
        """A warning when the extension does not match the content, since ops will wonder later."""
        ...

    def sheets(self, path: Path) -> list[SheetInfo]:
        """The sheets a picker shows, in order."""
        ...

    def read(self, path: Path, request: Request) -> Table:
        """The data rows under the header, every cell as stored."""
        ...

    def head(self, path: Path, sheet: str | None, rows: int, aliases: Mapping[str, Sequence[str]]) -> list[list[str]]:
        """The first ``rows`` rows as text, for picking headers by hand when none is recognised."""
        ...


def mismatch_warnings(path: Path, mismatch: bool, real_key: str) -> list[str]:
    """The ``extension_mismatch`` warning naming the real format (a ``format_*`` key), when ``mismatch``."""
    suffix = path.suffix.lower()
    real = TEXT(real_key)
    return [TEXT("extension_mismatch", ext=suffix or "''", real=real)] if mismatch else []


__all__ = ["SCAN_ROWS", "Reader", "Request", "mismatch_warnings"]
