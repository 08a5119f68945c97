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

A rule with ``variants`` is an A/B test: after the holdout is drawn, the rest of
the rule's users are split into the arms by a seeded hash of each user ID, so a
user lands in the same arm every time the same seed is used. Lists stay one per
channel; an arm column (实验组) says which arm each row is, and each arm is its own
campaign in history (the holdout is recorded once, with the first arm).

``--research N`` draws a seeded sample of N users of one group (default
无开车无APP活跃) for user research: written as its own list and stored in history,
so the next refresh workbook has a 用户调研 sheet to type each answer and reason in.
"""

from __future__ import annotations

import csv
import hashlib
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
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
from tagger.pipeline import Progress, TagOptions, TagResult, run_with_history
from tagger.rules import Rule, RuleSet, has_rules_setting, load_rules, playbook_rules, rule_frame, rule_masks
from tagger.segments import acting_tags
from tagger.segments import label as segment_label
from tagger.vocabulary import word

TEXT = Catalog(
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
        "too_much_holdout": {
            "zh": "规则 '{rule}' 的实验组 share 之和 {shares:g} 加 --holdout {holdout:g} 超过 1；请减小 --holdout，"
                  "或在规则中写 holdout = …",
            "en": "rule '{rule}': the arms' shares ({shares:g}) plus --holdout ({holdout:g}) exceed 1; lower "
                  "--holdout or give the rule its own holdout = …",
        },
        "bad_research": {"zh": "--research 必须是正整数（抽样人数），而不是 {value}",
                         "en": "--research must be a positive whole number of users, not {value}"},
        "bad_research_group": {"zh": "--research-group 的值 '{value}' 不是已知的分群；可用：{allowed}",
                               "en": "--research-group '{value}' is not a known group; known: {allowed}"},
        "research_list": {"zh": "调研", "en": "research"},
        "no_channel": {"zh": "未指定渠道", "en": "no channel"},
        "arm": word("arm"),
        "user_id": word("user_id"),
        "group": word("effective_group"),
        "preference": word("primary_preference"),
        "rule": word("rule"),
        "content": word("campaign"),
        "channel": word("channel"),
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
    research: int = 0  # draw this many users of ``research_group`` for user research
    research_group: str | None = None  # group key or label; None: the config's [research] group


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
    arm: str = ""  # the A/B arm ('' for a rule without variants)
    holdout_share: float = 0.0


@dataclass
class ContactsResult:
    result: TagResult
    lists: list[ContactList]
    campaigns: list[Campaign]
    out_dir: Path
    research: ContactList | None = None


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
        raise InputError(TEXT("bad_date", value=value)) from None


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


def _rule_seed(seed: int, rule: object) -> list[int]:
    """The seed of one rule's draws: the run's seed and the rule's name (the same rule draws the same)."""
    return [seed, zlib.crc32(str(rule).encode("utf-8"))]


def assign_holdout(picked: pd.DataFrame, share: float | Mapping[str, float], seed: int) -> pd.Series:
    """Mark ``round(share × n)`` of each rule's users as holdout, reproducibly for a given seed.

    ``share`` is one share for every rule, or a share per rule name (a rule's own
    ``holdout``). Users are sorted by ID first so the draw does not depend on row
    order in the export.
    """
    holdout = pd.Series(False, index=picked.index)
    for rule, part in picked.groupby("rule", sort=True):
        rate = share.get(str(rule), 0.0) if isinstance(share, Mapping) else share
        ordered = part.sort_values("user_id").index.to_numpy()
        k = int(round(rate * len(ordered)))
        if k:
            rng = np.random.default_rng(_rule_seed(seed, rule))
            holdout.loc[rng.choice(ordered, size=k, replace=False)] = True
    return holdout


