"""``tagger refresh``: re-tag a newer export and carry forward everything people typed.

Ops staff work in last week's workbook: they type 人工标签 overrides and 备注,
add 触达跟踪 rows, sort, filter, hide rows, insert columns and rename tabs. A
refresh must keep all of it. So the old workbook is opened **read-only** (it is
never saved, so it stays byte-identical) and everything is found by heading and
normalised user ID, never by position:

* Users sheet(s): any sheet whose header row holds a user-ID header and the
  人工标签 heading (in either language), whatever the tab is called now.
* 触达跟踪: the sheet whose header row holds the date, group, channel and
  content headings.
* 未匹配人工标注: overrides for users absent from an earlier export, read back so
  they are never dropped.

Text stays text: a cell typed as the string ``=1+1`` is carried as that string
and written with ``write_string`` (copying the value into a new cell would make
it a formula; see hazard A2). Two different overrides for one user stop the run
and name both cells. Everything read is stored in the history database, which
is the source of truth. A workbook refresh cannot use (missing, encrypted,
damaged, no users sheet) stops the run before anything is stored, and so does
one older than the newest workbook written for the history (see
:func:`check_newest`; ``--force`` uses it without letting it delete anything).

The new workbook goes to a temporary file that is renamed into place; the old
workbook is first copied to ``backups/``; if the target is open in Excel (a
``~$name.xlsx`` owner file beside it) the new file is kept under another name.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from tagger.beside import Beside
from tagger.campaigns import (build_review, evaluate, fill_reach_rows, group_key, reach_key,
                              reach_ledger, AtRiskCheck, at_risk_check)
from tagger.columns import normalize_header
from tagger.config import Config
from tagger.contacts import CONTACTS_SOURCE
from tagger.errors import InputError, Location, TaggerError
from tagger.files import SIBLING_MARK, backup, sibling_name
from tagger.history import TRACKING_FIELDS, TRACKING_NUMBERS, HistoryStore
from tagger.i18n import LANGUAGES, Catalog, language
from tagger.preflight import check_archive
from tagger.readers import EXPORT_SUFFIXES, SCAN_ROWS, ole_container
from tagger.pipeline import (CarriedEdits, Prepared, Progress, RunSetup, SilentProgress, TagOptions, TagResult,
                             open_history, output_path, prepare_export, tag_export, write_step)
from tagger.prepare import column_aliases
from tagger.overrides import apply_overrides, apply_stored_overrides, previous_month, rerun_rules
from tagger.segments import GROUPS, SEGMENTS
from tagger.segments import label as segment_label
from tagger.values import parse_month
from tagger.vocabulary import word
from tagger.workbook import groups as group_sheets
from tagger.workbook import reach as reach_sheet
from tagger.workbook import research as research_sheet
from tagger.workbook import users as users_sheet
from tagger.workbook.labels import HEADINGS
from tagger.workbook.readback import Header, cell_text
from tagger.workbook.users import valid_labels


TEXT = Catalog(
    "refresh",
    {
        "conflict": {
            "zh": "用户 {user} 有两个不同的人工标签：{first}（'{first_label}'）与 {second}（'{second_label}'）；"
                  "请保留一个后重新运行",
            "en": "user {user} has two different manual labels: {first} ('{first_label}') and {second} "
                  "('{second_label}'); keep one and run again",
        },
        "lossy_id": {
            "zh": "{where} 的用户ID已被 Excel 存为数字（超过15位的部分已丢失），该行的人工标注无法匹配",
            "en": "{where}: the user ID was stored as a number by Excel (digits after the 15th are lost); "
                  "that row's edits cannot be matched",
        },
        "no_workbook": {
            "zh": "上次的工作簿不存在；请检查 --workbook 的路径（首次运行可省略 --workbook）。本次未写入任何内容",
            "en": "the last workbook does not exist; check the --workbook path (leave --workbook out on a first "
                  "run). Nothing was written",
        },
        "broken_workbook": {
            "zh": "上次的工作簿无法读取（{reason}）。本次未写入任何内容；请用 backups/ 中的备份或修好的文件重新运行",
            "en": "the last workbook cannot be read ({reason}). Nothing was written; run again with its copy "
                  "in backups/ or a repaired file",
        },
        "encrypted_workbook": {
            "zh": "上次的工作簿已加密（设置了打开密码），无法读取人工标注。请在 Excel 中取消密码后另存，再重新运行；"
                  "本次未写入任何内容",
            "en": "the last workbook is encrypted (password-protected), so its edits cannot be read. Remove the "
                  "password in Excel, save, and run again; nothing was written",
        },
        "no_users_sheet": {
            "zh": "上次的工作簿中没有同时含“用户ID”和“{heading}”表头的工作表（前 {scan} 行内），无法带入人工标签。"
                  "请恢复“用户明细”表或其表头后重新运行；本次未写入任何内容",
            "en": "the last workbook has no sheet whose header (in the first {scan} rows) holds a user ID and "
                  "'{heading}', so no edits can be carried. Restore the users sheet or its header and run "
                  "again; nothing was written",
        },
        "ole_workbook": {"zh": "这是旧版 .xls 格式，不是 tagger 写出的 xlsx", "en": "it is an old-style .xls file, "
                         "not an xlsx written by tagger"},
        "stale": {
            "zh": "这不是最新的工作簿：{newer}（{written} 写出）更新，用旧文件会覆盖此后录入的人工标签。"
                  "请用 --workbook {newer} 重新运行；确要使用旧文件请加 --force（此后录入的标签会保留）",
            "en": "this is not the newest workbook: {newer} (written {written}) is newer, and this one would "
                  "overwrite the labels typed since. Run again with --workbook {newer}, or add --force to use "
                  "this one anyway (labels stored since are kept)",
        },
        "forced_stale": {
            "zh": "{path} 比 {newer} 旧（--force）：只带入历史库中还没有的人工标签，清空的单元格不会删除已存的标签",
            "en": "{path} is older than {newer} (--force): only labels the history does not hold yet are carried, "
                  "and cleared cells do not delete stored labels",
        },
        "unstamped": {
            "zh": "{path} 没有记录写出它的运行（由旧版 tagger 写出）；按文件修改时间判断它是否为最新的工作簿",
            "en": "{path} does not record which run wrote it (an older tagger wrote it); its modification time "
                  "decides whether it is the newest workbook",
        },
        "heading_by_prefix": {
            "zh": "{where}：没有名为“{heading}”的列，已使用以它开头的列“{found}”",
            "en": "{where}: no column is called '{heading}'; used the column '{found}', which starts with it",
        },
        "carried": {
            "zh": "已带入：{overrides} 个人工标签、{remarks} 条备注、{reach} 行触达跟踪（其中 {changed} 行是上次以来"
                  "新填或改动的）；{unmatched} 个人工标注的用户不在本次导出中（见“未匹配人工标注”）",
            "en": "carried: {overrides} manual labels, {remarks} notes, {reach} channel-reach rows ({changed} typed "
                  "or changed since the last workbook); {unmatched} overrides are for users not in this export "
                  "(see 'Unmatched overrides')",
        },
        "locked": {
            "zh": "{path} 正在被{who}打开（存在 {lock}），无法替换；新文件已保存为 {kept}",
            "en": "{path} is open{who} ({lock} exists) and cannot be replaced; the new file was kept as {kept}",
        },
        "someone": {"zh": "他人", "en": ""},
        "by_user": {"zh": " {user} ", "en": " by {user}"},
        "backup": {"zh": "上次的工作簿已备份到 {path}", "en": "last workbook backed up to {path}"},
        "busy": {
            "zh": "另一个 tagger refresh 正在运行（锁文件 {lock}）；本次未执行",
            "en": "another tagger refresh is running (lock file {lock}); this run did nothing",
        },
        "no_export": {
            "zh": "文件夹 {folder} 中没有导出文件（xlsx/xls/ods/csv）",
            "en": "folder {folder} holds no export (xlsx/xls/ods/csv)",
        },
        "unmatched_id": word("user_id"),
        "unmatched_source": {"zh": "来源工作簿", "en": "Source workbook"},
        "unmatched_updated": {"zh": "更新时间", "en": "Updated"},
        "manual": {"zh": "人工", "en": "manual"},
    },
)

TAGGED_SUFFIX = "_tagged"
HEADER_SCAN_ROWS = SCAN_ROWS  # as deep as the export reader searches (readers.read_export)
LOCK_NAME = ".tagger-refresh.lock"


@dataclass
class RefreshOptions:
    """``tagger refresh``: the tagging options plus the workbook to read edits from."""

    tag: TagOptions
    workbook: Path | None = None
    force: bool = False  # use a workbook older than the newest one written for the history


@dataclass
class LastWorkbook:
    """What people typed into the last workbook, found by heading and user ID."""

    path: Path
    overrides: pd.DataFrame  # user_id, label (group key), remark, where
    seen: set[str] = field(default_factory=set)
    reach_rows: list[dict[str, Any]] = field(default_factory=list)
    strategy_rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    stamp: dict[str, str] = field(default_factory=dict)  # tagger_run, _month, _written custom properties
    stale: bool = False  # older than the newest workbook of the history, used with --force
    # Keys of the 触达跟踪 rows the run that wrote this workbook put in it (None: not known).
    shown_reach: set[str] | None = None
    # 用户调研 rows as typed: month, user_id, answer, reason (None: the workbook had no research sheet).
    research: pd.DataFrame | None = None


@dataclass
class RefreshOutcome:
    """A refresh's result plus what happened to the files."""

    result: TagResult
    backup: Path | None = None
    kept_as: Path | None = None


