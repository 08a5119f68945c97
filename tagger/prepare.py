"""From the raw table to one typed row per user.

The reader keeps every cell as it was stored; this step maps headers to canonical
fields, parses IDs, dates, counts and flags, and stops with one clear line at the
first thing that would make the tags wrong (a missing column, a blank or
duplicate ID, a date it cannot read). Things worth a look but not fatal become
warnings that name the rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from tagger.columns import FIELD_LABELS, REQUIRED_FIELDS, build_aliases, match_columns, missing_required
from tagger.config import Config
from tagger.errors import InputError, Location
from tagger.i18n import Catalog, get_language
from tagger.readers import Table
from tagger.values import parse_counts, parse_dates, parse_flags, parse_ids

DATE_FIELDS = ("register_date", "last_active_date", "prev_active_date")
MAX_LISTED = 5

MESSAGES = Catalog(
    "prepare",
    {
        "missing": {
            "zh": "缺少必需的列：{fields}。表头为：{seen}。请在导出中加上这些列，或在 tagger.toml 的 [columns] 中指定列名",
            "en": "missing required column(s): {fields}. Headers found: {seen}. Add them to the export or "
                  "name them under [columns] in tagger.toml",
        },
        "blank_id": {
            "zh": "用户ID为空（共 {count} 行：{rows}）；每行都需要用户ID",
            "en": "blank user ID ({count} rows: {rows}); every row needs a user ID",
        },
        "duplicate_id": {
            "zh": "用户ID '{id}' 重复出现在第 {rows} 行（共 {groups} 个重复ID）；请去重后再导入",
            "en": "user ID '{id}' appears on rows {rows} ({groups} duplicated IDs in all); remove duplicates "
                  "and import again",
        },
        "lossy_id": {
            "zh": "用户ID以数字存储，超过15位的部分已被 Excel 改写（共 {count} 行）；请把该列设为文本后重新导出",
            "en": "user ID stored as a number: Excel has already changed digits after the 15th ({count} rows); "
                  "export the column as text",
        },
        "bad_date": {
            "zh": "无法识别的日期 '{value}'（共 {count} 个单元格）。可用格式：2024-07-01、2024/7/1、2024年7月1日、"
                  "Excel 日期；1/7/2024 这类日月顺序不明确的写法不接受",
            "en": "cannot read '{value}' as a date ({count} cells). Accepted: 2024-07-01, 2024/7/1, 2024年7月1日, "
                  "Excel dates; forms like 1/7/2024 are ambiguous and refused",
        },
        "blank_register": {
            "zh": "注册时间为空（共 {count} 行：{rows}）",
            "en": "blank registration date ({count} rows: {rows})",
        },
        "active_before_register": {
            "zh": "{count} 个用户的最近活跃时间早于注册时间（如第 {rows} 行），按注册时间计为活跃",
            "en": "{count} users were last active before they registered (rows {rows}); registration is used",
        },
        "bad_counts": {
            "zh": "列 {column} 有 {count} 个无法识别的次数（如第 {rows} 行的 '{value}'），按空值处理",
            "en": "column {column} has {count} unreadable counts (e.g. row {rows}: '{value}'), treated as empty",
        },
        "bad_flags": {
            "zh": "列 {column} 有 {count} 个既不是“是”也不是“否”的值（如第 {rows} 行的 '{value}'），按未知处理",
            "en": "column {column} has {count} values that are neither yes nor no (e.g. row {rows}: '{value}'), "
                  "treated as unknown",
        },
        "no_counts": {
            "zh": "没有找到任何功能使用次数列（{columns}），偏好只能依据“近三个月使用最多的功能”",
            "en": "no feature usage count columns found ({columns}); preferences can only use the top feature",
        },
    },
)


@dataclass
class Users:
    """Typed, canonical per-user data plus where each field came from."""

    frame: pd.DataFrame
    mapping: dict[str, str]
    feature_columns: dict[str, str]
    warnings: list[str] = field(default_factory=list)


def _rows(table: Table, mask: pd.Series) -> list[int]:
    positions = [i for i, flag in enumerate(mask.to_numpy()) if flag][:MAX_LISTED]
    return [table.excel_row(i) for i in positions]


def _fmt_rows(rows: Sequence[int], total: int) -> str:
    text = ", ".join(str(r) for r in rows)
    return text + (" …" if total > len(rows) else "")


def _where(table: Table, header: str, row: int | None = None) -> Location:
    return Location(table.path, table.sheet, row, header, table.letters.get(header))


def column_aliases(config: Config) -> dict[str, tuple[str, ...]]:
    """Built-in aliases plus this config's feature columns and overrides."""
    extra = {feature.field: feature.columns for feature in config.features}
    return build_aliases(config.columns, extra)


