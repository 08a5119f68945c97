"""Validate an export without writing anything: ``tagger check`` and the wizard's preview.

Ops staff want to know *before* the monthly run whether this month's file will
go through: which header tagger took for each field, how many rows, which dates,
which month, what is wrong and where, and what the run would write. This module
answers with a :class:`CheckReport` (data, no printing) built from the same
steps :func:`tagger.pipeline.run` takes (read, prepare, last month, tag: the
functions themselves, not copies), but it stops before the history step, never
writes a workbook and only reads the history database through a read-only,
immutable connection (no WAL side files, no migration).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from dataclasses import field as dataclass_field  # "field" is also a ColumnCheck attribute
from pathlib import Path
from typing import Any

import pandas as pd

from tagger.columns import FIELD_LABELS, REQUIRED_FIELDS, field_label, match_columns
from tagger.config import Config
from tagger.errors import TaggerError
from tagger.history import HistoryStore
from tagger.i18n import Catalog, get_language, language
from tagger.pipeline import (
    Prepared,
    Progress,
    RunSetup,
    SilentProgress,
    TagOptions,
    default_output,
    last_month_step,
    month_from_name,
    month_step,
    parse_step,
    read_step,
    tag_step,
)
from tagger.prepare import DATE_FIELDS, Users, column_aliases
from tagger.readers import Table
from tagger.segments import UNSPLIT, UNSPLIT_PARTS
from tagger.values import month_key
from tagger.vocabulary import word

TEXT = Catalog(
    "check",
    {
        "month_option": {"zh": "--month 参数", "en": "the --month option"},
        "month_name": word("file_name"),
        "month_latest": {"zh": "最近活跃时间中最晚的月份", "en": "the latest last-active date"},
        "prev_export": {"zh": "导出中的“{column}”列", "en": "the export's '{column}' column"},
        "prev_history": {"zh": "历史库 {path} 中的 {month} 月", "en": "month {month} in history {path}"},
        "prev_none": {
            "zh": "无（导出中没有上次活跃时间列，历史库中也没有 {month} 月）：活跃/唤醒/回流无法区分",
            "en": "none (no previous-active column, and history has no {month}): active, awakened and returned "
                  "cannot be told apart",
        },
    },
)


@dataclass
class ColumnCheck:
    """One canonical field and the export column that will feed it."""

    field: str
    label: str
    header: str | None
    letter: str | None
    required: bool
    samples: list[str] = dataclass_field(default_factory=list)


@dataclass
class DateRange:
    """The earliest and latest value of a date column (``YYYY-MM-DD``), and how many cells are blank."""

    field: str
    label: str
    header: str
    first: str | None
    last: str | None
    blank: int


@dataclass
class CheckReport:
    """Everything ``tagger check`` found; ``error`` set means the export cannot be tagged as it is."""

    export: Path
    sheet: str | None = None
    header_row: int | None = None
    rows: int = 0
    columns: list[ColumnCheck] = dataclass_field(default_factory=list)
    other_columns: list[str] = dataclass_field(default_factory=list)
    dates: list[DateRange] = dataclass_field(default_factory=list)
    month: str | None = None
    month_source: str | None = None
    prev_state: str | None = None
    segments: dict[str, int] = dataclass_field(default_factory=dict)
    mau: int | None = None
    active_rate: float | None = None
    output: Path | None = None
    history: Path | None = None
    warnings: list[str] = dataclass_field(default_factory=list)
    error: str | None = None
    exit_code: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        """A plain dict for ``--json`` (paths as text)."""
        data = asdict(self)
        for key in ("export", "output", "history"):
            data[key] = str(data[key]) if data[key] is not None else None
        data["ok"] = self.ok
        return data


def check_export(options: TagOptions, progress: Progress | None = None) -> CheckReport:
    """Validate ``options.export`` the way ``tagger tag`` would read it; never writes a file.

    Stops at the first error (as the run would) and records it in the report
    instead of raising, so the caller can show everything found up to there.

    >>> from tagger.pipeline import TagOptions
    >>> report = check_export(TagOptions(export=Path("no-such-file.xlsx")))
    >>> report.ok, report.exit_code
    (False, 2)
    """
    progress = progress or SilentProgress()
    report = CheckReport(export=options.export)
    try:
        setup = RunSetup.of(options)
        with language(setup.lang):
            _check(report, setup, progress)
    except TaggerError as exc:
        report.error = str(exc)
        report.exit_code = exc.exit_code
    return report


def _check(report: CheckReport, setup: RunSetup, progress: Progress) -> None:
    """The run's steps up to the tags, each described as it is taken; the history only read."""
    report.warnings.extend(setup.config.warnings)
    table = read_step(setup, progress)
    _describe_table(report, table, setup.config)
    users = parse_step(setup, table)
    _describe_users(report, table, users)
    progress.step("tag")
    _predict(report, month_step(setup, table, users), setup)


