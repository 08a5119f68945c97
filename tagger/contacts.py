"""Contact lists: who each rule picked, one file per channel, ready for the push/SMS/WeChat tools.

``tagger contacts`` tags an export, takes the users a rule fired for, and writes
one list per channel as xlsx and as UTF-8 csv (with a BOM, so Excel opens it in
the right encoding). User text in a csv is guarded against formula injection the
way OWASP recommends: a cell that starts with ``= + - @``, tab, CR or LF gets a
leading ``'``. The xlsx is written with ``strings_to_formulas=False`` and
``write_string``, so nothing in it is ever a formula.

Every send is recorded in the history database as a campaign (date, rule, group,
channel, content, user IDs) and as a 触达跟踪 row, so the next import can tell
which contacted users came back. An optional seeded holdout keeps X % of each
rule's users uncontacted as a control group (recorded too), which is what turns
"40 % came back" into "the push brought back 20 points more than doing nothing".
"""

from __future__ import annotations

import csv
import zlib
from dataclasses import dataclass, field, replace
from datetime import date as Date
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from tagger.campaigns import reach_key
from tagger.config import Config
from tagger.errors import InputError
from tagger.files import atomic_output
from tagger.history import HistoryStore
from tagger.i18n import Catalog
from tagger.overrides import apply_stored_overrides
from tagger.pipeline import Progress, TagOptions, TagResult, run
from tagger.rules import RuleSet, has_rules_setting, load_rules, playbook_rules, rule_frame, rule_masks
from tagger.segments import acting_tags
from tagger.segments import label as segment_label

MESSAGES = Catalog(
    "contacts",
    {
        "bad_holdout": {
            "zh": "--holdout 必须是 0 到 90 之间的百分比，而不是 {value}",
            "en": "--holdout must be a percentage from 0 to 90, not {value}",
        },
        "bad_date": {"zh": "--date 的值 '{value}' 不是日期，请写成 2024-07-15",
                     "en": "--date '{value}' is not a date; write it as 2024-07-15"},
        "no_rules": {
            "zh": "配置中的 [[rules]] 为空（rules = []），无法生成触达名单；请在 tagger.toml 中写规则或删去 rules = []",
            "en": "the config's [[rules]] are empty (rules = []), so nobody is picked; add rules to tagger.toml "
                  "or remove rules = []",
        },
        "from_playbook": {
            "zh": "配置中没有 [[rules]]：名单按 [[playbook]] 生成（每个分群的建议渠道与内容）",
            "en": "the config has no [[rules]]: the lists follow the [[playbook]] (each group's suggested channel "
                  "and content)",
        },
        "no_channel": {"zh": "未指定渠道", "en": "no channel"},
        "user_id": {"zh": "用户ID", "en": "User ID"},
        "group": {"zh": "生效分群（人工优先）", "en": "Effective group (manual first)"},
        "preference": {"zh": "主偏好", "en": "Primary preference"},
        "rule": {"zh": "规则", "en": "Rule"},
        "content": {"zh": "活动/内容", "en": "Campaign / content"},
        "channel": {"zh": "渠道", "en": "Channel"},
    },
)

# Export columns worth handing to a sending tool when present (besides the user ID).
CONTACT_FIELDS = ("user_key", "nickname")
CONTACT_HEADERS = ("手机号", "手机", "电话", "phone", "mobile", "openid", "unionid", "邮箱", "email")
CONTACTS_SOURCE = "tagger contacts"  # how 触达跟踪 rows recorded here are marked in history
CSV_DANGEROUS = ("=", "+", "-", "@", "\t", "\r", "\n")
XLSX_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


@dataclass
class ContactOptions:
    """What ``tagger contacts`` takes besides the tagging options."""

    tag: TagOptions
    out_dir: Path | None = None
    holdout: float = 0.0  # percent of each rule's users kept as a control group
    seed: int = 20240501
    date: str | None = None
    formats: tuple[str, ...] = ("xlsx", "csv")
    record: bool = True


@dataclass
class ContactList:
    """One channel's list and where it was written."""

    channel: str
    label: str
    users: int
    files: list[Path] = field(default_factory=list)


@dataclass
class Campaign:
    """One send: a rule's users in one group through one channel, plus its control group."""

    date: str
    rule: str
    group: str
    channel: str
    channel_label: str
    content: str
    contacted: list[str]
    holdout: list[str]
    id: int | None = None


@dataclass
class ContactsResult:
    result: TagResult
    lists: list[ContactList]
    campaigns: list[Campaign]
    out_dir: Path