def user_draw_key(user_id: object, rule: object, seed: int) -> int:
    """A user's place in a rule's arm draw: a hash of (seed, rule, user ID), the same on every run."""
    text = f"{seed}|{zlib.crc32(str(rule).encode('utf-8'))}|{user_id}".encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def arm_bounds(rule: Rule, holdout: float) -> list[float]:
    """Upper bounds of each arm on the [0, 1) draw of a non-holdout user.

    Shares are of all the rule's users; the holdout takes ``holdout`` of them
    first, so among the rest arm *i* takes ``share_i / (1 − holdout)``. A draw past
    the last bound is a user the shares leave out of the send.
    """
    rest = 1 - holdout
    bounds, total = [], 0.0
    for arm in rule.variants:
        total += arm.share / rest if rest > 0 else 0.0
        bounds.append(min(total, 1.0))
    if bounds and sum(a.share for a in rule.variants) + holdout >= 1 - 1e-9:
        bounds[-1] = 1.0  # shares and holdout cover everyone: nobody falls out through rounding
    return bounds


def assign_arms(picked: pd.DataFrame, ruleset: RuleSet, seed: int,
                holdout: Mapping[str, float] | None = None) -> pd.Series:
    """The arm of each picked row: '' for a rule without variants and for the holdout, None for users
    the arms' shares leave out of the send.

    A non-holdout user's arm depends on :func:`user_draw_key` (their ID, the rule
    and the seed) only, never on the export's row order or on the other users, so
    the same user is in the same arm on every send of the rule with that seed.
    """
    arms = pd.Series("", index=picked.index, dtype=object)
    by_name = {r.name: r for r in ruleset.rules}
    for rule_name, part in picked.groupby("rule", sort=True):
        rule = by_name.get(str(rule_name))
        if rule is None or not rule.variants:
            continue
        sent = part[~part["holdout"]]
        draws = np.array([user_draw_key(u, rule_name, seed) / 2 ** 64 for u in sent["user_id"]], dtype=float)
        bounds = arm_bounds(rule, (holdout or {}).get(str(rule_name), 0.0))
        slot = np.searchsorted(np.array(bounds), draws, side="right")
        names = np.array([a.name for a in rule.variants] + [None], dtype=object)
        arms.loc[sent.index] = names[slot]
    return arms


def _arm_actions(picked: pd.DataFrame, ruleset: RuleSet) -> pd.DataFrame:
    """Each row's channel and content from its arm (rows of rules without arms keep the rule's)."""
    actions = {(r.name, v.name): (v.channel, v.content) for r in ruleset.rules for v in r.variants}
    out = picked.copy()
    for (rule, arm), (channel, content) in actions.items():
        hit = (out["rule"] == rule) & (out["arm"] == arm)
        out.loc[hit, "channel"] = channel
        out.loc[hit, "content"] = content
    return out


def build_campaigns(picked: pd.DataFrame, ruleset: RuleSet, day: str, lang: str,
                    shares: Mapping[str, float] | None = None) -> list[Campaign]:
    """Group the picked users into campaigns: one per (rule, group), or per (rule, group, arm) for an A/B test.

    A test's holdout is recorded once, with the first arm that has users in the
    group, so the control group is never counted twice when campaigns are summed.
    """
    by_name = {r.name: r for r in ruleset.rules}
    if "arm" not in picked:
        picked = picked.assign(arm="")
    campaigns = []
    for (rule, group), part in picked.groupby(["rule", "group"], sort=False):
        spec = by_name[str(rule)]
        held = part.loc[part["holdout"], "user_id"].astype(str).tolist()
        share = (shares or {}).get(str(rule), 0.0)
        if not spec.variants:
            campaigns.append(Campaign(
                date=day, rule=str(rule), group=str(group), channel=spec.channel,
                channel_label=spec.channel_text(lang) or TEXT("no_channel"), content=spec.content,
                contacted=part.loc[~part["holdout"], "user_id"].astype(str).tolist(), holdout=held,
                holdout_share=share))
            continue
        for arm in spec.variants:
            contacted = part.loc[part["arm"] == arm.name, "user_id"].astype(str).tolist()
            if not contacted and not held:
                continue
            campaigns.append(Campaign(
                date=day, rule=str(rule), group=str(group), channel=arm.channel,
                channel_label=arm.channel_text(lang) or TEXT("no_channel"), content=arm.content,
                contacted=contacted, holdout=held, arm=arm.name, holdout_share=share))
            held = []
    return campaigns


