"""A warehouse snapshot table as an export: the part the Parquet and DuckDB readers share.

The snapshot has one row per user for month M (see the README, "The snapshot table"):
``user_id``, ``register_date``, ``last_active``, ``prev_active``, ``drove``,
``usage_<feature key>`` and an optional ``top_feature``; ``[sql]`` in tagger.toml may
map these names to a team's own columns (:mod:`tagger.snapshot`). The columns are
renamed to the headers tagger already knows, so the snapshot goes through the same
``prepare_users`` and the same workbook as an xlsx or csv export.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from tagger.columns import column_letter
from tagger.errors import InputError, Location
from tagger.i18n import Catalog
from tagger.readers.header import _header_text
from tagger.readers.table import Table

# Snapshot name -> the canonical field whose aliases a header is taken from.
FIELDS: dict[str, str] = {
    "user_id": "user_id",
    "register_date": "register_date",
    "last_active": "last_active_date",
    "prev_active": "prev_active_date",
    "drove": "drove",
    "top_feature": "top_feature_3m",
    "active_days": "active_days",  # the base of [preferences] share_of = "sessions"
}

TEXT = Catalog(
    "snapshot_reader",
    {
        "unreadable": {"zh": "无法读取快照表：{detail}。请确认它是 Parquet 文件或 DuckDB 数据库",
                       "en": "cannot read the snapshot table: {detail}. Check that it is a Parquet file or a "
                             "DuckDB database"},
        "no_table": {"zh": "数据库中没有表 '{table}'；现有的表：{tables}。请用 --table 指定",
                     "en": "the database has no table '{table}'; its tables: {tables}. Name one with --table"},
        "table_for_parquet": {"zh": "Parquet 文件只有一张表，已忽略 --table {table}",
                              "en": "a Parquet file holds one table; --table {table} is ignored"},
    },
)


def snapshot_names(features: Sequence[str], mapping: Mapping[str, str] | None = None) -> dict[str, str]:
    """Snapshot name -> column name in the table (``[sql]`` overrides; ``""``: absent).

    >>> snapshot_names(["control"], {"user_id": "uid"})["user_id"], snapshot_names(["control"])["usage_control"]
    ('uid', 'usage_control')
    """
    names = {name: name for name in (*FIELDS, *(f"usage_{key}" for key in features))}
    names.update({key: value for key, value in (mapping or {}).items() if key in names})
    return names


def snapshot_table(frame: pd.DataFrame, path: Path, sheet: str | None, aliases: Mapping[str, Sequence[str]],
                   columns: Mapping[str, str] | None, warnings: list[str]) -> Table:
    """The snapshot as a :class:`~tagger.readers.Table` whose headers are the first alias of each field.

    ``columns`` maps snapshot names to the table's names (:func:`snapshot_names`).
    """
    renames = {}
    for name, column in (columns or snapshot_names(_feature_keys(aliases))).items():
        target = FIELDS.get(name, name)
        if column and column in frame.columns and aliases.get(target):
            renames[column] = aliases[target][0]
    frame = frame.rename(columns=renames)
    data = pd.DataFrame({name: _cells(frame[name]) for name in frame.columns}, dtype=object)
    data.index = pd.RangeIndex(2, len(data) + 2)  # row 1 is the header, as in a sheet
    letters = {str(name): column_letter(i) for i, name in enumerate(data.columns)}
    return Table(data, path, sheet, 1, letters, warnings=warnings)


def table_head(table: Table, rows: int) -> list[list[str]]:
    """The header and the first data rows of a snapshot as text, like a sheet's first rows."""
    body = table.frame.head(max(rows - 1, 0)).itertuples(index=False)
    return [[str(name) for name in table.frame.columns], *([_header_text(v) for v in row] for row in body)]


@contextmanager
def unreadable_as_input_error(path: Path) -> Iterator[None]:
    """DuckDB's own errors (not a Parquet file, a locked database…) as one line about the file."""
    import duckdb  # only snapshot users pay for importing DuckDB

    try:
        yield
    except duckdb.Error as exc:
        detail = str(exc).splitlines()[0]
        raise InputError(TEXT("unreadable", detail=detail), Location(path)) from None


def _feature_keys(aliases: Mapping[str, Sequence[str]]) -> list[str]:
    return [name[len("usage_"):] for name in aliases if name.startswith("usage_")]


def _cells(series: pd.Series) -> pd.Series:
    """Cell values as an export reader gives them: Python objects, None for missing (never NaT/NaN)."""
    values = series.astype(object)
    return values.where(series.notna(), None)


__all__ = ["FIELDS", "TEXT", "snapshot_names", "snapshot_table", "table_head", "unreadable_as_input_error"]
