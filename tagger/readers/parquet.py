"""A Parquet snapshot table (one file, one table), read through DuckDB."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from tagger.readers.base import Request
from tagger.readers.table import SheetInfo, Table
from tagger.readers.warehouse import TEXT, snapshot_table, table_head, unreadable_as_input_error


class ParquetReader:
    """Chosen by the ``.parquet`` extension: a snapshot is named on purpose, never picked from a folder."""

    name = "parquet"
    suffixes = frozenset({".parquet"})
    offered: tuple[str, ...] = ()
    by_suffix = True

    def recognise(self, path: Path, head: bytes) -> bool:
        return path.suffix.lower() in self.suffixes

    def extension_warnings(self, path: Path) -> list[str]:
        return []

    def sheets(self, path: Path) -> list[SheetInfo]:
        return [SheetInfo(path.name, True, len(_load(path)))]

    def read(self, path: Path, request: Request) -> Table:
        warnings = [TEXT("table_for_parquet", table=request.table)] if request.table else []
        return snapshot_table(_load(path), path, None, request.aliases, request.columns, warnings)

    def head(self, path: Path, sheet: str | None, rows: int, aliases: Mapping[str, Sequence[str]]) -> list[list[str]]:
        return table_head(self.read(path, Request(aliases=aliases)), rows)


def _load(path: Path) -> pd.DataFrame:
    import duckdb

    with unreadable_as_input_error(path), duckdb.connect(":memory:") as con:
        return con.execute("SELECT * FROM read_parquet(?)", [str(path)]).df()


__all__ = ["ParquetReader"]