def _contact_columns(result: TagResult) -> list[tuple[str, pd.Series]]:
    """Export columns a sending tool needs: the ID's original header, then phone/nickname-like columns."""
    raw = result.table.frame
    mapping = result.users.mapping
    columns = [(mapping.get("user_id", TEXT("user_id")), result.users.frame["user_id"])]
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
    data[TEXT("group")] = sent["group"].map(groups).to_numpy()
    data[TEXT("preference")] = result.tags["primary"].to_numpy()[positions]
    data[TEXT("rule")] = sent["rule"].to_numpy()
    if "arm" in sent and (sent["arm"] != "").any():
        data[TEXT("arm")] = sent["arm"].to_numpy()
    data[TEXT("content")] = sent["content"].to_numpy()
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
    with atomic_output(path) as temp, temp.open("w", encoding="utf-8-sig", newline="") as handle:
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


def record(store: HistoryStore, campaigns: list[Campaign], month: str, seed: int, config: Config) -> None:
    """Store each campaign and add (or update) its 触达跟踪 row in the history database."""
    rows: dict[str, dict[str, object]] = {}
    targeted: dict[str, int] = {}  # users contacted per 触达跟踪 row, summed over its campaigns
    for c in campaigns:
        users = pd.DataFrame({"user_id": [*c.contacted, *c.holdout],
                              "holdout": [False] * len(c.contacted) + [True] * len(c.holdout)})
        c.id = store.add_campaign(date=c.date, month=month, rule=c.rule, group=c.group, channel=c.channel,
                                  content=c.content, users=users, holdout_share=c.holdout_share, seed=seed,
                                  arm=c.arm)
        row = {"date": c.date, "group": segment_label(c.group), "channel": c.channel_label, "content": c.content}
        key = reach_key(row, config)
        rows.setdefault(key, {**row, "key": key})
        targeted[key] = targeted.get(key, 0) + len(c.contacted)
    if rows:
        store.save_tracking([{**row, "targeted": targeted[key]} for key, row in rows.items()], source=CONTACTS_SOURCE)


def contact_rules(result: TagResult, lang: str) -> RuleSet:
    """The config's rules; the playbook when the config says nothing about rules (an older template).

    ``rules = []`` is an explicit "no rules", so it stops instead of falling back.
    """
    ruleset = load_rules(result.config)
    if not ruleset and not has_rules_setting(result.config):
        ruleset = playbook_rules(result.config, lang)
        result.warnings.append(TEXT("from_playbook"))
    if not ruleset:
        raise InputError(TEXT("no_rules"))
    return ruleset


def make_contacts(options: ContactOptions, progress: Progress | None = None) -> ContactsResult:
    """Tag the export, pick users by rule, write the lists and record the campaigns."""
    if not 0 <= options.holdout <= 90:
        raise InputError(TEXT("bad_holdout", value=options.holdout))
    if isinstance(options.research, bool) or not isinstance(options.research, int) or options.research < 0:
        raise InputError(TEXT("bad_research", value=options.research))
    day = parse_day(options.date)
    # The lists speak the run's language; the campaigns go into the history the run read, over its connection.
    with run_with_history(options.tag, progress) as (result, store):
        lang = result.lang
        ruleset = contact_rules(result, lang)
        wanted = research_group(result.config, options.research_group) if options.research else ""
        picked = picked_users(result, ruleset)
        shares = holdout_shares(ruleset, options.holdout / 100)
        picked["holdout"] = assign_holdout(picked, shares, options.seed)
        picked["arm"] = assign_arms(picked, ruleset, options.seed, shares)
        picked = _arm_actions(picked[picked["arm"].notna()], ruleset)
        campaigns = build_campaigns(picked, ruleset, day, lang, shares)
        out_dir = options.out_dir or options.tag.export.parent / f"contacts_{day}"
        lists = write_lists(contact_table(result, picked, lang), campaigns, out_dir, day, options.formats)
        research = None
        if options.research:
            sample = research_sample(result, options.research, wanted, options.seed)
            research = write_research(result, sample, out_dir, day, options.formats, lang)
            if store is not None and options.record:
                store.save_research_sample(result.month, sample, drawn=day, seed=options.seed)
        if store is not None and options.record:
            record(store, campaigns, result.month, options.seed, result.config)
        return ContactsResult(result, lists, campaigns, out_dir, research)