def _label(name: str, config: Config) -> str:
    return field_label(name, get_language(), {f.field: f.labels for f in config.features})


def _show(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def sample_values(values: list[object], count: int = 3) -> list[str]:
    """The first few non-blank values of a column, as a person would recognise them."""
    shown = [_show(v) for v in values if v is not None]
    return [v for v in shown if v][:count]


def _samples(series: pd.Series, count: int = 3) -> list[str]:
    return sample_values(series.head(50).tolist(), count)


def _describe_table(report: CheckReport, table: Table, config: Config) -> None:
    """Columns found, with letters and sample values, before any value is parsed."""
    report.sheet = table.sheet
    report.header_row = table.header_row
    report.warnings.extend(table.warnings)
    mapping = match_columns(table.frame.columns, column_aliases(config))
    fields = list(REQUIRED_FIELDS) + [f for f in mapping if f not in REQUIRED_FIELDS]
    for name in fields:
        header = mapping.get(name)
        report.columns.append(ColumnCheck(
            field=name, label=_label(name, config), header=header,
            letter=table.letters.get(header) if header else None, required=name in REQUIRED_FIELDS,
            samples=_samples(table.frame[header]) if header else []))
    used = set(mapping.values())
    report.other_columns = [str(c) for c in table.frame.columns if c not in used]


def _describe_users(report: CheckReport, table: Table, users: Users) -> None:
    report.rows = len(users.frame)  # after totals rows and empty rows are left out
    report.warnings.extend(users.warnings)
    for name in DATE_FIELDS:
        if name not in users.frame:
            continue
        dates = users.frame[name]
        known = dates.dropna()
        report.dates.append(DateRange(
            field=name, label=FIELD_LABELS[name][get_language()], header=users.mapping[name],
            first=known.min().strftime("%Y-%m-%d") if len(known) else None,
            last=known.max().strftime("%Y-%m-%d") if len(known) else None,
            blank=int(dates.isna().sum())))


def _month_source(options: TagOptions) -> str:
    if options.month:
        return TEXT("month_option")
    return TEXT("month_name") if month_from_name(options.export) is not None else TEXT("month_latest")


def _predict(report: CheckReport, prepared: Prepared, setup: RunSetup) -> None:
    """The month, last month's state and the segment counts the run would produce."""
    options, users = setup.options, prepared.users
    report.month = prepared.month_key
    report.month_source = _month_source(options)
    report.warnings.extend(prepared.month_warnings)
    prev_key = month_key(prepared.month - 1)
    report.history = setup.history_path
    store = HistoryStore.open_read_only(setup.history_path) if setup.history_path else None
    try:
        state = last_month_step(prepared, store)
    finally:
        if store is not None:
            store.close()
    if state.source == "export":
        report.prev_state = TEXT("prev_export", column=users.mapping.get("prev_active_date"))
    elif state.source == "history":
        report.prev_state = TEXT("prev_history", path=setup.history_path, month=prev_key)
    else:
        report.prev_state = TEXT("prev_none", month=prev_key)
    # The counts need neither the rules' actions nor the earlier months' feature use.
    metrics = tag_step(setup, prepared, state, None, rules=False).metrics
    report.segments = dict(metrics.groups or metrics.segments)
    if metrics.unsplit:
        for key in UNSPLIT_PARTS:
            report.segments.pop(key, None)
        report.segments[UNSPLIT] = metrics.unsplit
    report.mau = metrics.mau
    report.active_rate = metrics.active_rate
    report.output = options.output or default_output(options.export)


__all__ = ["CheckReport", "ColumnCheck", "DateRange", "check_export"]
