"""Closing the loop: did the users we contacted come back, and did contacting them make a difference?

For every campaign recorded by ``tagger contacts``, a later export tells who is
active again: a contacted user counts as back (回访活跃) when their last activity
in the new export is on or after the campaign date. A user missing from the new
export counts as not back. Rates are then summed per channel, group, rule and
content.

With a holdout (control group), the lift is the difference of the two
proportions, back-rate(contacted) − back-rate(holdout). Its interval is
Newcombe's hybrid score interval (Newcombe 1998, method 10), built from the
Wilson score interval of each rate::

    wilson(p, n) = (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)
    low  = d − sqrt((p1 − l1)² + (u0 − p0)²)
    high = d + sqrt((u1 − p1)² + (p0 − l0)²)

Unlike the Wald interval (p ± z·se), it stays inside [−1, 1] and does not
collapse to a point when a rate is 0 or 1 (a 13/13 holdout). Below
``MIN_GROUP`` users in either arm the review still says 样本太小 rather than
give a verdict: the interval is honest, but too wide to act on.

An A/B test (a rule with ``variants``) is one campaign per arm. The review
compares each arm with the rule's holdout and every pair of arms with each
other, with the same Newcombe interval, and gives the users per arm a test needs
to detect a lift of ``[review] min_lift`` at 95 % confidence and 80 % power
(:func:`sample_size`, the normal-approximation formula for two proportions).

The 复盘 review also needs what ops did to the tags: the share of computed
groups ops overrode by hand (tag accuracy), and the costs they typed into
触达跟踪 (cost per reactivated user per channel).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np
import pandas as pd

from tagger.config import Config
from tagger.history import TRACKING_NUMBERS
from tagger.i18n import LANGUAGES
from tagger.segments import GROUPS, SEGMENTS, UNSPLIT
from tagger.segments import label as segment_label

CONFIDENCE = 0.95
MIN_GROUP = 30  # below this many users in either arm the review says 样本太小 instead of a verdict
BREAKDOWNS = ("channel", "group", "rule", "content")


@dataclass(frozen=True)
class Lift:
    """Difference of two proportions and its confidence interval."""

    lift: float
    low: float
    high: float
    confidence: float = CONFIDENCE


def wald_lift(back: int, contacted: int, control_back: int, control: int,
              confidence: float = CONFIDENCE) -> Lift | None:
    """Lift of the contacted group's back-rate over the holdout's, with a Wald interval.

    >>> l = wald_lift(40, 100, 20, 100)
    >>> round(l.lift, 4), round(l.low, 4), round(l.high, 4)
    (0.2, 0.076, 0.324)
    """
    if contacted <= 0 or control <= 0:
        return None
    p1, p0 = back / contacted, control_back / control
    se = float(np.sqrt(p1 * (1 - p1) / contacted + p0 * (1 - p0) / control))
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    lift = p1 - p0
    return Lift(lift, lift - z * se, lift + z * se, confidence)


def _z(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson(successes: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float] | None:
    """Wilson score interval of a proportion: sensible at 0/n, n/n and small n, where Wald collapses.

    >>> low, high = wilson(81, 263)  # Newcombe 1998 (single proportion), example (a)
    >>> round(low, 4), round(high, 4)
    (0.2553, 0.3662)
    """
    if n <= 0:
        return None
    z, p = _z(confidence), successes / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    scale = 1 + z * z / n
    return max(0.0, (centre - spread) / scale), min(1.0, (centre + spread) / scale)


def newcombe_lift(back: int, contacted: int, control_back: int, control: int,
                  confidence: float = CONFIDENCE) -> Lift | None:
    """Lift over the holdout with Newcombe's hybrid score interval (method 10), safe at small counts.

    >>> l = newcombe_lift(56, 70, 48, 80)  # Newcombe 1998, Table II, example (a)
    >>> round(l.lift, 4), round(l.low, 4), round(l.high, 4)
    (0.2, 0.0524, 0.3339)
    """
    first, second = wilson(back, contacted, confidence), wilson(control_back, control, confidence)
    if first is None or second is None:
        return None
    p1, p0 = back / contacted, control_back / control
    (l1, u1), (l0, u0) = first, second
    lift = p1 - p0
    low = lift - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    high = lift + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    return Lift(lift, low, high, confidence)


# --------------------------------------------------------------------------- 触达跟踪 row identity


def _spellings(keys: Sequence[str]) -> dict[str, str]:
    return {text.casefold(): key for key in keys for text in (key, *(segment_label(key, lang) for lang in LANGUAGES))}


_GROUP_SPELLINGS = _spellings((*GROUPS, *SEGMENTS, UNSPLIT))


def group_key(text: object) -> str:
    """Group key for a label typed in either language (``休眠用户`` → ``dormant``); other text as typed."""
    value = str(text or "").strip()
    return _GROUP_SPELLINGS.get(value.casefold(), value)


def channel_key(text: object, config: Config) -> str:
    """Channel key for a channel label in either language; other text as typed."""
    value = str(text or "").strip()
    for channel in config.channels:
        if value.casefold() in {channel.key.casefold(), *(t.casefold() for t in channel.labels.values())}:
            return channel.key
    return value


def day_text(value: object) -> str:
    """A date cell as ``YYYY-MM-DD`` (text that is not a date is kept, trimmed)."""
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value or "").strip()
    try:
        return pd.Timestamp(text).strftime("%Y-%m-%d") if text else ""
    except (ValueError, TypeError):
        return text


def reach_key(row: Mapping[str, object], config: Config) -> str:
    """Identity of a 触达跟踪 row: (date, group, channel, content), whatever language it was typed in."""
    return "|".join((day_text(row.get("date")), group_key(row.get("group")).casefold(),
                     channel_key(row.get("channel"), config).casefold(), str(row.get("content") or "").strip()))


# --------------------------------------------------------------------------- evaluation


def evaluate(campaigns: pd.DataFrame, members: pd.DataFrame, users: pd.DataFrame) -> pd.DataFrame:
    """Per campaign: contacted, back, rate, holdout, holdout_back, holdout_rate, lift, low, high.

    ``users`` is the new export (user_id, last_active_date). Campaigns dated after
    the export's latest activity cannot be judged yet and are left out.
    """
    columns = ["id", "date", "rule", "group", "channel", "content", "arm", "contacted", "back", "rate", "holdout",
               "holdout_back", "holdout_rate", "lift", "low", "high"]
    if campaigns.empty or users.empty:
        return pd.DataFrame(columns=columns)
    if "arm" not in campaigns:
        campaigns = campaigns.assign(arm="")
    as_of = users["last_active_date"].max()
    dated = campaigns.assign(start=pd.to_datetime(campaigns["date"]))
    dated = dated[dated["start"] <= as_of]
    last = users.drop_duplicates("user_id").set_index("user_id")["last_active_date"]
    joined = members.merge(dated[["id", "start"]], left_on="campaign_id", right_on="id")
    joined["back"] = (joined["user_id"].map(last) >= joined["start"]).fillna(False).astype(int)
    counts = joined.groupby(["campaign_id", "holdout"])["back"].agg(["size", "sum"]).unstack("holdout", fill_value=0)
    get = lambda stat, arm: counts[(stat, arm)] if (stat, arm) in counts.columns else 0  # noqa: E731
    table = dated.set_index("id")[["date", "rule", "group", "channel", "content", "arm"]].copy()
    table["arm"] = table["arm"].fillna("").astype(str)
    table["contacted"] = get("size", False)
    table["back"] = get("sum", False)
    table["holdout"] = get("size", True)
    table["holdout_back"] = get("sum", True)
    table = table.fillna({"contacted": 0, "back": 0, "holdout": 0, "holdout_back": 0})
    return _with_rates(table.reset_index(), columns)


def _with_rates(table: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    for c in ("contacted", "back", "holdout", "holdout_back"):
        table[c] = table[c].astype(int)
    table["rate"] = np.where(table["contacted"] > 0, table["back"] / table["contacted"].where(
        table["contacted"] > 0, 1), np.nan)
    table["holdout_rate"] = np.where(table["holdout"] > 0, table["holdout_back"] / table["holdout"].where(
        table["holdout"] > 0, 1), np.nan)
    lifts = [newcombe_lift(b, n, hb, h) for b, n, hb, h in
             zip(table["back"], table["contacted"], table["holdout_back"], table["holdout"], strict=True)]
    table["lift"] = [x.lift if x else np.nan for x in lifts]
    table["low"] = [x.low if x else np.nan for x in lifts]
    table["high"] = [x.high if x else np.nan for x in lifts]
    return table[columns] if columns else table


def breakdown(evaluated: pd.DataFrame, by: str) -> pd.DataFrame:
    """Sums and rates of evaluated campaigns per ``by`` (channel, group, rule or content)."""
    if evaluated.empty:
        return pd.DataFrame(columns=[by, "campaigns", "contacted", "back", "rate", "holdout", "holdout_back",
                                     "holdout_rate", "lift", "low", "high"])
    sums = evaluated.groupby(by, sort=True).agg(
        campaigns=("id", "size"), contacted=("contacted", "sum"), back=("back", "sum"),
        holdout=("holdout", "sum"), holdout_back=("holdout_back", "sum")).reset_index()
    return _with_rates(sums)


# --------------------------------------------------------------------------- A/B tests

POWER = 0.80
AB_COLUMNS = ["rule", "arm", "other", "contacted", "back", "rate", "other_n", "other_back", "other_rate", "diff",
              "low", "high", "needed"]


def sample_size(baseline: float, lift: float, confidence: float = CONFIDENCE, power: float = POWER) -> int | None:
    """Users per arm to detect ``lift`` over a back-rate of ``baseline`` (two-sided test of two proportions).

    n = (z₁₋α/₂·√(2·p̄(1−p̄)) + z₁₋β·√(p₁(1−p₁) + p₂(1−p₂)))² / δ², p₂ = p₁ + δ, p̄ = (p₁ + p₂) / 2
    (Fleiss, without continuity correction). None when p₁ + δ passes 1.

    >>> sample_size(0.20, 0.05)  # 20 % against 25 %
    1094
    """
    p1, p2 = baseline, baseline + lift
    if lift <= 0 or not p1 >= 0 or p2 > 1:
        return None
    mean = (p1 + p2) / 2
    z_a, z_b = _z(confidence), NormalDist().inv_cdf(power)
    root = z_a * math.sqrt(2 * mean * (1 - mean)) + z_b * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return math.ceil(round(root * root / (lift * lift), 9))


def _arm_row(rule: str, arm: str, other: str, a: tuple[int, int], b: tuple[int, int],
             needed: int | None) -> dict[str, object]:
    (n1, x1), (n0, x0) = a, b
    found = newcombe_lift(x1, n1, x0, n0)
    return {"rule": rule, "arm": arm, "other": other, "contacted": n1, "back": x1,
            "rate": x1 / n1 if n1 else np.nan, "other_n": n0, "other_back": x0, "other_rate": x0 / n0 if n0 else np.nan,
            "diff": found.lift if found else np.nan, "low": found.low if found else np.nan,
            "high": found.high if found else np.nan, "needed": needed}


def ab_tests(evaluated: pd.DataFrame, min_lift: float = 0.05) -> pd.DataFrame:
    """Each A/B rule's arms against its holdout (``other`` = '') and against each other (``other`` = an arm).

    Counts are summed over the rule's evaluated campaigns (every date and group).
    ``needed`` is :func:`sample_size` for ``min_lift`` over the baseline: the
    holdout's back-rate when the test has a holdout, else the arms' pooled rate.
    """
    if evaluated.empty or "arm" not in evaluated or not (evaluated["arm"] != "").any():
        return pd.DataFrame(columns=AB_COLUMNS)
    rows: list[dict[str, object]] = []
    tests = evaluated[evaluated["arm"] != ""]
    for rule, part in tests.groupby("rule", sort=True):
        arms = part.groupby("arm", sort=False)[["contacted", "back"]].sum()
        arms = arms.reindex(sorted(arms.index))
        held, held_back = int(part["holdout"].sum()), int(part["holdout_back"].sum())
        pooled = arms["back"].sum() / arms["contacted"].sum() if arms["contacted"].sum() else None
        baseline = held_back / held if held else pooled
        needed = sample_size(baseline, min_lift) if baseline is not None else None
        counts = {arm: (int(r["contacted"]), int(r["back"])) for arm, r in arms.iterrows()}
        for arm, pair in counts.items():
            rows.append(_arm_row(str(rule), str(arm), "", pair, (held, held_back), needed))
        names = list(counts)
        for i, first in enumerate(names):
            for second in names[i + 1:]:
                rows.append(_arm_row(str(rule), str(first), str(second), counts[first], counts[second], needed))
    return pd.DataFrame(rows, columns=AB_COLUMNS)


# --------------------------------------------------------------------------- 复盘 review


@dataclass
class Review:
    """Everything the 复盘 sheet shows: target, strategy effect, tag accuracy, channels, rules."""

    month: str
    active_rate: float | None
    target: float
    campaigns: pd.DataFrame
    by: dict[str, pd.DataFrame] = field(default_factory=dict)
    tag_accuracy: pd.DataFrame = field(default_factory=pd.DataFrame)
    overridden: int = 0
    users: int = 0
    channel_costs: pd.DataFrame = field(default_factory=pd.DataFrame)
    ledger: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=LEDGER_COLUMNS))
    stability: pd.DataFrame = field(default_factory=pd.DataFrame)
    at_risk: AtRiskCheck | None = None
    ab: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=AB_COLUMNS))
    min_lift: float = 0.05
    research: pd.DataFrame = field(default_factory=pd.DataFrame)  # the drawn users and their answers

    @property
    def achievement(self) -> float | None:
        """Active rate as a share of the target (1.0 = target met)."""
        return None if self.active_rate is None or not self.target else self.active_rate / self.target

    @property
    def override_share(self) -> float | None:
        """Share of users whose computed group ops overrode: the lower, the more accurate the tags."""
        return self.overridden / self.users if self.users else None


def tag_accuracy(computed: pd.Series, override: pd.Series) -> pd.DataFrame:
    """Per computed group: users, overridden (a manual label different from the computed one), share."""
    changed = (override != "") & (override != computed)
    table = pd.DataFrame({"group": computed, "changed": changed}).groupby("group", sort=False).agg(
        users=("changed", "size"), overridden=("changed", "sum")).reset_index()
    table["share"] = table["overridden"] / table["users"]
    return table.sort_values("group", key=lambda s: s.map({g: i for i, g in enumerate(GROUPS)})).reset_index(
        drop=True)


def channel_costs(reach_rows: Sequence[Mapping[str, object]], config: Config) -> pd.DataFrame:
    """Per channel from 触达跟踪: targeted, reactivated, cost, and cost per reactivated user."""
    if not reach_rows:
        return pd.DataFrame(columns=["channel", "targeted", "reactivated", "cost", "cost_per_user"])
    frame = pd.DataFrame([{"channel": channel_key(r.get("channel"), config) or str(r.get("channel") or ""),
                           **{k: pd.to_numeric(r.get(k), errors="coerce") for k in ("targeted", "reactivated",
                                                                                     "cost")}}
                          for r in reach_rows])
    table = frame.groupby("channel", sort=True)[["targeted", "reactivated", "cost"]].sum(min_count=1).reset_index()
    table["cost_per_user"] = table["cost"] / table["reactivated"].where(table["reactivated"] > 0)
    return table


def group_stability(pairs: Sequence[tuple[pd.DataFrame, pd.DataFrame]], overridden: pd.DataFrame) -> pd.DataFrame:
    """How well each group fits month to month: of a group's users in one month, how many were in it again.

    ``pairs`` are consecutive months (earlier, later) from history's month_users
    (user_id, group). A user counts as staying when the later month puts them in
    the same group (an unsplit active user who is active again stays); users
    missing from the later month count as not staying.
    ``overridden`` is :func:`tag_accuracy` of this month: manual labels that
    contradict the computed group, per group.
    """
    rows = []
    for earlier, later in pairs:
        after = later.drop_duplicates("user_id").set_index("user_id")["group"]
        before = earlier.drop_duplicates("user_id")
        later_group = before["user_id"].map(after)
        # 老用户活跃(上月状态未知) is active not split further; staying active next month is staying.
        same = (later_group == before["group"]) | ((before["group"] == UNSPLIT) & (later_group == "active"))
        rows.append(pd.DataFrame({"group": before["group"].to_numpy(), "stayed": same.to_numpy(),
                                  "next": later_group.fillna("").to_numpy()}))
    frame = pd.concat(rows) if rows else pd.DataFrame(
        {"group": pd.Series(dtype=object), "stayed": pd.Series(dtype=bool), "next": pd.Series(dtype=object)})
    table = frame.groupby("group").agg(users=("stayed", "size"), stayed=("stayed", "sum"))
    order = [*GROUPS, *sorted(set(table.index) - set(GROUPS))]
    table = table.reindex(order).fillna(0).astype(int)
    table["share"] = table["stayed"] / table["users"].where(table["users"] > 0)
    # Several groups are passages by definition (新用户 is 上月新用户 next month, 休眠 turns 唤醒 or 流失):
    # where most of a group went says more than a stability of 0 %.
    moves = frame[frame["next"] != ""].groupby(["group", "next"]).size().sort_values(ascending=False, kind="stable")
    top = moves[~moves.index.get_level_values(0).duplicated()]
    table["next_group"] = pd.Series({g: n for g, n in top.index}, dtype=object).reindex(table.index).fillna("")
    table["next_share"] = (pd.Series({g: c for (g, _), c in top.items()}, dtype=float).reindex(table.index)
                           / table["users"].where(table["users"] > 0))
    labels = overridden.set_index("group")["overridden"] if len(overridden) else pd.Series(dtype=int)
    table["contradicted"] = labels.reindex(table.index).fillna(0).astype(int)
    table["pairs"] = len(pairs)
    keep = (table["users"] > 0) | (table["contradicted"] > 0)
    return table[keep].rename_axis("group").reset_index()


@dataclass(frozen=True)
class AtRiskCheck:
    """Last month's 即将休眠 list checked against this month: how many did go dormant."""

    flagged: int
    went_dormant: int
    came_back: int
    missing: int

    @property
    def precision(self) -> float | None:
        """Share of the flagged users who went dormant (the list was right about them)."""
        return self.went_dormant / self.flagged if self.flagged else None


