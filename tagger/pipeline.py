"""One run of ``tagger tag``: read -> prepare -> last month -> tag -> history -> write.

The CLI, the wizard and the refresh script all build a :class:`TagOptions` and
call :func:`run` (``check`` and ``refresh`` take the same steps: see "the
steps" below); nothing here knows about terminals. Progress is reported
through an optional :class:`Progress` object so each front end can draw it its
own way.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import pandas as pd

from tagger.config import Config, find_config, load_config
from tagger.errors import InputError, Location
from tagger.history import HistoryStore
from tagger.i18n import Catalog, language
from tagger.metrics import MonthMetrics, compute_metrics
from tagger.overrides import apply_stored_overrides
from tagger.projection import MonthEnd, for_result
from tagger.prepare import Users, column_aliases, prepare_users
from tagger.privacy import mask_frame, mask_text
from tagger.progress import Progress, SilentProgress
from tagger.preferences import tag_preferences
from tagger.readers import Table, read_export
from tagger.rules import RuleSet, apply_rules, load_rules
from tagger.segments import ACTIVE_SEGMENTS, assign_segments
from tagger.snapshot import snapshot_columns, table_to_read
from tagger.value_layers import tag_layers
from tagger.values import month_key, month_number, parse_month
from tagger.window import PREV_SUFFIX, usage_fields, usage_window, window_usage  # noqa: F401 (re-exported)
from tagger.workbook import write_workbook

if TYPE_CHECKING:
    from tagger.alerts import Alerts
    from tagger.campaigns import Review

TEXT = Catalog(
    "pipeline",
    {
        "month_ambiguous": {
            "zh": "文件名中有多个月份（{months}），无法确定报告月份；请用 --month YYYY-MM 指定",
            "en": "the file name holds several months ({months}); say which with --month YYYY-MM",
        },
        "bad_month": {"zh": "--month 的值 '{value}' 不是月份，请写成 2024-07", "en": "--month '{value}' is not a "
                      "month; write it as 2024-07"},
        "no_month": {
            "zh": "无法从文件名或最近活跃时间判断报告月份；请用 --month YYYY-MM 指定",
            "en": "cannot tell the report month from the file name or the last-active dates; use --month YYYY-MM",
        },
        "month_mismatch": {
            "zh": "文件名是 {named} 月，但有 {count} 个用户在 {latest} 才最近活跃；请用 --month 确认报告月份",
            "en": "the file name says {named} but {count} users were last active in {latest}; confirm the report "
                  "month with --month",
        },
        "after_month": {
            "zh": "{count} 个用户的最近活跃时间晚于报告月份 {month}（如第 {row} 行），按本月活跃计",
            "en": "{count} users were last active after report month {month} (e.g. row {row}); counted as active "
                  "in {month}",
        },
        "registered_after": {
            "zh": "{count} 个用户注册时间晚于报告月份 {month}（如第 {row} 行），按本月新用户计",
            "en": "{count} users registered after report month {month} (e.g. row {row}); counted as new in {month}",
        },
        "prev_from_export": {
            "zh": "上月状态取自导出中的“{column}”列",
            "en": "last month's state comes from the export's '{column}' column",
        },
        "prev_from_history": {
            "zh": "上月状态取自历史库中 {month} 月的导入",
            "en": "last month's state comes from the {month} import in the history database",
        },
        "prev_unknown": {
            "zh": "缺少上月状态：导出中没有“上次活跃时间”列，历史库中也没有 {month} 月。活跃/唤醒/回流用户无法区分，"
                  "合并为“老用户活跃(上月状态未知)”，4个比率无法计算。先导入 {month} 月的导出即可补全",
            "en": "last month's state is unknown: the export has no previous-active column and history has no "
                  "{month}. Active, awakened and returned users cannot be told apart and are shown as "
                  "'Active (last month unknown)'; the four rates cannot be computed. Import the {month} export "
                  "first to fill this in",
        },
        "prev_partial": {
            "zh": "{count} 个老用户不在历史库 {month} 月的数据中，其上月状态未知，未计入比率",
            "en": "{count} existing users are missing from the {month} history, so their last-month state is "
                  "unknown and they are left out of the rates",
        },
        "same_file": {
            "zh": "输出文件不能是输入文件本身：{path}",
            "en": "the output cannot be the input file itself: {path}",
        },
        "superseded": {
            "zh": "{month} 月：本文件数据截至 {new}，晚于历史库中 {source}（截至 {old}），已取代之；"
                  "原文件的月中数据保留为月末预测的校准点",
            "en": "{month}: this file's data runs to {new}, later than {source} in history (up to {old}); it "
                  "supersedes it, and the earlier export is kept as a calibration point of the month-end projection",
        },
        "before_registration": {
            "zh": "报告月份 {month} 早于所有用户的注册时间（最早 {first}）；"
                  "请用 --month 指定正确的月份，未存储任何数据",
            "en": "report month {month} is before every user's registration (the first is {first}); give the right "
                  "month with --month. Nothing was stored",
        },
        "output_is_dir": {
            "zh": "输出路径是一个文件夹：{path}；请用 -o 指定 .xlsx 文件名，如 {path}/结果.xlsx",
            "en": "the output path is a folder: {path}; give an .xlsx file name with -o, e.g. {path}/result.xlsx",
        },
        "output_not_xlsx": {
            "zh": "输出文件必须是 .xlsx（得到 '{name}'）；工作簿含公式和多个工作表，无法写成 {suffix}",
            "en": "the output must be an .xlsx file (got '{name}'); the workbook has formulas and several sheets "
                  "and cannot be written as {suffix}",
        },
        "already_imported": {
            "zh": "{month} 月的同一文件已在历史库中，已按本次结果覆盖（内容相同）",
            "en": "the same file for {month} was already in history; stored again (no change)",
        },
    },
)

_MONTH_IN_NAME = re.compile(r"(?<!\d)(20\d{2})\s*[-_.年/]?\s*(0[1-9]|1[0-2]|[1-9](?=\D|$))\s*月?(?!\d)")


@dataclass
class TagOptions:
    """Everything ``tagger tag`` takes; the CLI flags and the wizard both build one."""

    export: Path
    month: str | None = None
    config: Path | None = None
    preset: str | None = None
    history: Path | None = None
    use_history: bool = True
    replace: bool = False
    output: Path | None = None
    lang: str | None = None
    sheet: str | None = None
    write: bool = True
    mask_pii: bool = False  # mask phone and ID-card numbers in every output (tagger.privacy)
    table: str | None = None  # the snapshot table in a .duckdb database (tagger.snapshot)
    date_order: str | None = None  # --date-order: wins over [columns] date_order


@dataclass
class CarriedEdits:
    """What people typed into an earlier workbook, written again by ``tagger refresh``.

    Series are aligned with ``TagResult.users.frame`` (one value per user, ``""`` if none).
    """

    overrides: pd.Series
    remarks: pd.Series
    reach_rows: list[dict[str, object]] = field(default_factory=list)
    strategy_rows: dict[str, list[dict[str, object]]] = field(default_factory=dict)
    unmatched: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass
class TagResult:
    """What a run produced: the tagged users, the month's numbers and where things went.

    Built by :func:`build_result` from what the steps returned; a later step (labels,
    refresh's carried edits, the write) makes a new one with :func:`dataclasses.replace`.
    """

    options: TagOptions
    config: Config
    table: Table
    users: Users
    month: str
    tags: pd.DataFrame
    metrics: MonthMetrics
    trend: list[MonthMetrics]
    prev_tags: pd.DataFrame | None
    prev_source: str
    output: Path | None
    history_path: Path | None
    lang: str  # the run's language (tagger.pipeline.run_language): every text of the run is in it
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    carried: CarriedEdits | None = None
    # Built by ``tagger refresh``: the 复盘 review and the 预警 sheet; None for a plain ``tagger tag`` run.
    review: Review | None = None
    alerts: Alerts | None = None
    # Built by ``tagger refresh`` when history holds a research sample (``HistoryStore.research``):
    # the 用户调研 sheet lists it with the answers typed so far.
    research: pd.DataFrame | None = None
    # Last month's users missing from this export, per M-1 state (they stay in their rate base).
    departed: dict[str, int] = field(default_factory=dict)
    # Earlier exports of stored months (HistoryStore.snapshots) that calibrate the month-end projection.
    snapshots: list[dict[str, object]] = field(default_factory=list)
    # Written into the workbook (custom property ``tagger_run``) and the history, so a refresh can tell
    # the newest workbook from an older copy.
    # With monthly counts ([preferences] window = "month"): the earlier months of history summed into
    # the preference window (tagger.pipeline.usage_window); None when the export holds 3-month totals.
    window_months: list[str] | None = None
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    written_at: str = ""

    @cached_property
    def month_end(self) -> MonthEnd:
        """The one month-end projection every sheet and the terminal show (tagger.projection)."""
        return for_result(self)

    def workbook_record(self) -> dict[str, str]:
        """What the workbook and the history say about the run that wrote the workbook."""
        return {"run": self.run_id, "month": self.month, "written": self.written_at,
                "path": str(self.output or "")}


def month_from_name(path: Path) -> int | None:
    """The month written in a file name (``用户明细_2024-07.xlsx``, ``202407``, ``2024年7月``).

    >>> month_key(month_from_name(Path("car_app_2024-07.xlsx")))
    '2024-07'
    >>> month_from_name(Path("users.xlsx")) is None
    True
    """
    name = unicodedata.normalize("NFKC", path.stem)
    found = {int(y) * 12 + int(m) - 1 for y, m in _MONTH_IN_NAME.findall(name)}
    if len(found) > 1:
        raise InputError(TEXT("month_ambiguous", months=", ".join(sorted(map(month_key, found)))),
                         Location(path))
    return found.pop() if found else None


def resolve_month(options: TagOptions, users: Users) -> int:
    """``--month``, else the file name's month, else the month of the latest activity.

    A month before every registration would tag no one as anything real, so it is refused.
    """
    month = _pick_month(options, users)
    registered = month_number(users.frame["register_date"].dropna())
    if len(registered) and month < int(registered.min()):
        raise InputError(TEXT("before_registration", month=month_key(month),
                              first=month_key(int(registered.min()))), Location(options.export))
    return month


def _pick_month(options: TagOptions, users: Users) -> int:
    if options.month:
        try:
            return parse_month(options.month)
        except ValueError:
            raise InputError(TEXT("bad_month", value=options.month)) from None
    named = month_from_name(options.export)
    last = month_number(users.frame["last_active_date"].dropna())
    latest = int(last.max()) if len(last) else None
    if named is not None:
        if latest is not None and latest > named:
            later = int((last > named).sum())
            if later > max(10, 0.05 * len(last)):
                raise InputError(TEXT("month_mismatch", named=month_key(named), count=later,
                                      latest=month_key(latest)), Location(options.export))
        return named
    if latest is None:
        raise InputError(TEXT("no_month"), Location(options.export))
    return latest


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def default_output(export: Path) -> Path:
    """``<export folder>/<export name>_tagged.xlsx``."""
    return export.with_name(f"{export.stem}_tagged.xlsx")


@dataclass
class LastMonthState:
    """Each user's last activity before M and where that knowledge came from."""

    prev_active: pd.Series | None  # month numbers aligned with the users; None when unknown for all
    source: str  # "export", "history" or "none"
    note: str
    departed: dict[str, int] = field(default_factory=dict)  # M-1 users missing now, per M-1 state
    prev_tags: pd.DataFrame | None = None  # M-1's stored users, for transitions


def departed_states(stored: pd.DataFrame, ids: pd.Series) -> dict[str, int]:
    """Last month's users who are not in this export, counted per M-1 state (their rate base)."""
    # Object arrays: pandas' isin hashes them in C (an arrow string column would convert value by value).
    gone = stored.loc[~stored["user_id"].astype(object).isin(ids.astype(object)).to_numpy(bool), "segment"]
    states = gone.map(lambda s: "old_active" if s in ACTIVE_SEGMENTS and s != "new" else s)
    return {str(k): int(v) for k, v in states.value_counts().items()}


def last_month_state(users: Users, month: int, store: HistoryStore | None) -> LastMonthState:
    """From the export's previous-active column, else the M-1 import in history, else unknown."""
    prev_key = month_key(month - 1)
    prev_tags = store.users(prev_key) if store is not None and store.has_users(prev_key) else None
    frame = users.frame
    if "prev_active_date" in frame:
        # A blank cell means no activity before this month other than registering.
        prev_active = month_number(frame["prev_active_date"]).fillna(month_number(frame["register_date"]))
        return LastMonthState(prev_active, "export",
                              TEXT("prev_from_export", column=users.mapping["prev_active_date"]),
                              prev_tags=prev_tags)
    if prev_tags is not None:
        stored = prev_tags.set_index("user_id")
        prev_active = month_number(stored["last_active_date"]).reindex(frame["user_id"].to_numpy())
        prev_active.index = frame.index
        return LastMonthState(prev_active, "history", TEXT("prev_from_history", month=prev_key),
                              departed_states(prev_tags, frame["user_id"]), prev_tags)
    return LastMonthState(None, "none", TEXT("prev_unknown", month=prev_key))


def tag_users(users: Users, month: int, config: Config, *, prev_active_month: pd.Series | None,
              lang: str) -> pd.DataFrame:
    """Segments and preferences for every user (vectorised; no I/O)."""
    frame = users.frame
    segments = assign_segments(
        month_number(frame["register_date"]),
        month_number(frame["last_active_date"]),
        month,
        prev_active_month=prev_active_month,
        churn_after=config.churn_after_months,
        drove=frame.get("drove"),
    )
    counts = pd.DataFrame({f.key: window_usage(frame, f.field) for f in config.features if f.field in frame},
                          index=frame.index)
    sessions = config.preference_share_of == "sessions" and "active_days" in frame
    prefs = tag_preferences(counts, config.features, config.preference_threshold, lang,
                            top_feature=frame.get("top_feature_3m"),
                            active_days=window_usage(frame, "active_days") if sessions else None)
    tags = pd.concat([segments, prefs], axis=1)
    layers = tag_layers(frame, segments["active"], config)
    if layers is not None:
        tags["value_layer"] = layers
    return tags


def load_run_config(options: TagOptions) -> tuple[Config, RuleSet]:
    """The config and its rules, validated as a whole; ``tag`` and ``check`` both call this one function."""
    config = load_config(options.config or find_config(), options.preset)
    if options.date_order:
        config.date_order = options.date_order
    return config, load_rules(config)


def run_language(options: TagOptions, config: Config) -> str:
    """The language of a run: ``--lang``, else ``[project] language``. The one place it is chosen."""
    return options.lang or config.language


def history_path(options: TagOptions, config: Config) -> Path | None:
    """``--history``, else the config's default; None with ``--no-history``. The one place it is chosen."""
    return (options.history or config.default_history_path()) if options.use_history else None


def output_path(options: TagOptions) -> Path:
    """Where the workbook goes, refused before anything is read or stored if it cannot be that file."""
    output = options.output or default_output(options.export)
    if output.resolve() == options.export.resolve():
        raise InputError(TEXT("same_file", path=output), Location(output))
    if output.is_dir():
        raise InputError(TEXT("output_is_dir", path=output), Location(output))
    if output.suffix.casefold() != ".xlsx":
        raise InputError(TEXT("output_not_xlsx", name=output.name, suffix=output.suffix or "?"),
                         Location(output))
    return output


# --------------------------------------------------------------------------- the steps
#
# read -> prepare -> last month -> tag -> history -> write. ``tag`` runs them all,
# ``check`` the first four (history read-only, nothing written), ``refresh`` all of
# them with the carried edits between history and write. Each step takes what the
# ones before it built and returns a new value; none patches an earlier one.


@dataclass(frozen=True)
class RunSetup:
    """What every step reads: the options, the validated config and rules, the language and the history."""

    options: TagOptions
    config: Config
    ruleset: RuleSet
    lang: str
    history_path: Path | None

    @classmethod
    def of(cls, options: TagOptions) -> RunSetup:
        """Config, rules, language and history path, each decided once; invalid rules stop here."""
        config, ruleset = load_run_config(options)
        return cls(options, config, ruleset, run_language(options, config), history_path(options, config))


@dataclass(frozen=True)
class Prepared:
    """The export read and parsed, its month known: what ``check`` describes and ``tag`` tags."""

    table: Table
    users: Users
    month: int
    read_warnings: list[str]  # the config's, the table's and the parsed fields'
    month_warnings: list[str]  # dates after the report month

    @property
    def month_key(self) -> str:
        return month_key(self.month)

    @property
    def warnings(self) -> list[str]:
        return [*self.read_warnings, *self.month_warnings]


@dataclass(frozen=True)
class Tagged:
    """Last month's state, the preference window, the tags and the month's numbers."""

    state: LastMonthState
    window: list[str] | None
    tags: pd.DataFrame
    metrics: MonthMetrics
    notes: list[str]


@dataclass(frozen=True)
class Recorded:
    """What the history step adds: the trend, the earlier exports, and its own warnings and notes."""

    trend: list[MonthMetrics]
    snapshots: list[dict[str, object]]
    warnings: list[str]
    notes: list[str]


def open_history(path: Path | None) -> AbstractContextManager[HistoryStore | None]:
    """The run's one connection to its history (``PRAGMA quick_check`` runs once); None without one."""
    return HistoryStore(path) if path is not None else nullcontext(None)


def read_step(setup: RunSetup, progress: Progress) -> Table:
    """Step "read": the export's table, as the sniffed format's reader finds it."""
    options, config = setup.options, setup.config
    progress.step("read")
    return read_export(options.export, sheet=options.sheet, aliases=column_aliases(config),
                       table=table_to_read(options.export, options.table, config),
                       snapshot_columns=snapshot_columns(config))


def parse_step(setup: RunSetup, table: Table) -> Users:
    """The canonical fields parsed from the table (masked with ``--mask-pii``)."""
    users = prepare_users(table, setup.config)
    if setup.options.mask_pii:
        _mask_pii(table, users)
    return users


def month_step(setup: RunSetup, table: Table, users: Users) -> Prepared:
    """The report month, and every warning reading and parsing gave (config, table, users, dates)."""
    read_warnings = [*setup.config.warnings, *table.warnings, *users.warnings]
    month = resolve_month(setup.options, users)
    return Prepared(table, users, month, read_warnings, outside_month(table, users, month))


def prepare_step(setup: RunSetup, table: Table) -> Prepared:
    """Step "prepare": parse the table and settle the month."""
    return month_step(setup, table, parse_step(setup, table))


def last_month_step(prepared: Prepared, store: HistoryStore | None) -> LastMonthState:
    """Step "last month": M-1's state from the export, else the history, else unknown."""
    return last_month_state(prepared.users, prepared.month, store)


def tag_step(setup: RunSetup, prepared: Prepared, state: LastMonthState, window: list[str] | None, *,
             rules: bool = True) -> Tagged:
    """Step "tag": segments, preferences, the rules' actions (``check`` counts without them) and the numbers."""
    users, month, config = prepared.users, prepared.month, setup.config
    notes = [state.note]
    tags = tag_users(users, month, config, prev_active_month=state.prev_active, lang=setup.lang)
    if rules:
        tags = apply_rules(tags, users.frame, prepared.table.frame, setup.ruleset, setup.lang)  # rule, channel…
    metrics = compute_metrics(tags, prepared.month_key, config.target_active_rate, departed=state.departed)
    if state.source == "history" and metrics.unknown_prev:
        notes.append(TEXT("prev_partial", count=metrics.unknown_prev, month=month_key(month - 1)))
    metrics.notes = list(notes)
    return Tagged(state, window, tags, metrics, notes)


def history_step(setup: RunSetup, prepared: Prepared, tagged: Tagged, store: HistoryStore | None,
                 progress: Progress) -> Recorded:
    """Step "history": store the month, then read back the trend and the earlier exports."""
    if store is None:
        return Recorded([tagged.metrics], [], [], [])
    progress.step("history")
    options, users, tags, mkey = setup.options, prepared.users, tagged.tags, prepared.month_key
    record = users.frame[["user_id", "register_date", "last_active_date"]].assign(
        segment=tags["segment"], group=tags["group"], preference=tags["primary_key"])
    usage = users.frame[["user_id", *usage_fields(users, setup.config)]] if tagged.window is not None else None
    fresh = store.save_month(mkey, record, source=options.export.name, sha256=file_sha256(options.export),
                             metrics=tagged.metrics, replace=options.replace, keep_months=setup.config.keep_months,
                             long_texts=users.long_texts, usage=usage)
    warnings = [] if fresh else [TEXT("already_imported", month=mkey)]
    notes = []
    if store.superseded:
        source, old_cutoff, new_cutoff = store.superseded
        notes.append(TEXT("superseded", month=mkey, source=source, old=old_cutoff, new=new_cutoff))
    return Recorded(store.metrics(upto=mkey), store.snapshots(), warnings, notes)


def build_result(setup: RunSetup, prepared: Prepared, tagged: Tagged, recorded: Recorded) -> TagResult:
    """The run's result, built once from what the steps returned."""
    warnings = [*prepared.warnings, *recorded.warnings]
    if setup.options.mask_pii:
        warnings = [mask_text(line) for line in warnings]
    state = tagged.state
    return TagResult(
        options=setup.options, config=setup.config, table=prepared.table, users=prepared.users,
        month=prepared.month_key, tags=tagged.tags, metrics=tagged.metrics, trend=recorded.trend,
        prev_tags=state.prev_tags, prev_source=state.source, departed=state.departed, output=None,
        history_path=setup.history_path, lang=setup.lang, warnings=warnings, notes=[*tagged.notes, *recorded.notes],
        snapshots=recorded.snapshots, window_months=tagged.window,
    )


def prepare_export(setup: RunSetup, progress: Progress) -> Prepared:
    """read -> prepare: before the history is opened, so a bad export creates no history file."""
    return prepare_step(setup, read_step(setup, progress))


def tag_export(setup: RunSetup, prepared: Prepared, store: HistoryStore | None, progress: Progress) -> TagResult:
    """last month -> tag -> history: everything after reading but the workbook."""
    progress.step("tag")
    state = last_month_step(prepared, store)
    window = usage_window(prepared.users, prepared.month, setup.config, store)
    tagged = tag_step(setup, prepared, state, window)
    return build_result(setup, prepared, tagged, history_step(setup, prepared, tagged, store, progress))


def labels_step(result: TagResult, store: HistoryStore | None) -> TagResult:
    """Apply the 人工标签 stored for this month, as a refresh would.

    A label typed this week must act in a plain ``tagger tag`` of the same month too
    (group sheets, suggested channel, rules); labels of earlier months are only shown.
    The label columns join the tags the way :mod:`tagger.overrides` adds them for every
    command.
    """
    return apply_stored_overrides(result, store) if store is not None else result


def write_step(result: TagResult, output: Path, store: HistoryStore | None, progress: Progress,
               reach_keys: list[str] | None = None) -> TagResult:
    """Step "write": the workbook, then (with a history) which run wrote the newest one.

    ``reach_keys`` are the 触达跟踪 rows the workbook was written with: a campaign
    recorded later is one the workbook never showed, however often it is saved.
    """
    progress.step("write", total=len(result.tags))
    stamped = replace(result)  # write_workbook stamps the time it writes on this copy (``written_at``)
    written = replace(stamped, output=write_workbook(stamped, output, progress=progress))
    if store is not None:
        store.remember_workbook({**written.workbook_record(), "reach_keys": list(reach_keys or [])})
    return written


def run(options: TagOptions, progress: Progress | None = None) -> TagResult:
    """Tag one export end to end. Raises :class:`tagger.errors.TaggerError` on bad input.

    The run speaks its own language (``--lang`` or the config) and leaves the
    caller's in place afterwards; the result carries it as ``lang``.
    """
    progress = progress or SilentProgress()
    setup = RunSetup.of(options)  # invalid rules stop the run before the export is read
    with language(setup.lang):
        output = output_path(options) if options.write else None
        prepared = prepare_export(setup, progress)
        with open_history(setup.history_path) as store:
            result = tag_export(setup, prepared, store, progress)
            if output is None:
                return result
            return write_step(labels_step(result, store), output, store, progress)


class TaggedRun(NamedTuple):
    """A run's result and its open history (None without one)."""

    result: TagResult
    store: HistoryStore | None


@contextmanager
def run_with_history(options: TagOptions, progress: Progress | None = None) -> Iterator[TaggedRun]:
    """Tag one export, this month's labels applied, and keep its history open for a command that records more.

    ``tagger contacts`` picks users from the result and records the campaigns in the
    same history the run read, over the run's one connection. Nothing is written; the
    body runs in the run's language.
    """
    progress = progress or SilentProgress()
    setup = RunSetup.of(options)
    with language(setup.lang):
        prepared = prepare_export(setup, progress)
        with open_history(setup.history_path) as store:
            yield TaggedRun(labels_step(tag_export(setup, prepared, store, progress), store), store)


def _mask_pii(table: Table, users: Users) -> None:
    """``--mask-pii``: mask the export's cells (all but the user-ID key) and the parsed text columns."""
    mask_frame(table.frame, keep={users.mapping["user_id"]})
    mask_frame(users.frame, keep={"user_id"})
    users.warnings = [mask_text(line) for line in users.warnings]


def outside_month(table: Table, users: Users, month: int) -> list[str]:
    """A warning for users last active, or registered, after the report month (with the first row)."""
    frame = users.frame
    warnings = []
    for column, key in (("last_active_date", "after_month"), ("register_date", "registered_after")):
        later = (month_number(frame[column]) > month).fillna(False).to_numpy(dtype=bool)
        if later.any():
            row = table.excel_row(int(later.argmax()))
            warnings.append(TEXT(key, count=int(later.sum()), month=month_key(month), row=row))
    return warnings


__all__ = [
    "CarriedEdits", "LastMonthState", "Prepared", "Progress", "Recorded", "RunSetup", "SilentProgress", "TagOptions",
    "TagResult", "Tagged", "TaggedRun", "build_result", "default_output", "history_path", "history_step", "labels_step",
    "last_month_state", "last_month_step", "load_run_config", "month_from_name", "month_step", "open_history",
    "output_path", "outside_month", "parse_step", "prepare_export", "prepare_step", "read_step", "resolve_month", "run",
    "run_language", "run_with_history", "tag_export", "tag_step", "tag_users", "usage_fields", "usage_window",
    "window_usage", "write_step",
]