def csv_safe(value: object) -> str:
    """Text for a csv cell that a spreadsheet will not run as a formula (OWASP CSV injection).

    >>> [csv_safe(v) for v in ["=1+1", "+86 138", "-2", "@SUM(A1)", "\\tx", "ok", 12]]
    ["'=1+1", "'+86 138", "'-2", "'@SUM(A1)", "'\\tx", 'ok', '12']
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    text = str(value)
    return "'" + text if text.startswith(CSV_DANGEROUS) else text


def parse_day(value: str | None) -> str:
    """``--date`` as ``YYYY-MM-DD`` (today when not given)."""
    if not value:
        return Date.today().isoformat()
    try:
        return Date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise InputError(MESSAGES("bad_date", value=value)) from None


def picked_users(result: TagResult, ruleset: RuleSet) -> pd.DataFrame:
    """One row per (user, rule) the rules picked: position, user_id, rule, group, channel, content.

    In ``first`` mode a user appears once (the rule shown on the Users sheet); in
    ``all`` mode once per matching rule. Uses the effective group (manual
    overrides win) when the tags carry one.
    """
    tags = result.tags.drop(columns=[c for c in ("rule", "channel", "channel_key", "content") if c in result.tags])
    tags = acting_tags(tags)
    matrix = rule_masks(rule_frame(result.users.frame, tags, result.table.frame), ruleset).to_numpy(dtype=bool)
    if ruleset.match == "first":
        matrix = matrix & (np.cumsum(matrix, axis=1) == 1)
    rows, cols = np.nonzero(matrix)
    rules = ruleset.rules
    return pd.DataFrame({
        "position": rows,
        "user_id": result.users.frame["user_id"].to_numpy()[rows],
        "rule": np.array([r.name for r in rules], dtype=object)[cols] if len(rules) else [],
        "group": tags["group"].to_numpy()[rows],
        "channel": np.array([r.channel for r in rules], dtype=object)[cols] if len(rules) else [],
        "content": np.array([r.content for r in rules], dtype=object)[cols] if len(rules) else [],
    })


def assign_holdout(picked: pd.DataFrame, share: float, seed: int) -> pd.Series:
    """Mark ``round(share × n)`` of each rule's users as holdout, reproducibly for a given seed.

    Users are sorted by ID first so the draw does not depend on row order in the export.
    """
    holdout = pd.Series(False, index=picked.index)
    if share <= 0:
        return holdout
    for rule, part in picked.groupby("rule", sort=True):
        ordered = part.sort_values("user_id").index.to_numpy()
        k = int(round(share * len(ordered)))
        if k:
            rng = np.random.default_rng([seed, zlib.crc32(str(rule).encode("utf-8"))])
            holdout.loc[rng.choice(ordered, size=k, replace=False)] = True
    return holdout


def build_campaigns(picked: pd.DataFrame, ruleset: RuleSet, day: str, lang: str) -> list[Campaign]:
    """Group the picked users into campaigns: one per (rule, group)."""
    by_name = {r.name: r for r in ruleset.rules}
    campaigns = []
    for (rule, group), part in picked.groupby(["rule", "group"], sort=False):
        spec = by_name[str(rule)]
        campaigns.append(Campaign(
            date=day, rule=str(rule), group=str(group), channel=spec.channel,
            channel_label=spec.channel_text(lang) or MESSAGES("no_channel"), content=spec.content,
            contacted=part.loc[~part["holdout"], "user_id"].astype(str).tolist(),
            holdout=part.loc[part["holdout"], "user_id"].astype(str).tolist()))
    return campaigns


def _contact_columns(result: TagResult) -> list[tuple[str, pd.Series]]:
    """Export columns a sending tool needs: the ID's original header, then phone/nickname-like columns."""
    raw = result.table.frame
    mapping = result.users.mapping
    columns = [(mapping.get("user_id", MESSAGES("user_id")), result.users.frame["user_id"])]
    wanted = [mapping[f] for f in CONTACT_FIELDS if f in mapping]
    wanted += [h for h in raw.columns if str(h).strip().casefold() in {c.casefold() for c in CONTACT_HEADERS}]
    for header in dict.fromkeys(wanted):
        columns.append((str(header), raw[header]))
    return columns


