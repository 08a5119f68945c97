"""Read a warehouse snapshot table (Parquet, or a table in a DuckDB database) as an export.

The snapshot has one row per user for month M (see the README, "The snapshot table"):
``user_id``, ``register_date``, ``last_active``, ``prev_active``, ``drove``,
``usage_<feature key>`` and an optional ``top_feature``; ``[sql]`` in tagger.toml may
map these names to a team's own columns. The reader renames them to the headers
tagger already knows and returns a :class:`tagger.readers.Table`, so the snapshot goes
through the same ``prepare_users`` and the same workbook as an xlsx or csv export.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from tagger.columns import column_letter
from tagger.config import Config
from tagger.errors import ConfigError, InputError, Location
from tagger.i18n import Catalog

if TYPE_CHECKING:  # readers imports this module to dispatch snapshots
    from tagger.readers import Table

SNAPSHOT_SUFFIXES = frozenset({".parquet", ".duckdb"})
DEFAULT_TABLE = "users"
# Snapshot name -> the canonical field whose aliases a header is taken from.
FIELDS: dict[str, str] = {
    "user_id": "user_id",
    "register_date": "register_date",
    "last_active": "last_active_date",
    "prev_active": "prev_active_date",
    "drove": "drove",
    "top_feature": "top_feature_3m",
}

MESSAGES = Catalog(
    "snapshot",
    {
        "unreadable": {"zh": "无法读取快照表：{detail}。请确认它是 Parquet 文件或 DuckDB 数据库",
                       "en": "cannot read the snapshot table: {detail}. Check that it is a Parquet file or a "
                             "DuckDB database"},
        "no_table": {"zh": "数据库中没有表 '{table}'；现有的表：{tables}。请用 --table 指定",
                     "en": "the database has no table '{table}'; its tables: {tables}. Name one with --table"},
        "bad_column": {"zh": "配置 {path} 中 [sql] {key} = {value!r} 无效：请写列名（字符串）",
                       "en": "config {path}: [sql] {key} = {value!r} is invalid: write a column name (a string)"},
        "unknown_key": {"zh": "配置 {path} 中 [sql] 没有 {key} 这一项；可用：{available}",
                        "en": "config {path}: [sql] has no setting {key}; available: {available}"},
        "table_for_parquet": {"zh": "Parquet 文件只有一张表，已忽略 --table {table}",
                              "en": "a Parquet file holds one table; --table {table} is ignored"},
    },
)


def is_snapshot(path: Path) -> bool:
    """Parquet files and DuckDB databases are snapshot tables, not exports."""
    return path.suffix.lower() in SNAPSHOT_SUFFIXES


def snapshot_names(features: Sequence[str], mapping: Mapping[str, str] | None = None) -> dict[str, str]:
    """Snapshot name -> column name in the table (``[sql]`` overrides; ``""``: absent).

    >>> snapshot_names(["control"], {"user_id": "uid"})["user_id"], snapshot_names(["control"])["usage_control"]
    ('uid', 'usage_control')
    """
    names = {name: name for name in (*FIELDS, *(f"usage_{key}" for key in features))}
    names.update({key: value for key, value in (mapping or {}).items() if key in names})
    return names


def snapshot_columns(config: Config) -> dict[str, str]:
    """:func:`snapshot_names` for ``config``'s features after its ``[sql]`` table, validated.

    Only ``top_feature`` may be mapped to ``""`` (the table has no such column).
    """
    names = snapshot_names([f.key for f in config.features])
    where = config.source or f"preset {config.preset}"
    for key, value in dict(config.raw.get("sql", {})).items():
        if key == "table":
            _check_name(value, where, key)
            continue
        if key not in names:
            raise ConfigError(MESSAGES("unknown_key", path=where, key=key, available=", ".join(["table", *names])))
        if value != "" or key != "top_feature":
            _check_name(value, where, key)
        names[key] = value
    return names


def default_table(config: Config) -> str:
    """``[sql] table`` if the config names one, else ``users``."""
    return str(config.raw.get("sql", {}).get("table", DEFAULT_TABLE))


def table_to_read(path: Path, table: str | None, config: Config) -> str | None:
    """``--table``, else ``[sql] table`` for a DuckDB database (a Parquet file is one table)."""
    if table or path.suffix.lower() != ".duckdb":
        return table
    return default_table(config)


def _check_name(value: object, where: object, key: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(MESSAGES("bad_column", path=where, key=key, value=value))


def read_snapshot(path: Path, aliases: Mapping[str, Sequence[str]], *, table: str | None = None,
                  columns: Mapping[str, str] | None = None) -> "Table":
    """The snapshot as a :class:`~tagger.readers.Table` whose headers are the first alias of each field.

    ``columns`` maps snapshot names to the table's names (:func:`snapshot_names`).
    """
    from tagger.readers import Table  # readers dispatches here; import late to keep one direction

    frame, warnings = _load(path, table)
    renames = {}
    for name, column in (columns or snapshot_names(_feature_keys(aliases))).items():
        target = FIELDS.get(name, name)
        if column and column in frame.columns and aliases.get(target):
            renames[column] = aliases[target][0]
    frame = frame.rename(columns=renames)
    data = pd.DataFrame({name: _cells(frame[name]) for name in frame.columns}, dtype=object)
    data.index = pd.RangeIndex(2, len(data) + 2)  # row 1 is the header, as in a sheet
    letters = {str(name): column_letter(i) for i, name in enumerate(data.columns)}
    sheet = None if path.suffix.lower() == ".parquet" else (table or DEFAULT_TABLE)
    return Table(data, path, sheet, 1, letters, warnings=warnings)


def _feature_keys(aliases: Mapping[str, Sequence[str]]) -> list[str]:
    return [name[len("usage_"):] for name in aliases if name.startswith("usage_")]


def _cells(series: pd.Series) -> pd.Series:
    """Cell values as an export reader gives them: Python objects, None for missing (never NaT/NaN)."""
    values = series.astype(object)
    return values.where(series.notna(), None)


def _load(path: Path, table: str | None) -> tuple[pd.DataFrame, list[str]]:
    import duckdb

    warnings: list[str] = []
    try:
        if path.suffix.lower() == ".parquet":
            if table:
                warnings.append(MESSAGES("table_for_parquet", table=table))
            with duckdb.connect(":memory:") as con:
                return con.execute("SELECT * FROM read_parquet(?)", [str(path)]).df(), warnings
        with duckdb.connect(str(path), read_only=True) as con:
            name = table or DEFAULT_TABLE
            tables = [row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
            if name not in tables:
                raise InputError(MESSAGES("no_table", table=name, tables=", ".join(tables) or "-"), Location(path))
            quoted = '"' + name.replace('"', '""') + '"'
            return con.execute(f"SELECT * FROM {quoted}").df(), warnings
    except duckdb.Error as exc:
        detail = str(exc).splitlines()[0]
        raise InputError(MESSAGES("unreadable", detail=detail), Location(path)) from None