def at_risk_check(month: int, previous: pd.DataFrame | None, current: pd.DataFrame) -> AtRiskCheck | None:
    """Recompute M−1's 即将休眠 flag from its stored users and see what became of them in M.

    History does not store who was flagged; the flag is recomputed the way
    :func:`tagger.alerts.compute_alerts` sets it: in M−1's data, last active in
    M−2 and not (yet) in M−1. ``current`` is this month's users (user_id,
    last_active_date). Went dormant = in M's export and not active in M (so
    休眠 or 流失 now); came back = active in M; missing = not in M's export.
    """
    if previous is None or previous.empty:
        return None
    from tagger.values import month_number

    last = month_number(pd.to_datetime(previous["last_active_date"]))
    flagged = previous.loc[(last == month - 2).fillna(False).to_numpy(dtype=bool), "user_id"].astype(str)
    now = current.assign(user_id=current["user_id"].astype(str)).drop_duplicates("user_id").set_index("user_id")
    found = flagged[flagged.isin(now.index)]
    active = (month_number(pd.to_datetime(now.loc[found, "last_active_date"])) == month).fillna(False)
    dormant = ~active.to_numpy(dtype=bool)
    return AtRiskCheck(flagged=len(flagged), went_dormant=int(dormant.sum()),
                       came_back=int(active.to_numpy(dtype=bool).sum()), missing=int(len(flagged) - len(found)))