# --------------------------------------------------------------------------- reading the old workbook


def read_last_workbook(path: Path, config: Config) -> LastWorkbook:
    """Read edits from ``path`` without modifying it (openpyxl read-only; never saved)."""
    import openpyxl

    id_spellings = {normalize_header(a) for a in column_aliases(config)["user_id"]}
    id_spellings |= {normalize_header(TEXT("unmatched_id", lang)) for lang in LANGUAGES}
    last = LastWorkbook(path, pd.DataFrame(columns=["user_id", "label", "remark", "where"]))
    book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        last.stamp = _stamp(book)
        frames = []
        for ws in book.worksheets:
            head = list(ws.iter_rows(min_row=1, max_row=HEADER_SCAN_ROWS))
            research_header = research_sheet.find_header(head)
            if research_header is not None:
                found, lossy = research_sheet.read(ws, research_header, path)
                last.warnings.extend(TEXT("lossy_id", where=where) for where in lossy)
                last.research = found if last.research is None else pd.concat([last.research, found],
                                                                               ignore_index=True)
                continue
            users_header = users_sheet.find_header(head, id_spellings)
            if users_header is not None:
                frames.append(_users_edits(ws, users_header, id_spellings, path, last))
                continue
            reach_header = reach_sheet.find_header(head)
            if reach_header is not None:
                last.reach_rows.extend(reach_sheet.read(ws, reach_header, config))
                continue
            group, plays = group_sheets.read(ws)
            if group:
                last.strategy_rows[group] = plays
    finally:
        book.close()
    if frames:
        last.overrides = _check_conflicts(pd.concat(frames, ignore_index=True), path)
    else:
        raise InputError(TEXT("no_users_sheet", heading=HEADINGS("override"), scan=HEADER_SCAN_ROWS),
                         Location(path))
    return last


