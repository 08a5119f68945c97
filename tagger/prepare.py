"""From the raw table to one typed row per user.

The reader keeps every cell as it was stored; this step maps headers to canonical
fields, parses IDs, dates, counts and flags, and stops with one clear line at the
first thing that would make the tags wrong (a missing column, a blank or
duplicate ID, a date it cannot read). Things worth a look but not fatal become
warnings that name the rows.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal, TypedDict

import numpy as np
import pandas as pd

from tagger.columns import FIELD_LABELS, REQUIRED_FIELDS, build_aliases, match_columns, missing_required
from tagger.config import Config
from tagger.errors import InputError, Location
from tagger.formula_cells import EXCEL_ERRORS, FormulaCell
from tagger.i18n import Catalog, get_language
from tagger.readers import Table
from tagger.sanitize import EXCEL_MAX_CHARS, Cleaned, clean_frame
from tagger.value_layers import headers as layer_headers
from tagger.values import (
    PLAUSIBLE_FROM,
    ambiguous_date,
    has_day_month_dates,
    parse_counts,
    parse_dates,
    proven_date_order,
    placeholder_dates,
    parse_flags,
    parse_ids,
    timezone_cells,
)

MAX_LISTED = 5
# A row whose user-ID cell (or, with a blank ID, any cell) says one of these is a totals row.
TOTAL_WORDS = frozenset({"合计", "总计", "小计", "汇总", "总数", "共计", "累计", "total", "totals", "grandtotal",
                         "subtotal", "sum"})
_TOTAL_PREFIX = ("合计", "总计", "小计", "汇总", "共计", "total", "grandtotal", "subtotal")
_TOTAL_SEARCH = re.compile(r"合计|总计|小计|汇总|总数|共计|累计|total|sum", re.IGNORECASE)

TEXT = Catalog(
    "prepare",
    {
        "missing": {
            "zh": "缺少必需的列：{fields}。表头为：{seen}。请在导出中加上这些列，"
                  "或在 tagger.toml 的 [columns] 中指定列名",
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
            "zh": "用户ID '{value}' 以数字存储，超过15位的部分已被 Excel 改写（共 {count} 行：{rows}）；"
                  "请在导出时把该列设为文本（或在 Excel 中设为文本格式后重新导出）",
            "en": "user ID '{value}' is stored as a number, so Excel has already changed the digits after the 15th "
                  "({count} rows: {rows}); export the column as text (format it as Text in Excel and export again)",
        },
        "ambiguous_date": {
            "zh": "日期 '{value}' 的日月顺序不明确：可能是 {first}，也可能是 {second}（共 {count} 个单元格）。"
                  "请在导出中使用 2024-07-01 这样的年-月-日格式",
            "en": "the date '{value}' is ambiguous: it could be {first} or {second} ({count} cells). Export dates "
                  "as year-month-day, e.g. 2024-07-01",
        },
        "say_order": {
            "zh": "；或说明日期顺序：月/日/年 加 --date-order mdy，日/月/年 加 --date-order dmy"
                  "（或在 tagger.toml 中写 [columns] date_order = \"mdy\"）",
            "en": "; or say the order: --date-order mdy for month/day/year, --date-order dmy for day/month/year "
                  "(or [columns] date_order = \"mdy\" in tagger.toml)",
        },
        "date_order_proven": {
            "zh": "日期 '{value}' 的日、月写在年前面（共 {count} 个单元格），tagger 不猜顺序。"
                  "“{column}”列第 {row} 行的 '{proof}' 只能是{order_name}，所以导出用的是{order_name}："
                  "请加 --date-order {order}，或在 tagger.toml 中写 [columns] date_order = \"{order}\"",
            "en": "the date '{value}' puts day and month before the year ({count} cells) and tagger does not guess "
                  "the order. '{proof}' in row {row} of '{column}' can only be {order_name}, so the export uses "
                  "{order_name}: pass "
                  "--date-order {order}, or write [columns] date_order = \"{order}\" in tagger.toml",
        },
        "date_not_in_order": {
            "zh": "日期 '{value}' 按{order_name}（date_order = \"{order}\"）读不成有效日期（共 {count} 个单元格）",
            "en": "the date '{value}' is not a valid {order_name} date (date_order = \"{order}\"; {count} cells)",
        },
        "other_order": {
            "zh": "；“{column}”列第 {row} 行的 '{proof}' 只能是{order_name}：请改用 --date-order {order}",
            "en": "; '{proof}' in row {row} of '{column}' can only be {order_name}: use --date-order {order}",
        },
        "order_mdy": {"zh": "月/日/年", "en": "month/day/year"},
        "order_dmy": {"zh": "日/月/年", "en": "day/month/year"},
        "order_ymd": {"zh": "年/月/日", "en": "year/month/day"},
        "timezone": {
            "zh": "有 {count} 个带时区的时间（第 {rows} 行，如 '{value}'），已换算为 {tz} 时间",
            "en": "{count} timestamps carry a timezone (rows {rows}, e.g. '{value}'); converted to {tz}",
        },
        "future_dates": {
            "zh": "有 {count} 个晚于今天的日期（第 {rows} 行，如 '{value}'），请核对",
            "en": "{count} dates lie in the future (rows {rows}, e.g. '{value}'); check them",
        },
        "implausible_dates": {
            "zh": "有 {count} 个早于 1982 年的日期（第 {rows} 行，如 '{value}'），请核对。1900 年初的日期通常是把 0–60 "
                  "这样的小数字设成了日期格式；Excel 的 1900-02-29（序列号 60）并不存在",
            "en": "{count} dates are before 1982 (rows {rows}, e.g. '{value}'); check them. Dates early in 1900 "
                  "usually are small numbers (0-60) given a date format; Excel's 1900-02-29 (serial 60) does not "
                  "exist",
        },
        "totals_rows": {
            "zh": "第 {rows} 行是合计/总计行（'{label}'），已排除，不计为用户",
            "en": "row {rows} is a totals row ('{label}'); excluded, not counted as a user",
        },
        "control_chars": {
            "zh": "{count} 个单元格含控制字符或无效字符（第 {rows} 行），已删除（无效字符替换为 �），"
                  "否则 Excel 无法打开工作簿",
            "en": "{count} cells hold control or invalid characters (rows {rows}); removed (invalid ones replaced "
                  "by �), since Excel could not open the workbook otherwise",
        },
        "truncated": {
            "zh": "{count} 个单元格超过 Excel 上限 {limit} 个字符（第 {rows} 行，最长 {length} 个字符），"
                  "工作簿中已截断；完整文本保存在历史库中",
            "en": "{count} cells exceed Excel's limit of {limit} characters (rows {rows}, longest {length}); "
                  "truncated in the workbook, the full text is kept in the history database",
        },
        "no_layer_column": {
            "zh": "[value_layers] 指定的列“{header}”不在导出中。表头为：{seen}",
            "en": "the column '{header}' named in [value_layers] is not in the export. Headers found: {seen}",
        },
        "no_active_days": {
            "zh": "[preferences] share_of = \"sessions\"，但导出中没有活跃天数列"
                  "（近三个月活跃天数 / 活跃天数 / 登录天数）；偏好占比按使用次数合计计算",
            "en": "[preferences] share_of = \"sessions\" but the export has no active-days column (近三个月活跃天数 / "
                  "活跃天数 / 登录天数); shares are taken of the summed counts",
        },
        "bad_activity": {
            "zh": "有 {count} 个无法识别的次数（第 {rows} 行，如 '{value}'），按空值处理",
            "en": "{count} unreadable counts (rows {rows}, e.g. '{value}'), treated as empty",
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
            "zh": "列 {column} 有 {count} 个无法识别或为负数的次数（{cells}），按空值处理",
            "en": "column {column} has {count} unreadable or negative counts ({cells}), treated as empty",
        },
        "bad_flags": {
            "zh": "列 {column} 有 {count} 个既不是“是”也不是“否”的值（{cells}），按未知处理",
            "en": "column {column} has {count} values that are neither yes nor no ({cells}), treated as unknown",
        },
        "no_users": {
            "zh": "导出中没有用户行（只有表头）；请确认导出时选中了数据。历史库和工作簿均未改动",
            "en": "the export holds no user rows (only the header); check that the export selected data. "
                  "Nothing was stored or written",
        },
        "no_users_excluded": {
            "zh": "导出中没有用户行：{excluded} 行全是合计/总计行，已排除；请确认导出时选中了数据。"
                  "历史库和工作簿均未改动",
            "en": "the export holds no user rows: all {excluded} rows are totals rows and were excluded; check "
                  "that the export selected data. Nothing was stored or written",
        },
        "error_date": {
            "zh": "日期列中有 Excel 错误值 '{value}'（共 {count} 个单元格：{cells}），不能当作日期；"
                  "请在 Excel 中修正公式（或复制后“粘贴为数值”）再重新导出",
            "en": "the date column holds the Excel error '{value}' ({count} cells: {cells}), which is not a date; "
                  "fix the formula in Excel (or copy and paste as values) and export again",
        },
        "error_cells": {
            "zh": "列 {column} 有 {count} 个 Excel 错误值（{cells}），按空值处理",
            "en": "column {column} has {count} Excel error values ({cells}), treated as empty",
        },
        "uncached_formulas": {
            "zh": "列 {column} 有 {count} 个公式没有保存计算结果（{cells}），读作空值；请在 Excel 中打开并保存，"
                  "或粘贴为数值后重新导出",
            "en": "column {column} has {count} formulas saved without their value ({cells}), read as empty; open and "
                  "save the file in Excel, or paste as values, and export again",
        },
        "placeholder_dates": {
            "zh": "有 {count} 个占位日期（第 {rows} 行，如 '{value}'），按空值处理",
            "en": "{count} placeholder dates (rows {rows}, e.g. '{value}'), treated as missing",
        },
        "placeholder_register": {
            "zh": "注册时间是占位日期 '{value}'（共 {count} 行：{rows}）；请在导出中填写真实的注册时间",
            "en": "the registration date is the placeholder '{value}' ({count} rows: {rows}); export the real "
                  "registration date",
        },
        "blank_last_active": {
            "zh": "有 {count} 个最近活跃时间为空（第 {rows} 行），按注册时间计；如需拒绝此类导出，"
                  "在配置中设 [lifecycle] blank_last_active = \"error\"",
            "en": "{count} last-active dates are blank (rows {rows}); the registration date is used. To refuse "
                  "such exports set [lifecycle] blank_last_active = \"error\" in the config",
        },
        "blank_last_active_error": {
            "zh": "最近活跃时间为空（共 {count} 行：{rows}）；请补全后重新导出（配置 [lifecycle] blank_last_active = "
                  "\"warn\" 则按注册时间计）",
            "en": "blank last-active date ({count} rows: {rows}); fill it in and export again (with [lifecycle] "
                  "blank_last_active = \"warn\" the registration date is used)",
        },
        "cell": {"zh": "第 {row} 行 '{value}'", "en": "row {row}: '{value}'"},
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
    # Cells cut at Excel's 32,767 characters: (user_id, header, full text), kept in history.
    long_texts: list[tuple[str, str, str]] = field(default_factory=list)
    # Source rows left out as totals rows (合计/总计).
    excluded_rows: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Problem:
    """What cells of one sort cost: a warning that names them, or (``fatal``) an error at the first one.

    ``message`` is a :data:`TEXT` key, given the count, the first rows and the first value; with
    ``by_cell`` the warning names the first cells with their values instead (``row 5: '12x'``).
    ``refused_by`` names a config setting that, set to ``"error"``, makes the warning the error
    ``<message>_error`` ([lifecycle] blank_last_active).
    """

    message: str
    fatal: bool = False
    by_cell: bool = False
    refused_by: str = ""

    def under(self, config: Config) -> Problem:
        """This problem as ``config`` has it."""
        if self.refused_by and getattr(config, self.refused_by) == "error":
            return Problem(f"{self.message}_error", fatal=True)
        return self


# How a field's cells are parsed: "id", "date", "flag" (yes/no), "count" (a number) and "text" parse the
# column of one field; "feature_counts" and "layer_counts" stand for the columns the config names, one
# per [[preferences.features]] entry and per [value_layers] axis; "not_before_register" checks the parsed
# last-active dates against the registration dates.
Kind = Literal["id", "date", "flag", "count", "text", "feature_counts", "layer_counts", "not_before_register"]


@dataclass(frozen=True)
class Field:
    """One row of :data:`FIELDS`: how an export field is parsed and what its unusable cells raise.

    ``bad`` is for cells the parser cannot use (IDs Excel already rounded, unreadable counts),
    ``blank`` for empty cells of a field that needs a value, ``placeholder`` for "never" dates
    (9999-12-31). Some problems come with the kind and are not listed: a date the parser cannot
    read, or a duplicate ID, always stops the run; timezones, future and implausible dates are
    noted for every date field. Which fields an export must have is
    :data:`tagger.columns.REQUIRED_FIELDS`, since header detection needs it before any parsing.
    """

    key: str
    kind: Kind
    bad: Problem | None = None
    blank: Problem | None = None
    placeholder: Problem | None = None


_PLACEHOLDER_DATES = Problem("placeholder_dates")
_BAD_ACTIVITY = Problem("bad_activity")

# Every field of an export, in the order they are parsed: the columns of ``Users.frame`` and the order
# of the warnings follow it.
FIELDS: tuple[Field, ...] = (
    Field("user_id", "id", blank=Problem("blank_id", fatal=True), bad=Problem("lossy_id", fatal=True)),
    Field("register_date", "date", placeholder=Problem("placeholder_register", fatal=True),
          blank=Problem("blank_register", fatal=True)),
    Field("last_active_date", "date", placeholder=_PLACEHOLDER_DATES,
          blank=Problem("blank_last_active", refused_by="blank_last_active")),
    Field("prev_active_date", "date", placeholder=_PLACEHOLDER_DATES),
    Field("last_active_date", "not_before_register", bad=Problem("active_before_register")),
    Field("drove", "flag", bad=Problem("bad_flags", by_cell=True)),
    Field("preferences.features", "feature_counts", bad=Problem("bad_counts", by_cell=True)),
    Field("nickname", "text"),
    Field("user_key", "text"),
    Field("top_feature_3m", "text"),
    Field("activity_count_3m", "count", bad=_BAD_ACTIVITY),
    Field("active_days", "count", bad=_BAD_ACTIVITY),
    Field("value_layers", "layer_counts", bad=_BAD_ACTIVITY),
)
DATE_FIELDS = tuple(spec.key for spec in FIELDS if spec.kind == "date")


@dataclass
class _Reading:
    """What parsing the fields of one export shares, and what it has found so far."""

    table: Table
    config: Config
    mapping: dict[str, str]
    # The IDs as parsed before the text was cleaned, with their blank and lossy masks (totals rows were
    # told apart by them).
    ids: tuple[pd.Series, pd.Series, pd.Series]
    cleaned: Cleaned
    excluded: list[int]
    warnings: list[str]
    frame: pd.DataFrame
    feature_columns: dict[str, str] = field(default_factory=dict)

    @cached_property
    def tomorrow(self) -> pd.Timestamp:
        """Dates from here on (midnight ending today in the config's timezone) lie in the future."""
        now = pd.Timestamp.now(tz=self.config.timezone).tz_localize(None)
        return now.normalize() + pd.Timedelta(days=1)

    def report(self, problem: Problem | None, header: str, mask: pd.Series, values: pd.Series | None = None,
               **extra: str) -> None:
        """Warn about the cells ``mask`` marks in column ``header``, or stop at the first when fatal.

        The message shows the first marked value of ``values`` (by default the column itself).
        """
        if problem is None or not mask.any():
            return
        problem = problem.under(self.config)
        if problem.by_cell:
            self.warnings.append(_cell_warning(self.table, header, mask, problem.message))
            return
        rows = _rows(self.table, mask)
        count = int(mask.sum())
        shown = (self.table.frame[header] if values is None else values).iloc[_first(mask)]
        text = TEXT(problem.message, count=count, rows=_fmt_rows(rows, count), value=_show(shown), **extra)
        if problem.fatal:
            raise InputError(text, _where(self.table, header, rows[0]))
        self.warnings.append(f"{_where(self.table, header)}: {text}")


def _rows(table: Table, mask: pd.Series) -> list[int]:
    positions = mask.to_numpy(dtype=bool).nonzero()[0][:MAX_LISTED]
    return [table.excel_row(int(i)) for i in positions]


def _fmt_rows(rows: Sequence[object], total: int) -> str:
    text = ", ".join(str(r) for r in rows)
    return text + (" …" if total > len(rows) else "")


def _where(table: Table, header: str, row: int | None = None) -> Location:
    return Location(table.path, table.sheet, row, header, table.letters.get(header))


def column_aliases(config: Config) -> dict[str, tuple[str, ...]]:
    """Built-in aliases plus this config's feature columns and overrides."""
    extra = {feature.field: feature.columns for feature in config.features}
    if config.value_layers is not None:
        extra.update({name: (header,) for name, header in layer_headers(config.value_layers).items()})
    return build_aliases(config.columns, extra)


def prepare_users(table: Table, config: Config) -> Users:
    """Map and parse the table; raise :class:`InputError` for anything that would make tags wrong.

    The table's frame is cleaned in place first (totals rows dropped, control characters
    removed, over-long cells truncated), so the workbook shows exactly what was tagged.
    Then each row of :data:`FIELDS` is parsed in turn, a whole column at a time.
    """
    reading = _start_reading(table, config, _mapped_fields(table, config))
    for spec in FIELDS:
        _read(reading, spec)
    if config.preference_share_of == "sessions" and "active_days" not in reading.mapping:
        reading.warnings.append(TEXT("no_active_days"))
    frame = reading.frame
    long_texts = [(str(frame.at[row, "user_id"]), column, text) for row, column, text in reading.cleaned.full_text]
    return Users(frame=frame, mapping=reading.mapping, feature_columns=reading.feature_columns,
                 warnings=reading.warnings, long_texts=long_texts, excluded_rows=list(reading.excluded))


def _mapped_fields(table: Table, config: Config) -> dict[str, str]:
    """Canonical field → the export's header for it; an export without a required field is refused."""
    mapping = match_columns(table.frame.columns, column_aliases(config))
    missing = missing_required(mapping)
    if missing:
        names = "、".join(FIELD_LABELS[f][get_language()] for f in missing)
        seen = ", ".join(str(c) for c in table.frame.columns[:20])
        raise InputError(TEXT("missing", fields=names, seen=seen), Location(table.path, table.sheet))
    return mapping


def _start_reading(table: Table, config: Config, mapping: dict[str, str]) -> _Reading:
    """The table as it will be tagged: totals rows out, formula cells checked, text cleaned.

    The IDs are parsed first, since they tell the totals rows apart.
    """
    warnings: list[str] = []
    id_header = mapping["user_id"]
    ids, blank, lossy = parse_ids(table.frame[id_header])
    excluded = _drop_totals(table, id_header, ids, blank, warnings)
    if excluded:
        ids, blank, lossy = (series.drop(index=excluded) for series in (ids, blank, lossy))
    _check_formula_cells(table, mapping, warnings)
    if not len(ids):
        raise InputError(TEXT("no_users_excluded" if excluded else "no_users", excluded=len(excluded)),
                         Location(table.path, table.sheet))
    cleaned = clean_frame(table.frame)
    _warn_cleaned(table, cleaned, warnings)
    return _Reading(table, config, mapping, (ids, blank, lossy), cleaned, excluded, warnings,
                    frame=pd.DataFrame(index=table.frame.index))


def _read(reading: _Reading, spec: Field) -> None:
    """Parse one row of :data:`FIELDS` into ``reading.frame`` (a field the export lacks is left out)."""
    step = _STEPS.get(spec.kind)
    if step is not None:
        step(reading, spec)
        return
    header = reading.mapping.get(spec.key)
    if header is not None:
        reading.frame[spec.key] = _PARSERS[spec.kind](reading, spec, header)


def _parse_ids(reading: _Reading, spec: Field, header: str) -> pd.Series:
    """The user IDs: blank ones, numbers Excel has rounded and duplicates stop the run."""
    ids, blank, lossy = reading.ids
    reading.report(spec.blank, header, blank)
    reading.report(spec.bad, header, lossy, values=ids)
    if reading.cleaned.characters.get(str(header)):
        ids, _, _ = parse_ids(reading.table.frame[header])  # the cleaned text, parsed again (only when it changed)
    duplicated = ids.duplicated(keep=False)
    if duplicated.any():
        first_id = ids[duplicated].iloc[0]
        rows = _rows(reading.table, ids == first_id)
        groups = int(ids[duplicated].nunique())
        raise InputError(TEXT("duplicate_id", id=first_id, rows=", ".join(map(str, rows)), groups=groups),
                         _where(reading.table, header, rows[0]))
    return ids


def _parse_date(reading: _Reading, spec: Field, header: str) -> pd.Series:
    """A date column; see :func:`tagger.values.parse_dates` for the forms it reads."""
    config = reading.config
    column = reading.table.frame[header]
    dates, bad, empty = parse_dates(column, config.timezone, config.date_order)
    if bad.any():
        raise _unreadable_date(reading, header, bad)
    placeholder = _placeholders(column, empty)
    reading.report(spec.placeholder, header, placeholder)
    reading.report(spec.blank, header, empty & ~placeholder)
    reading.report(Problem("timezone"), header, timezone_cells(column), tz=config.timezone)
    for mask, key in ((dates >= reading.tomorrow, "future_dates"), (dates < PLAUSIBLE_FROM, "implausible_dates")):
        reading.report(Problem(key), header, mask.fillna(False).astype(bool))
    return dates


def _unreadable_date(reading: _Reading, header: str, bad: pd.Series) -> InputError:
    """The error for the first cell of ``header`` that is no date: an Excel error value, or a form not read."""
    table, mapping = reading.table, reading.mapping
    rows = _rows(table, bad)
    value = table.frame[header].iloc[_first(bad)]
    if isinstance(value, str) and value.strip().upper() in EXCEL_ERRORS:  # a csv of a sheet with errors
        message = TEXT("error_date", cells=f"{table.letters.get(header, '')}{rows[0]}", value=value.strip(),
                       count=int(bad.sum()))
    else:
        dated = [header, *(mapping[f] for f in DATE_FIELDS if f in mapping and mapping[f] != header)]
        message = _bad_date(table, dated, value, int(bad.sum()), reading.config.date_order)
    return InputError(message, _where(table, header, rows[0]))


def _parse_flag(reading: _Reading, spec: Field, header: str) -> pd.Series:
    flags, bad = parse_flags(reading.table.frame[header])
    reading.report(spec.bad, header, bad)
    return flags


def _parse_count(reading: _Reading, spec: Field, header: str) -> pd.Series:
    counts, bad = parse_counts(reading.table.frame[header])
    reading.report(spec.bad, header, bad)
    return counts


def _parse_text(reading: _Reading, spec: Field, header: str) -> pd.Series:
    """The column as text: None is "", anything else its ``str``; a column of text is taken as it is."""
    column = reading.table.frame[header]
    if pd.api.types.infer_dtype(column, skipna=True) != "string":
        return column.map(lambda v: "" if v is None else str(v))
    values = column.to_numpy(dtype=object).copy()
    for i in np.flatnonzero(pd.isna(values)).tolist():  # the few missing cells, as the rule above says
        values[i] = "" if values[i] is None else str(values[i])
    return pd.Series(values, index=column.index, dtype=object)


def _check_not_before_register(reading: _Reading, spec: Field) -> None:
    """Users last active before they registered (the registration date is used for them)."""
    frame = reading.frame
    active = frame[spec.key]
    early = active.notna() & (active.dt.normalize() < frame["register_date"].dt.normalize())
    reading.report(spec.bad, reading.mapping[spec.key], early)


def _read_feature_counts(reading: _Reading, spec: Field) -> None:
    """The usage count of each configured feature the export has; a note when it has none."""
    config = reading.config
    for feature in config.features:
        header = reading.mapping.get(feature.field)
        if header is not None:
            reading.frame[feature.field] = _parse_count(reading, spec, header)
            reading.feature_columns[feature.key] = header
    if not reading.feature_columns:
        names = "、".join(f.columns[0] for f in config.features if f.columns)
        reading.warnings.append(TEXT("no_counts", columns=names))


def _read_layer_columns(reading: _Reading, spec: Field) -> None:
    """The ``[value_layers]`` columns as numbers; a named column missing from the export stops the run."""
    if reading.config.value_layers is None:
        return
    table, mapping = reading.table, reading.mapping
    for name, header in layer_headers(reading.config.value_layers).items():
        if name not in mapping:  # a column another field already took (近三个月参与活动次数, a count) is shared
            mapping.update(match_columns(table.frame.columns, {name: (header,)}))
        if name not in mapping:
            seen = ", ".join(str(c) for c in table.frame.columns[:20])
            raise InputError(TEXT("no_layer_column", header=header, seen=seen), Location(table.path, table.sheet))
        reading.frame[name] = _parse_count(reading, spec, mapping[name])


# Kinds that parse the column of one field into a column of ``Users.frame``.
_PARSERS: dict[str, Callable[[_Reading, Field, str], pd.Series]] = {
    "id": _parse_ids, "date": _parse_date, "flag": _parse_flag, "count": _parse_count, "text": _parse_text,
}
# Kinds that read the columns the config names, or check fields already parsed.
_STEPS: dict[str, Callable[[_Reading, Field], None]] = {
    "feature_counts": _read_feature_counts,
    "layer_counts": _read_layer_columns,
    "not_before_register": _check_not_before_register,
}


def _check_formula_cells(table: Table, mapping: dict[str, str], warnings: list[str]) -> None:
    """Error cells refuse a date column and are flagged elsewhere; value-less formulas are flagged everywhere.

    calamine reads both as blank, which would silently change a user's segment.
    """
    dates = {mapping[name] for name in DATE_FIELDS if name in mapping}
    kept = table.frame.index
    for header, cells in table.formula_cells.items():
        cells = [cell for cell in cells if cell.row in kept]
        errors = [cell for cell in cells if cell.error]
        uncached = [cell for cell in cells if not cell.error]
        if errors and header in dates:
            raise InputError(TEXT("error_date", cells=_refs(errors), value=errors[0].error, count=len(errors)),
                             _where(table, header, errors[0].row))
        for found, key in ((errors, "error_cells"), (uncached, "uncached_formulas")):
            if found:
                warnings.append(str(_where(table, header)) + ": " + TEXT(
                    key, column=header, count=len(found), cells=_refs(found, values=key == "error_cells")))


def _refs(cells: Sequence[FormulaCell], *, values: bool = False) -> str:
    shown = [f"{c.ref} {c.error}" if values else c.ref for c in cells[:MAX_LISTED]]
    return ", ".join(shown) + (" …" if len(cells) > len(shown) else "")


def _placeholders(column: pd.Series, empty: pd.Series) -> pd.Series:
    """Which of the missing dates were "never" placeholders (9999-12-31), looked at only among the missing."""
    found = pd.Series(False, index=column.index)
    if empty.any():
        found[empty] = placeholder_dates(column[empty]).to_numpy()
    return found


class _OrderProof(TypedDict):
    """The cell that proves a column's day/month order, as the ``date_order_proven`` message names it."""

    order: str
    order_name: str
    column: str
    proof: object
    row: int


def _order_proof(table: Table, headers: Sequence[str]) -> _OrderProof | None:
    """The first of ``headers`` whose cells settle the day/month order, and the cell that does."""
    for header in headers:
        proven = proven_date_order(table.frame[header])
        if proven is not None:
            return {"order": proven[0], "order_name": TEXT(f"order_{proven[0]}"), "column": header,
                    "proof": table.frame[header].iloc[proven[1]], "row": table.excel_row(proven[1])}
    return None


def _bad_date(table: Table, headers: Sequence[str], value: object, count: int, order: str | None) -> str:
    """Why ``value`` (in ``headers[0]``) is no date; for 09/13/2024-style dates, which order the export proves.

    tagger never picks an order itself, but when one cell (a day over 12) of this date column, else of the
    export's other date columns, settles it, the message names that order and the exact option to pass.
    """
    if not has_day_month_dates(pd.Series([value])):
        return TEXT("bad_date", value=value, count=count)
    proof = _order_proof(table, headers)
    if order is not None:
        message = TEXT("date_not_in_order", value=value, count=count, order=order,
                       order_name=TEXT(f"order_{order}"))
        return message + (TEXT("other_order", **proof) if proof and proof["order"] != order else "")
    if proof:
        return TEXT("date_order_proven", value=value, count=count, **proof)
    readings = ambiguous_date(value)
    if readings:
        message = TEXT("ambiguous_date", value=value, first=readings[0], second=readings[1], count=count)
    else:  # e.g. 13/13/2024: no order reads it, but the form still needs one
        message = TEXT("bad_date", value=value, count=count)
    return message + TEXT("say_order")


def _first(mask: pd.Series) -> int:
    return int(mask.to_numpy(dtype=bool).argmax())


def _is_total(value: object) -> bool:
    """``合计``, ``总计：``, ``Total``, ``合计(2,000人)`` … as a totals label.

    >>> [_is_total(v) for v in ("合计", " 总计： ", "Grand Total", "合计(2000人)", "合计张", "1001", None)]
    [True, True, True, True, False, False, False]
    """
    if not isinstance(value, str):
        return False
    text = re.sub(r"[\s:：_\-]+", "", unicodedata.normalize("NFKC", value)).casefold()
    if text in TOTAL_WORDS:
        return True
    return any(text.startswith(p) and re.fullmatch(r"[(（\[].*[)）\]]", text[len(p):] or "x") for p in _TOTAL_PREFIX)


def _total_label(cells: pd.Series, id_header: str, blank_id: bool) -> object | None:
    """The totals label of one row: its ID cell, or with a blank ID any cell; None for a user's row."""
    if _is_total(cells[id_header]):
        return cells[id_header]
    if blank_id:
        return next((v for v in cells.tolist() if _is_total(v)), None)
    return None


def _drop_totals(table: Table, id_header: str, ids: pd.Series, blank: pd.Series, warnings: list[str]) -> list[int]:
    """Drop totals rows (合计/总计) from ``table.frame``; returns their source rows.

    A totals row has a totals label in its ID cell, or a blank ID and a totals label in
    some other cell. Only rows whose ID is blank or not digits are looked at, so a
    million-row export costs one vectorised test of the ID column.
    """
    suspects = blank.copy()
    if _TOTAL_SEARCH.search("\n".join(ids.tolist())):  # one search over the column, then the cells
        suspects |= ids.str.contains(_TOTAL_SEARCH, na=False)
    if not suspects.any():
        return []
    frame = table.frame
    rows: list[int] = []
    label = ""
    for row in frame.index[suspects.to_numpy(dtype=bool)]:
        hit = _total_label(frame.loc[row], id_header, bool(blank[row]))
        if hit is not None:
            rows.append(int(row))
            label = label or str(hit).strip()
    if rows:
        table.frame = frame.drop(index=rows)
        warnings.append(str(Location(table.path, table.sheet)) + ": " + TEXT(
            "totals_rows", rows=_fmt_rows(rows[:MAX_LISTED], len(rows)), label=label))
    return rows


def _warn_cleaned(table: Table, cleaned: Cleaned, warnings: list[str]) -> None:
    """What cleaning changed, by column: control characters removed, then over-long cells cut."""
    for header, rows in cleaned.characters.items():
        warnings.append(_cleaned_warning(table, header, "control_chars", rows))
    for header, entries in cleaned.truncated.items():
        longest = max(length for _, length in entries)
        warnings.append(_cleaned_warning(table, header, "truncated", [row for row, _ in entries],
                                         limit=f"{EXCEL_MAX_CHARS:,}", length=f"{longest:,}"))


def _cleaned_warning(table: Table, header: str, key: str, rows: Sequence[object], **extra: str) -> str:
    return str(_where(table, header)) + ": " + TEXT(
        key, count=len(rows), rows=_fmt_rows(rows[:MAX_LISTED], len(rows)), **extra)


def _show(value: object) -> str:
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    return str(value)


def _cell_warning(table: Table, header: str, bad: pd.Series, key: str) -> str:
    """``column X has N … (row 5 '12x', row 9 '-5', …)``: the first few cells by row and value."""
    positions = [int(i) for i in bad.to_numpy(dtype=bool).nonzero()[0][:MAX_LISTED]]
    cells = [TEXT("cell", row=table.excel_row(i), value=table.frame[header].iloc[i]) for i in positions]
    count = int(bad.sum())
    shown = ("、" if get_language() == "zh" else ", ").join(cells) + (" …" if count > len(cells) else "")
    return str(_where(table, header)) + ": " + TEXT(key, column=header, count=count, cells=shown)


__all__ = ["Users", "prepare_users", "column_aliases", "REQUIRED_FIELDS"]