LEDGER_COLUMNS: list[str] = ["channel", "typed_rows", "recorded", "matched", "targeted", "targeted_from", "reactivated",
                  "reactivated_from", "cost", "cost_per_user"]


def _number(value: object) -> float | None:
    number = pd.to_numeric(value, errors="coerce") if value not in (None, "") else np.nan
    return None if pd.isna(number) else float(number)


@dataclass
class _Recorded:
    """A recorded campaign's sends and returns, summed over its evaluation rows."""

    channel: str
    contacted: int = 0
    back: int = 0


def _ledger_entries(reach_rows: Sequence[Mapping[str, object]], evaluated: pd.DataFrame,
                    config: Config) -> list[dict[str, object]]:
    """One entry per campaign identity (date, group, channel, content), typed and recorded merged.

    A figure a person typed wins for 触达人数 and 成本 (they know what they sent and
    paid); 回访活跃数 comes from the recorded campaign when there is one (it is
    measured, not typed). Each figure keeps where it came from.
    """
    recorded: dict[str, _Recorded] = {}
    for record in evaluated.to_dict("records"):
        sums = recorded.setdefault(reach_key(record, config), _Recorded(str(record["channel"])))
        sums.contacted += int(record["contacted"])
        sums.back += int(record["back"])
    entries: list[dict[str, object]] = []
    for row in reach_rows:
        key = reach_key(row, config)
        found = recorded.pop(key, None)
        filled = bool(row.get("date")) or any(_number(row.get(name)) is not None for name in TRACKING_NUMBERS)
        if found is None and not filled:
            continue  # a playbook starter row nobody filled in is a plan, not a send
        typed_reach, typed_back = _number(row.get("targeted")), _number(row.get("reactivated"))
        entry: dict[str, object] = {"channel": channel_key(row.get("channel"), config), "typed": filled,
                                    "recorded": found is not None, "cost": _number(row.get("cost"))}
        if typed_reach is not None or found is None:
            entry.update(targeted=typed_reach, targeted_from="typed" if typed_reach is not None else "")
        else:
            entry.update(targeted=float(found.contacted), targeted_from="recorded")
        if found is not None:
            entry.update(reactivated=float(found.back), reactivated_from="recorded")
        else:
            entry.update(reactivated=typed_back, reactivated_from="typed" if typed_back is not None else "")
        entries.append(entry)
    for found in recorded.values():  # recorded campaigns nobody typed a row for
        entries.append({"channel": found.channel, "typed": False, "recorded": True, "cost": None,
                        "targeted": float(found.contacted), "targeted_from": "recorded",
                        "reactivated": float(found.back), "reactivated_from": "recorded"})
    return entries