def _stamp(book: Any) -> dict[str, str]:
    """The run that wrote the workbook (xlsxwriter custom properties ``tagger_*``); {} for older files."""
    props = getattr(book, "custom_doc_props", None)
    found = {p.name: p.value for p in getattr(props, "props", [])}
    return {key: str(found[f"tagger_{key}"]) for key in ("run", "month", "written") if f"tagger_{key}" in found}


def _users_edits(ws: Any, header: Header, id_spellings: set[str], path: Path, last: LastWorkbook) -> pd.DataFrame:
    """One Users sheet's overrides and remarks (see :func:`tagger.workbook.users.read`), warnings kept on ``last``."""
    edits = users_sheet.read(ws, header, id_spellings, path)
    if edits.prefixed is not None:
        found, where = edits.prefixed
        last.warnings.append(TEXT("heading_by_prefix", heading=HEADINGS("override"), found=found, where=where))
    last.warnings.extend(TEXT("lossy_id", where=where) for where in edits.lossy)
    last.seen |= edits.seen
    return edits.records


def _check_conflicts(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """One row per user; two different labels for one user stop the run, naming both cells."""
    labelled = frame[frame["label"] != ""]
    distinct = labelled.drop_duplicates(["user_id", "label"])
    clash = distinct[distinct["user_id"].duplicated(keep=False)]
    if not clash.empty:
        first, second = clash.iloc[0], clash[clash["user_id"] == clash.iloc[0]["user_id"]].iloc[1]
        raise InputError(TEXT("conflict", user=first["user_id"], first=first["where"],
                              first_label=first["label_text"], second=second["where"],
                              second_label=second["label_text"]))
    # Each user's first row; only users on several rows (rare) are merged group by group.
    merged = frame.loc[~frame["user_id"].duplicated(), ["user_id", "label", "remark", "where"]].reset_index(drop=True)
    repeated = frame[frame["user_id"].duplicated(keep=False)]
    if len(repeated):
        grouped = repeated.groupby("user_id", sort=False).agg(
            label=("label", lambda s: next((v for v in s if v), "")),
            remark=("remark", lambda s: "；".join(dict.fromkeys(v for v in s if v))))
        again = merged["user_id"].isin(grouped.index)
        for column in ("label", "remark"):
            merged.loc[again, column] = merged.loc[again, "user_id"].map(grouped[column])
    return merged


# --------------------------------------------------------------------------- applying the edits


def review_labels(result: TagResult) -> tuple[pd.Series, pd.Series]:
    """(computed group, label) pairs 复盘's tag accuracy judges, one per user.

    This month's label against this month's computed group; where there is none, last
    month's label (shown, not applied) against the group computed for that month, from
    history when it holds the month, else this month's.
    """
    tags = result.tags
    if "prev_override" not in tags:
        return tags["group"], tags["override"]
    current = tags["override"] != ""
    computed = tags["group"]
    if result.prev_tags is not None:
        stored = result.prev_tags.drop_duplicates("user_id").set_index("user_id")["group"]
        before = result.users.frame["user_id"].astype(str).map(stored).set_axis(tags.index)
        computed = computed.where(current | before.isna(), before)
    return computed, tags["override"].where(current, tags["prev_override"])


def _carried(result: TagResult, unmatched: pd.DataFrame, reach_rows: list[dict[str, Any]],
             strategy_rows: dict[str, list[dict[str, Any]]]) -> CarriedEdits:
    tags = result.tags
    names = {key: segment_label(key) for key in tags["override"].unique() if key}
    overrides = tags["override"].map(lambda k: names.get(k, "")).set_axis(result.users.frame.index)
    remarks = tags["remark"].set_axis(result.users.frame.index)
    orphans = pd.DataFrame({
        TEXT("unmatched_id"): unmatched["user_id"].astype(str),
        HEADINGS("override"): unmatched["label"].map(lambda k: segment_label(k) if k else ""),
        HEADINGS("remark"): unmatched["remark"],
        TEXT("unmatched_source"): unmatched.get("source", pd.Series("", index=unmatched.index)),
        TEXT("unmatched_updated"): unmatched.get("updated_at", pd.Series("", index=unmatched.index)),
    })
    return CarriedEdits(overrides=overrides, remarks=remarks, reach_rows=reach_rows, strategy_rows=strategy_rows,
                        unmatched=orphans)


def _display_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Reach rows as the sheet shows them, keyed by the ``reach_*`` heading keys the writer reads.

    Dates become real dates and group keys labels in the run's language; columns
    ops added stay under ``extra`` (kept in history, shown if the writer shows them).
    """
    shown = []
    for row in rows:
        out: dict[str, Any] = {f"reach_{name}": row.get(name) for name in TRACKING_FIELDS}
        try:
            out["reach_date"] = dt.date.fromisoformat(str(row.get("date")))
        except ValueError:
            out["reach_date"] = row.get("date") or ""
        key = group_key(row.get("group"))
        out["reach_group"] = segment_label(key) if key in (*GROUPS, *SEGMENTS) else row.get("group") or ""
        out["extra"] = dict(row.get("extra") or {})
        shown.append(out)
    return shown


# --------------------------------------------------------------------------- the run


def lock_owner(target: Path) -> tuple[Path, str] | None:
    """Excel's / WPS's owner file ``~$name.xlsx`` beside ``target`` and the user name it holds."""
    lock = target.with_name("~$" + target.name)
    if not lock.exists():
        return None
    try:
        data = lock.read_bytes()[:165]
        size = data[0] if data else 0
        name = data[1:1 + size].decode("gbk", errors="ignore").strip("\x00 ")
        if not name and len(data) > 56:
            name = data[56:].decode("utf-16-le", errors="ignore").split("\x00")[0].strip()
    except OSError:
        name = ""
    return lock, name


def refresh(options: RefreshOptions, progress: Progress | None = None) -> RefreshOutcome:
    """Re-tag ``options.tag.export`` and write a workbook carrying the edits of ``options.workbook``.

    The steps of ``tagger tag`` (:mod:`tagger.pipeline`) with one more between history and
    write: :func:`carry_step` builds the result that holds the carried edits, the 复盘 and the 预警.
    """
    progress = progress or SilentProgress()
    output = output_path(options.tag)  # a folder, a non-xlsx name or the input itself: refused first
    setup = RunSetup.of(replace(options.tag, write=False))  # a later cut-off supersedes by itself
    with language(setup.lang):
        # The last workbook is read and checked before anything is stored: one it cannot use stops the run.
        last, prepared = read_both(options.workbook, setup, progress)
        # Its check reads an existing history; the run keeps that connection.
        early = last is not None and setup.history_path is not None and setup.history_path.is_file()
        with open_history(setup.history_path if early else None) as checked:
            if last is not None:
                check_newest(last, checked, force=options.force)
            with nullcontext(checked) if early else open_history(setup.history_path) as store:
                result = tag_export(setup, prepared, store, progress)
                carried, reach_keys = carry_step(result, last, store)
                return _write(carried, options.workbook, output, store, progress, reach_keys)


def read_both(workbook: Path | None, setup: RunSetup, progress: Progress) -> tuple[LastWorkbook | None, Prepared]:
    """The last workbook (:func:`read_usable_workbook`) and the prepared export, read side by side.

    The workbook is checked and read on a second thread while this one reads the export.
    Its hostile-file check is zlib and numpy, which let the other thread run, so on two
    cores it costs next to nothing; its Python parts overlap about half. Errors come as if
    the workbook had been read first: its error wins over the export's, and neither stores anything.
    """
    if workbook is None:
        return None, prepare_export(setup, progress)
    beside = Beside(lambda: read_usable_workbook(workbook, setup.config), "tagger-last-workbook")
    try:
        prepared = prepare_export(setup, progress)
    except Exception:
        beside.result()  # the workbook's own error, when it has one, is the one to show
        raise
    return beside.result(), prepared


def carry_step(result: TagResult, last: LastWorkbook | None,
               store: HistoryStore | None) -> tuple[TagResult, list[str]]:
    """The run's result with the last workbook's edits, the 复盘 and the 预警; and the 触达跟踪 keys written.

    What the workbook holds is stored first, then read back with the history (the source of truth).
    """
    before = store.tracking_rows() if store is not None else []  # what the last workbook was written from
    overrides, reach_rows = _merge_with_history(store, last, result)
    labelled, unmatched = apply_overrides(result, overrides)
    result = rerun_rules(replace(result, tags=labelled))
    evaluated = _evaluate(store, result)
    changed = reach_changes(before, last.reach_rows if last else [], evaluated, result.config)
    pairs, at_risk = _review_history(store, result)
    research = _research(store, last)
    ledger = reach_ledger(reach_rows, evaluated, result.config)  # before the measured numbers are filled in
    reach_rows = fill_reach_rows(reach_rows, evaluated, result.config)  # recomputed every run, not stored
    written_keys = [reach_key(row, result.config) for row in reach_rows]
    review = build_review(result.month, result.metrics.active_rate, result.metrics.target, evaluated,
                          *review_labels(result), reach_rows, result.config, ledger, pairs, at_risk, research)
    carried = replace(
        result, warnings=[*(last.warnings if last is not None else []), *result.warnings], research=research,
        carried=_carried(result, unmatched, _display_rows(reach_rows), last.strategy_rows if last else {}),
        review=review)
    from tagger.alerts import compute_alerts

    note = TEXT("carried", overrides=int((result.tags["override"] != "").sum()),
                remarks=int((result.tags["remark"] != "").sum()), reach=len(reach_rows), changed=changed,
                unmatched=len(unmatched))
    return replace(carried, alerts=compute_alerts(carried), notes=[*result.notes, note]), written_keys


def read_usable_workbook(path: Path | None, config: Config) -> LastWorkbook | None:
    """The last workbook's edits, or an :class:`InputError` saying why it cannot be used.

    Falling back to the database would silently drop whatever people typed since
    the last run, so a missing, encrypted, damaged or unrecognisable workbook
    stops the refresh before anything is stored or written.
    """
    if path is None:
        return None
    if not path.is_file():
        raise InputError(TEXT("no_workbook"), Location(path))
    with path.open("rb") as handle:
        head = handle.read(8)
    container = ole_container(path, head)  # the export reader's test: never handed to openpyxl
    if container is not None:
        raise InputError(TEXT("encrypted_workbook") if container == "encrypted" else
                         TEXT("broken_workbook", reason=TEXT("ole_workbook")), Location(path))
    check_archive(path)  # zip/XML bombs and damaged archives are never handed to openpyxl
    try:
        return read_last_workbook(path, config)
    except TaggerError:
        raise
    except Exception as exc:  # noqa: BLE001 - any unreadable file: one line naming it, nothing written
        raise InputError(TEXT("broken_workbook", reason=f"{type(exc).__name__}: {exc}"),
                         Location(path)) from None


def check_newest(last: LastWorkbook, store: HistoryStore | None, *, force: bool) -> None:
    """Refuse a workbook older than the newest one written for the history, unless ``force``.

    Each workbook carries the run that wrote it and the history the newest run it
    wrote. A different run written earlier is an older copy: its empty cells are
    not deletions and its labels are not the latest. A workbook from an older
    tagger has no stamp; its modification time stands in for the time it was written.
    """
    if store is None:  # no history yet: no workbook was written for it
        return
    newest = store.newest_workbook()
    if newest is not None and last.stamp.get("run") == newest["run"]:
        last.shown_reach = {str(key) for key in newest.get("reach_keys") or ()}
        return
    if newest is None:
        return
    written = last.stamp.get("written")
    if not written:
        last.warnings.append(TEXT("unstamped", path=last.path.name))
        written = dt.datetime.fromtimestamp(last.path.stat().st_mtime).isoformat(timespec="microseconds")
    if written >= str(newest.get("written") or ""):
        return
    newer = Path(newest.get("path") or "?")
    if not force:
        raise InputError(TEXT("stale", newer=newer.name, written=str(newest.get("written"))[:19]),
                         Location(last.path))
    last.stale = True
    last.warnings.append(TEXT("forced_stale", path=last.path.name, newer=newer.name))


def _merge_with_history(store: HistoryStore | None, last: LastWorkbook | None,
                        result: TagResult) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Store what the workbook holds, then read back the full set (the database is the source of truth).

    触达跟踪 follows the workbook (its order, its deletions) plus the rows ``tagger
    contacts`` recorded that the workbook was never written with, matched by the
    row's key (date, group, channel, campaign) against the keys the writing run
    recorded, so saving the workbook later never hides them; without a workbook,
    every stored row.
    """
    empty = pd.DataFrame(columns=["user_id", "label", "remark", "source", "updated_at"])
    if store is None:
        if last is None:
            return empty, []
        month = workbook_month(last.path) or result.month
        return last.overrides.assign(source=last.path.name, updated_at="", month=month), last.reach_rows
    stored = store.tracking_rows()
    if last is None:
        return store.overrides(), stored
    keys = {row["key"] for row in last.reach_rows}
    newer = [row for row in stored if row["key"] not in keys and row.get("source") == CONTACTS_SOURCE
             and _not_shown(row, last)]
    month = last.stamp.get("month") or workbook_month(last.path) or result.month
    if last.stale:  # an older copy adds what the history lacks and deletes nothing
        held = set(store.overrides(month=month)["user_id"].astype(str))
        store.save_overrides(last.overrides[~last.overrides["user_id"].isin(held)], source=last.path.name,
                             month=month)
    else:
        store.save_overrides(last.overrides, source=last.path.name, month=month, seen=last.seen)
    store.save_tracking(last.reach_rows, source=last.path.name)
    return store.overrides(), [*last.reach_rows, *newer]


def _not_shown(row: dict[str, Any], last: LastWorkbook) -> bool:
    """Whether a recorded campaign row was never in the workbook (so its absence is not a deletion).

    The run that wrote the workbook recorded its rows' keys; a workbook from an
    older tagger (or another history) falls back to the time it was written
    (its stamp, else its modification time).
    """
    if last.shown_reach is not None:
        return str(row["key"]) not in last.shown_reach
    written = last.stamp.get("written") or dt.datetime.fromtimestamp(
        last.path.stat().st_mtime).isoformat(timespec="microseconds")
    return str(row.get("updated_at") or "") >= written


def workbook_month(path: Path) -> str | None:
    """The month a tagger workbook was written for (its title property, "tagger 2024-05"); None if unknown.

    Labels read from it belong to that month, not to the month being refreshed.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            core = archive.read("docProps/core.xml").decode("utf-8", errors="replace")
    except (OSError, KeyError, zipfile.BadZipFile):
        return None
    found = re.search(r"<dc:title>tagger (\d{4}-\d{2})</dc:title>", core)
    return found.group(1) if found else None


def _review_history(store: HistoryStore | None, result: TagResult
                    ) -> tuple[list[tuple[pd.DataFrame, pd.DataFrame]], AtRiskCheck | None]:
    """Consecutive stored months up to this one (for group stability) and last month's 即将休眠 check."""
    month = parse_month(result.month)
    current = result.users.frame[["user_id", "last_active_date"]].assign(group=result.tags["group"].to_numpy())
    if store is None:
        return [], None
    kept = {parse_month(r.month): r.month for r in store.imports() if r.users_kept and r.month != result.month}
    frames = {number: store.users(key) for number, key in kept.items() if number < month}
    frames[month] = current
    pairs = [(frames[n - 1], frames[n]) for n in sorted(frames) if n - 1 in frames]
    return pairs, at_risk_check(month, frames.get(month - 1), current)


def _research(store: HistoryStore | None, last: LastWorkbook | None) -> pd.DataFrame | None:
    """The research sample with its answers: the workbook's typed cells stored first, then read back.

    Without history, the workbook's rows are carried as they were typed. An older copy of the
    workbook (``--force``) only fills answers the history does not hold yet, as for labels.
    """
    typed = last.research if last is not None else None
    if store is None:
        return typed if typed is not None and len(typed) else None
    if typed is not None and len(typed):
        store.save_research_answers(typed, source=last.path.name if last is not None else "",
                                    only_empty=last is not None and last.stale)
    stored = store.research()
    return stored if len(stored) else None


def _same_number(a: object, b: object) -> bool:
    if a in (None, "") or b in (None, ""):
        return a in (None, "") and b in (None, "")
    try:
        return math.isclose(float(a), float(b), abs_tol=1e-9)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(a) == str(b)


def reach_changes(before: list[dict[str, Any]], typed: list[dict[str, Any]], evaluated: pd.DataFrame,
                  config: Config) -> int:
    """How many 触达跟踪 rows of the last workbook people typed or changed since it was written.

    The workbook was written from history's rows with the measured numbers
    filled in (:func:`fill_reach_rows`), or from the playbook's starter rows
    (no date, no numbers) when history held none. A row counts when its identity
    is new and it holds a date or a number, or when one of its numbers differs
    from both the stored and the filled-in value. Must run before ``typed`` is
    filled in.
    """
    stored = {row["key"]: row for row in before}
    filled = {row["key"]: row for row in fill_reach_rows([dict(r) for r in before], evaluated, config)}
    count = 0
    for row in typed:
        key = row.get("key") or reach_key(row, config)
        if key not in stored:
            count += bool(row.get("date")) or any(row.get(n) not in (None, "") for n in TRACKING_NUMBERS)
            continue
        count += any(not _same_number(row.get(n), stored[key].get(n)) and
                     not _same_number(row.get(n), filled[key].get(n)) for n in TRACKING_NUMBERS)
    return count


def _evaluate(store: HistoryStore | None, result: TagResult) -> pd.DataFrame:
    if store is None:
        return evaluate(pd.DataFrame(), pd.DataFrame(), pd.DataFrame())
    users = result.users.frame[["user_id", "last_active_date"]]
    return evaluate(store.campaigns(), store.campaign_users(), users)


def _write(result: TagResult, last: Path | None, output: Path, store: HistoryStore | None, progress: Progress,
           reach_keys: list[str]) -> RefreshOutcome:
    """Back up the last workbook, then the write step (to another name while Excel holds the target)."""
    saved = backup(last) if last is not None and last.exists() and last.resolve() != output.resolve() else None
    target, kept_as = output, None
    owner = lock_owner(output)
    if owner is not None:
        target = kept_as = sibling_name(output)
        who = TEXT("by_user", user=owner[1]) if owner[1] else TEXT("someone")
        result = replace(result, warnings=[*result.warnings, TEXT("locked", path=output.name, who=who,
                                                                  lock=owner[0].name, kept=target)])
    return RefreshOutcome(write_step(result, target, store, progress, reach_keys), saved, kept_as)


# --------------------------------------------------------------------------- --auto


def newest(folder: Path, *, workbooks: bool) -> Path | None:
    """Newest export (or newest tagged workbook) in ``folder``; Excel owner files and temp files skipped."""
    def wanted(p: Path) -> bool:
        if not p.is_file() or p.name.startswith(("~$", ".")) or p.suffix.lower() not in EXPORT_SUFFIXES:
            return False
        tagged = p.stem.endswith(TAGGED_SUFFIX) or SIBLING_MARK in p.stem
        return tagged if workbooks else not tagged

    candidates = [p for p in folder.iterdir() if wanted(p)]
    return max(candidates, key=lambda p: (p.stat().st_mtime, p.name)) if candidates else None


def auto_inputs(folder: Path) -> tuple[Path, Path | None]:
    """(newest export, newest tagged workbook) of a folder, for cron."""
    export = newest(folder, workbooks=False)
    if export is None:
        raise InputError(TEXT("no_export", folder=folder))
    return export, newest(folder, workbooks=True)


@contextmanager
def run_lock(path: Path) -> Iterator[Path]:
    """Hold an exclusive ``fcntl.flock`` on ``path`` for the run; a second run fails at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            _lock_exclusive(handle.fileno())
        except OSError:
            raise RefreshBusy(TEXT("busy", lock=path)) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield path


def _lock_exclusive(fd: int) -> None:
    """Non-blocking exclusive lock: ``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        return
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


class RefreshBusy(TaggerError):
    """Another refresh holds the lock."""

    exit_code = 3


__all__ = ["RefreshOptions", "RefreshOutcome", "LastWorkbook", "refresh", "read_last_workbook",
           "apply_overrides", "apply_stored_overrides", "previous_month", "workbook_month", "review_labels",
           "auto_inputs", "run_lock", "lock_owner", "RefreshBusy", "cell_text", "valid_labels", "read_usable_workbook"]