def holdout_shares(ruleset: RuleSet, default: float) -> dict[str, float]:
    """Each rule's holdout share: its own ``holdout``, else the run's; refused where the arms leave no room."""
    shares = {}
    for rule in ruleset.rules:
        share = default if rule.holdout is None else rule.holdout
        arms = sum(v.share for v in rule.variants)
        if rule.variants and arms + share > 1 + 1e-9:
            raise InputError(TEXT("too_much_holdout", rule=rule.name, shares=round(arms, 6),
                                  holdout=round(share, 6)))
        shares[rule.name] = share
    return shares


# --------------------------------------------------------------------------- user research


def research_group(config: Config, wanted: str | None) -> str:
    """The group key to sample for research: ``--research-group`` (key or label), else ``[research] group``."""
    from tagger.campaigns import group_key
    from tagger.segments import GROUPS, SEGMENTS

    value = wanted if wanted is not None else config.research_group
    key = group_key(value)
    if key not in (*GROUPS, *SEGMENTS):
        allowed = ", ".join(f"{k} ({segment_label(k)})" for k in GROUPS)
        raise InputError(TEXT("bad_research_group", value=value, allowed=allowed))
    return key


def research_sample(result: TagResult, size: int, group: str, seed: int) -> pd.DataFrame:
    """A seeded sample of ``size`` users of ``group`` (effective group; segment keys work too): user_id, group.

    Users are sorted by ID before the draw, so the sample does not depend on row
    order; the same seed, month and group draw the same users. Fewer users than
    ``size`` are all taken.
    """
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise InputError(TEXT("bad_research", value=size))
    tags = acting_tags(result.tags)
    column = "segment" if group in tags["segment"].to_numpy() and group not in tags["group"].to_numpy() else "group"
    ids = result.users.frame["user_id"].astype(str)
    members = pd.DataFrame({"user_id": ids.to_numpy(), "group": tags["group"].to_numpy(),
                            "position": np.arange(len(ids))})[tags[column].to_numpy() == group]
    ordered = members.sort_values("user_id")
    take = min(size, len(ordered))
    rng = np.random.default_rng(_rule_seed(seed, f"research:{group}"))
    chosen = np.sort(rng.choice(len(ordered), size=take, replace=False)) if take else np.array([], dtype=int)
    return ordered.iloc[chosen].reset_index(drop=True)


def write_research(result: TagResult, sample: pd.DataFrame, out_dir: Path, day: str, formats: tuple[str, ...],
                   lang: str) -> ContactList:
    """The research sample as a list like the channel lists (ID, phone-like columns, group)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    positions = sample["position"].to_numpy(dtype=int)
    data: dict[str, object] = {header: series.to_numpy()[positions] for header, series in _contact_columns(result)}
    data[TEXT("group")] = [segment_label(g, lang) for g in sample["group"]]
    data[TEXT("preference")] = result.tags["primary"].to_numpy()[positions]
    table = pd.DataFrame(data)
    stem = f"{day}_{_safe_name(TEXT('research_list'))}"
    files = []
    if "xlsx" in formats:
        files.append(write_xlsx(table, out_dir / f"{stem}.xlsx"))
    if "csv" in formats:
        files.append(write_csv(table, out_dir / f"{stem}.csv"))
    return ContactList("research", TEXT("research_list"), len(table), files)


__all__ = ["ContactOptions", "ContactsResult", "ContactList", "Campaign", "make_contacts", "csv_safe",
           "picked_users", "assign_holdout", "assign_arms", "user_draw_key", "arm_bounds", "holdout_shares",
           "research_sample", "research_group", "write_csv", "write_xlsx"]