def _sources(values: pd.Series) -> str:
    found = {v for v in values if v}
    return "+".join(name for name in ("typed", "recorded") if name in found)


def reach_ledger(reach_rows: Sequence[Mapping[str, object]], evaluated: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Channel efficiency from one ledger of 触达跟踪 rows and recorded campaigns, per channel.

    ``reach_rows`` are the rows as people typed them (before :func:`fill_reach_rows`
    writes measured numbers into them). The same campaign typed and recorded is
    one entry, so nothing is counted twice; typed rows count with no campaign at
    all. ``targeted_from`` / ``reactivated_from`` say ``typed``, ``recorded`` or
    ``typed+recorded`` (a channel whose entries come from both).
    """
    entries = _ledger_entries(reach_rows, evaluated, config)
    if not entries:
        return pd.DataFrame(columns=LEDGER_COLUMNS)
    frame = pd.DataFrame(entries)
    frame["matched"] = frame["typed"] & frame["recorded"]
    table = frame.groupby("channel", sort=True).agg(
        typed_rows=("typed", "sum"), recorded=("recorded", "sum"), matched=("matched", "sum"),
        targeted=("targeted", lambda s: s.sum(min_count=1)), targeted_from=("targeted_from", _sources),
        reactivated=("reactivated", lambda s: s.sum(min_count=1)), reactivated_from=("reactivated_from", _sources),
        cost=("cost", lambda s: s.sum(min_count=1))).reset_index()
    for column in ("typed_rows", "recorded", "matched"):
        table[column] = table[column].astype(int)
    table["cost_per_user"] = table["cost"] / table["reactivated"].where(table["reactivated"] > 0)
    return table[LEDGER_COLUMNS]


def build_review(month: str, active_rate: float | None, target: float, evaluated: pd.DataFrame,
                 computed_group: pd.Series, override: pd.Series, reach_rows: Sequence[Mapping[str, object]],
                 config: Config, ledger: pd.DataFrame | None = None,
                 pairs: Sequence[tuple[pd.DataFrame, pd.DataFrame]] = (),
                 at_risk: AtRiskCheck | None = None, research: pd.DataFrame | None = None) -> Review:
    """Assemble the review from the evaluated campaigns, the overrides and the 触达跟踪 rows.

    ``ledger`` is :func:`reach_ledger` of the rows as typed; without it, it is
    built from ``reach_rows`` (right when they were not filled in yet).
    """
    accuracy = tag_accuracy(computed_group, override)
    return Review(
        month=month, active_rate=active_rate, target=target, campaigns=evaluated,
        by={name: breakdown(evaluated, name) for name in BREAKDOWNS},
        tag_accuracy=accuracy, overridden=int(accuracy["overridden"].sum()), users=int(len(computed_group)),
        channel_costs=channel_costs(reach_rows, config),
        ledger=reach_ledger(reach_rows, evaluated, config) if ledger is None else ledger,
        stability=group_stability(pairs, accuracy), at_risk=at_risk,
        ab=ab_tests(evaluated, config.min_lift), min_lift=config.min_lift,
        research=research if research is not None else pd.DataFrame())


def research_summary(research: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(answers, reasons): how many drawn users gave each answer / reason, most frequent first.

    Cells are compared as typed after trimming; '' (not answered yet) is counted as its own row.
    """
    out = []
    for column in ("answer", "reason"):
        values = research[column].fillna("").astype(str).str.strip() if column in research else pd.Series(dtype=str)
        counts = values.value_counts(sort=False).rename("users").rename_axis(column).reset_index()
        counts = counts.sort_values(["users", column], ascending=[False, True], kind="stable")
        answered = counts[counts[column] != ""]
        out.append(pd.concat([answered, counts[counts[column] == ""]], ignore_index=True))
    return out[0], out[1]


def fill_reach_rows(rows: list[dict[str, object]], evaluated: pd.DataFrame, config: Config) -> list[dict[str, object]]:
    """Put the computable numbers into 触达跟踪 rows: 回访活跃数 always, 触达人数 where ops left it empty."""
    if evaluated.empty:
        return rows
    keyed = evaluated.assign(key=[reach_key({"date": d, "group": g, "channel": c, "content": t}, config)
                                  for d, g, c, t in zip(evaluated["date"], evaluated["group"],
                                                        evaluated["channel"], evaluated["content"], strict=True)])
    sums = keyed.groupby("key")[["contacted", "back"]].sum()
    for row in rows:
        key = reach_key(row, config)
        if key in sums.index:
            row["reactivated"] = int(sums.at[key, "back"])
            if row.get("targeted") in (None, ""):
                row["targeted"] = int(sums.at[key, "contacted"])
    return rows


__all__ = ["Lift", "wald_lift", "wilson", "newcombe_lift", "sample_size", "ab_tests", "research_summary", "MIN_GROUP",
           "reach_ledger", "group_stability", "AtRiskCheck", "at_risk_check", "evaluate", "breakdown", "Review",
           "build_review", "tag_accuracy", "channel_costs", "fill_reach_rows", "reach_key", "group_key", "channel_key",
           "day_text"]