def prepare_users(table: Table, config: Config) -> Users:
    """Map and parse the table; raise :class:`InputError` for anything that would make tags wrong."""
    lang = get_language()
    mapping = match_columns(table.frame.columns, column_aliases(config))
    missing = missing_required(mapping)
    if missing:
        names = "、".join(FIELD_LABELS[f][lang] for f in missing)
        seen = ", ".join(str(c) for c in table.frame.columns[:20])
        raise InputError(MESSAGES("missing", fields=names, seen=seen), Location(table.path, table.sheet))

    raw = table.frame
    frame = pd.DataFrame(index=raw.index)
    warnings: list[str] = []

    id_header = mapping["user_id"]
    ids, blank, lossy = parse_ids(raw[id_header])
    if blank.any():
        rows = _rows(table, blank)
        raise InputError(MESSAGES("blank_id", count=int(blank.sum()), rows=_fmt_rows(rows, int(blank.sum()))),
                         _where(table, id_header, rows[0]))
    if lossy.any():
        rows = _rows(table, lossy)
        raise InputError(MESSAGES("lossy_id", count=int(lossy.sum())), _where(table, id_header, rows[0]))
    duplicated = ids.duplicated(keep=False)
    if duplicated.any():
        first_id = ids[duplicated].iloc[0]
        rows = _rows(table, ids == first_id)
        groups = int(ids[duplicated].nunique())
        raise InputError(MESSAGES("duplicate_id", id=first_id, rows=", ".join(map(str, rows)), groups=groups),
                         _where(table, id_header, rows[0]))
    frame["user_id"] = ids

    for name in DATE_FIELDS:
        if name not in mapping:
            continue
        header = mapping[name]
        dates, bad, empty = parse_dates(raw[header], config.timezone)
        if bad.any():
            rows = _rows(table, bad)
            value = raw[header].iloc[[i for i, f in enumerate(bad.to_numpy()) if f][0]]
            raise InputError(MESSAGES("bad_date", value=value, count=int(bad.sum())),
                             _where(table, header, rows[0]))
        if name == "register_date" and empty.any():
            rows = _rows(table, empty)
            raise InputError(MESSAGES("blank_register", count=int(empty.sum()),
                                      rows=_fmt_rows(rows, int(empty.sum()))), _where(table, header, rows[0]))
        frame[name] = dates

    early = frame["last_active_date"].notna() & (
        frame["last_active_date"].dt.normalize() < frame["register_date"].dt.normalize())
    if early.any():
        warnings.append(str(Location(table.path, table.sheet)) + ": " + MESSAGES(
            "active_before_register", count=int(early.sum()), rows=_fmt_rows(_rows(table, early), int(early.sum()))))

    if "drove" in mapping:
        flags, bad = parse_flags(raw[mapping["drove"]])
        frame["drove"] = flags
        if bad.any():
            warnings.append(_cell_warning(table, mapping["drove"], bad, "bad_flags"))

    feature_columns: dict[str, str] = {}
    for feature in config.features:
        header = mapping.get(feature.field)
        if header is None:
            continue
        counts, bad = parse_counts(raw[header])
        frame[feature.field] = counts
        feature_columns[feature.key] = header
        if bad.any():
            warnings.append(_cell_warning(table, header, bad, "bad_counts"))
    if not feature_columns:
        names = "、".join(f.columns[0] for f in config.features if f.columns)
        warnings.append(MESSAGES("no_counts", columns=names))

    for name in ("nickname", "user_key", "top_feature_3m"):
        if name in mapping:
            frame[name] = raw[mapping[name]].map(lambda v: "" if v is None else str(v))
    if "activity_count_3m" in mapping:
        frame["activity_count_3m"], _ = parse_counts(raw[mapping["activity_count_3m"]])
    return Users(frame=frame, mapping=mapping, feature_columns=feature_columns, warnings=warnings)


def _cell_warning(table: Table, header: str, bad: pd.Series, key: str) -> str:
    rows = _rows(table, bad)
    position = next(i for i, f in enumerate(bad.to_numpy()) if f)
    value = table.frame[header].iloc[position]
    return str(_where(table, header)) + ": " + MESSAGES(
        key, column=header, count=int(bad.sum()), rows=rows[0], value=value)


__all__ = ["Users", "prepare_users", "column_aliases", "REQUIRED_FIELDS"]
