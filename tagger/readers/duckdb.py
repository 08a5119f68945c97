"""A snapshot table in a DuckDB database (``--table`` or ``[sql] table`` names it; ``users`` by default)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from tagger.errors import InputError, Location
from tagger.readers.base import Request
from tagger.readers.table import SheetInfo, Table
from tagger.readers.warehouse import TEXT, snapshot_table, table_head, unreadable_as_input_error

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection

DEFAULT_TABLE = "users"
DUCKDB_SUFFIXES = frozenset({".duckdb"})


class DuckDBReader:
    """Chosen by the ``.duckdb`` extension; each table is a "sheet"."""

    name = "duckdb"
    suffixes = DUCKDB_SUFFIXES
    offered: tuple[str, ...] = ()
    by_suffix = True

    def recognise(self, path: Path, head: bytes) -> bool:
        return path.suffix.lower() in self.suffixes

    def extension_warnings(self, path: Path) -> list[str]:
        return []

    def sheets(self, path: Path) -> list[SheetInfo]:
        import duckdb

        with unreadable_as_input_error(path), duckdb.connect(str(path), read_only=True) as con:
            return [SheetInfo(name, True, _row_count(con, name)) for name in _tables(con)]

    def read(self, path: Path, request: Request) -> Table:
        name = request.table or DEFAULT_TABLE
        return snapshot_table(_load(path, name), path, name, request.aliases, request.columns, [])

    def head(self, path: Path, sheet: str | None, rows: int, aliases: Mapping[str, Sequence[str]]) -> list[list[str]]:
        return table_head(self.read(path, Request(aliases=aliases, table=sheet)), rows)


def _row_count(con: DuckDBPyConnection, name: str) -> int:
    """Rows of one table, for the sheet picker (``count(*)`` always returns one row)."""
    row = con.execute(f"SELECT count(*) FROM {_quoted(name)}").fetchone()
    return int(row[0]) if row is not None else 0


def _load(path: Path, name: str) -> pd.DataFrame:
    import duckdb

    with unreadable_as_input_error(path), duckdb.connect(str(path), read_only=True) as con:
        tables = _tables(con)
        if name not in tables:
            raise InputError(TEXT("no_table", table=name, tables=", ".join(tables) or "-"), Location(path))
        return con.execute(f"SELECT * FROM {_quoted(name)}").df()


def _tables(con: DuckDBPyConnection) -> list[str]:
    return [row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


__all__ = ["DEFAULT_TABLE", "DUCKDB_SUFFIXES", "DuckDBReader"]
