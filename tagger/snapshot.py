"""The warehouse snapshot's column names as a team's ``tagger.toml`` maps them (``[sql]``).

The snapshot has one row per user for month M (see the README, "The snapshot table"):
``user_id``, ``register_date``, ``last_active``, ``prev_active``, ``drove``,
``usage_<feature key>`` and an optional ``top_feature``; ``[sql]`` in tagger.toml may
map these names to a team's own columns and name the table of a DuckDB database.
Reading the table is :mod:`tagger.readers.parquet` and :mod:`tagger.readers.duckdb`;
this module only turns the config into what they and the SQL generator are given.
"""

from __future__ import annotations

from pathlib import Path

from tagger.config import Config
from tagger.errors import ConfigError
from tagger.i18n import Catalog
from tagger.readers.duckdb import DEFAULT_TABLE, DUCKDB_SUFFIXES
from tagger.readers.warehouse import FIELDS, snapshot_names

TEXT = Catalog(
    "snapshot",
    {
        "bad_column": {"zh": "配置 {path} 中 [sql] {key} = {value!r} 无效：请写列名（字符串）",
                       "en": "config {path}: [sql] {key} = {value!r} is invalid: write a column name (a string)"},
        "unknown_key": {"zh": "配置 {path} 中 [sql] 没有 {key} 这一项；可用：{available}",
                        "en": "config {path}: [sql] has no setting {key}; available: {available}"},
    },
)


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
            raise ConfigError(TEXT("unknown_key", path=where, key=key, available=", ".join(["table", *names])))
        if value != "" or key != "top_feature":
            _check_name(value, where, key)
        names[key] = value
    return names


def default_table(config: Config) -> str:
    """``[sql] table`` if the config names one, else ``users``."""
    return str(config.raw.get("sql", {}).get("table", DEFAULT_TABLE))


def table_to_read(path: Path, table: str | None, config: Config) -> str | None:
    """``--table``, else ``[sql] table`` for a DuckDB database (a Parquet file is one table)."""
    if table or path.suffix.lower() not in DUCKDB_SUFFIXES:
        return table
    return default_table(config)


def _check_name(value: object, where: object, key: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(TEXT("bad_column", path=where, key=key, value=value))


__all__ = [
    "DEFAULT_TABLE", "FIELDS", "TEXT", "default_table", "snapshot_columns", "snapshot_names", "table_to_read",
]