def contact_table(result: TagResult, picked: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The rows of the contact lists (holdout users left out), with display labels."""
    sent = picked[~picked["holdout"]]
    positions = sent["position"].to_numpy()
    data: dict[str, object] = {}
    for header, series in _contact_columns(result):
        data[header] = series.to_numpy()[positions]
    groups = {key: segment_label(key, lang) for key in sent["group"].unique()}
    data[MESSAGES("group")] = sent["group"].map(groups).to_numpy()
    data[MESSAGES("preference")] = result.tags["primary"].to_numpy()[positions]
    data[MESSAGES("rule")] = sent["rule"].to_numpy()
    data[MESSAGES("content")] = sent["content"].to_numpy()
    table = pd.DataFrame(data)
    table["__channel__"] = sent["channel"].to_numpy()
    return table


def write_xlsx(table: pd.DataFrame, path: Path) -> Path:
    """One list as xlsx: every cell text (IDs keep their digits; nothing becomes a formula or link)."""
    with atomic_output(path) as temp:
        workbook = xlsxwriter.Workbook(str(temp), XLSX_OPTIONS)
        sheet = workbook.add_worksheet("contacts")
        header = workbook.add_format({"bold": True})
        text = workbook.add_format({"num_format": "@"})
        for col, name in enumerate(table.columns):
            sheet.write_string(0, col, str(name), header)
            sheet.set_column(col, col, max(12, min(40, len(str(name)) * 2 + 2)))
        for col, values in enumerate(table.T.to_numpy()):
            for row, value in enumerate(values, start=1):
                cell = "" if value is None or value is pd.NA or (
                    isinstance(value, float) and np.isnan(value)) else str(value)
                if cell:
                    sheet.write_string(row, col, cell, text)
        sheet.freeze_panes(1, 0)
        workbook.close()
    return path


def write_csv(table: pd.DataFrame, path: Path) -> Path:
    """One list as UTF-8 csv with BOM; text that a spreadsheet would run is prefixed with ``'``."""
    with atomic_output(path) as temp:
        with temp.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([csv_safe(c) for c in table.columns])
            for values in table.itertuples(index=False, name=None):
                writer.writerow([csv_safe(v) for v in values])
    return path


def _safe_name(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text) or "channel"


def write_lists(table: pd.DataFrame, campaigns: list[Campaign], out_dir: Path, day: str,
                formats: tuple[str, ...]) -> list[ContactList]:
    """One file per channel and format under ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    labels = {c.channel: c.channel_label for c in campaigns}
    lists = []
    for channel, part in table.groupby("__channel__", sort=True):
        rows = part.drop(columns="__channel__")
        stem = f"{day}_{_safe_name(str(channel) or 'none')}"
        files = []
        if "xlsx" in formats:
            files.append(write_xlsx(rows, out_dir / f"{stem}.xlsx"))
        if "csv" in formats:
            files.append(write_csv(rows, out_dir / f"{stem}.csv"))
        lists.append(ContactList(str(channel), labels.get(str(channel), str(channel)), len(rows), files))
    return lists


def record(store: HistoryStore, campaigns: list[Campaign], month: str, share: float, seed: int,
           config: Config) -> None:
    """Store each campaign and add (or update) its 触达跟踪 row in the history database."""
    rows: dict[str, dict[str, object]] = {}
    for c in campaigns:
        users = pd.DataFrame({"user_id": [*c.contacted, *c.holdout],
                              "holdout": [False] * len(c.contacted) + [True] * len(c.holdout)})
        c.id = store.add_campaign(date=c.date, month=month, rule=c.rule, group=c.group, channel=c.channel,
                                  content=c.content, users=users, holdout_share=share, seed=seed)
        row = {"date": c.date, "group": segment_label(c.group), "channel": c.channel_label, "content": c.content}
        key = reach_key(row, config)
        entry = rows.setdefault(key, {**row, "key": key, "targeted": 0})
        entry["targeted"] = int(entry["targeted"]) + len(c.contacted)  # type: ignore[call-overload]
    if rows:
        store.save_tracking(rows.values(), source=CONTACTS_SOURCE)


def contact_rules(result: TagResult, lang: str) -> RuleSet:
    """The config's rules; the playbook when the config says nothing about rules (an older template).

    ``rules = []`` is an explicit "no rules", so it stops instead of falling back.
    """
    ruleset = load_rules(result.config)
    if not ruleset and not has_rules_setting(result.config):
        ruleset = playbook_rules(result.config, lang)
        result.warnings.append(MESSAGES("from_playbook"))
    if not ruleset:
        raise InputError(MESSAGES("no_rules"))
    return ruleset


def make_contacts(options: ContactOptions, progress: Progress | None = None) -> ContactsResult:
    """Tag the export, pick users by rule, write the lists and record the campaigns."""
    if not 0 <= options.holdout <= 90:
        raise InputError(MESSAGES("bad_holdout", value=options.holdout))
    day = parse_day(options.date)
    result = run(replace(options.tag, write=False), progress)
    lang = options.tag.lang or result.config.language
    ruleset = contact_rules(result, lang)
    store = HistoryStore(result.history_path) if result.history_path else None
    try:
        if store is not None:
            apply_stored_overrides(result, store)
        picked = picked_users(result, ruleset)
        share = options.holdout / 100
        picked["holdout"] = assign_holdout(picked, share, options.seed)
        campaigns = build_campaigns(picked, ruleset, day, lang)
        out_dir = options.out_dir or options.tag.export.parent / f"contacts_{day}"
        lists = write_lists(contact_table(result, picked, lang), campaigns, out_dir, day, options.formats)
        if store is not None and options.record:
            record(store, campaigns, result.month, share, options.seed, result.config)
    finally:
        if store is not None:
            store.close()
    return ContactsResult(result, lists, campaigns, out_dir)


__all__ = ["ContactOptions", "ContactsResult", "ContactList", "Campaign", "make_contacts", "csv_safe",
           "picked_users", "assign_holdout", "write_csv", "write_xlsx"]
