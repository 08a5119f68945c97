"""Lifecycle segments: which of the seven groups each user is in this month.

Month M is the report month; months are calendar months and registration counts
as activity. With ``churn_after`` = k (2 in the source article):

==================  =========================================================
new                 registered in M
last_month_new      registered in M-1 and active in M
active              registered <= M-2, active in M-1 and in M
awakened            active in M after 1..k-1 inactive months
returned            active in M after >= k inactive months
dormant             not active in M, last active 1..k-1 months ago
churned             not active in M, last active >= k months ago
==================  =========================================================

Telling ``active``, ``awakened`` and ``returned`` apart needs the last activity
*before* M. When it is unknown the user gets ``active_unsplit`` instead of a guess.
Everything here is vectorised (numpy ``select``); there is no I/O.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tagger.i18n import Catalog
from tagger.registry import REGISTRY, Facts

# Every list below is read from the registry (tagger.registry), the one home of each segment.
SEGMENTS: tuple[str, ...] = REGISTRY.segments
UNSPLIT = REGISTRY.unsplit
# The segments that cannot be told apart without last month's state (they are UNSPLIT then).
UNSPLIT_PARTS: tuple[str, ...] = REGISTRY.unsplit_parts
ACTIVE_SEGMENTS: tuple[str, ...] = REGISTRY.active_segments
GROUPS: tuple[str, ...] = REGISTRY.groups
# Last month's state, the base of next month's four rates.
PREV_GROUPS: tuple[str, ...] = REGISTRY.prev_groups

TEXT = Catalog("segments", REGISTRY.texts("label"))


def label(key: str, lang: str | None = None) -> str:
    """Display name of a segment or group key in the current (or given) language."""
    return TEXT(key, lang)


def assign_segments(
    register_month: pd.Series,
    last_active_month: pd.Series,
    month: int,
    *,
    prev_active_month: pd.Series | None = None,
    churn_after: int = 2,
    drove: pd.Series | None = None,
) -> pd.DataFrame:
    """Segment every user for report month ``month`` (a :func:`tagger.values.month_number`).

    ``prev_active_month`` is the month of the last activity before ``month``; NA
    means unknown for that user, ``None`` unknown for everyone. Returns a frame
    with ``segment``, ``group`` (churned split by ``drove``), ``active`` (in M),
    ``idle_months`` (for an active user: inactive months before M; otherwise months
    since the last activity) and ``prev_group`` (the user's state in M-1 for the
    four rates, ``""`` for users registered in M, ``"unknown"`` where it cannot be
    known).

    >>> reg = pd.Series([24294, 24293, 24280, 24280, 24280, 24280, 24280], dtype="Int64")
    >>> last = pd.Series([24294, 24294, 24294, 24294, 24294, 24293, 24290], dtype="Int64")
    >>> prev = pd.Series([pd.NA, 24293, 24293, 24292, 24289, 24293, 24290], dtype="Int64")
    >>> assign_segments(reg, last, 24294, prev_active_month=prev)["segment"].tolist()
    ['new', 'last_month_new', 'active', 'awakened', 'returned', 'dormant', 'churned']
    """
    reg = register_month.astype("Int64")
    last = last_active_month.astype("Int64").fillna(reg)
    last = last.where(last >= reg, reg)  # registration counts as activity
    last = last.where(last <= month, month)  # a date after M still means active in M
    active = (last == month).fillna(False).to_numpy(dtype=bool)

    if prev_active_month is None:
        prev = pd.Series(pd.NA, index=reg.index, dtype="Int64")
    else:
        prev = prev_active_month.astype("Int64")
        prev = prev.where(prev >= reg, reg).where(prev < month)  # outside [reg, M) is unusable
    # For a user not active in M, the last activity is also the last one before M.
    prev = prev.where(pd.Series(active, index=reg.index), last)

    reg_a = reg.to_numpy(dtype="float64", na_value=np.nan)
    last_a = last.to_numpy(dtype="float64", na_value=np.nan)
    prev_a = prev.to_numpy(dtype="float64", na_value=np.nan)
    gap_before = month - prev_a - 1  # inactive months between prev and M
    since_last = month - last_a
    prev_known = ~np.isnan(prev_a)

    facts = Facts(reg=reg_a, active=active, prev_known=prev_known, gap_before=gap_before, since_last=since_last,
                  month=month, churn_after=churn_after)
    segment = REGISTRY.classify(facts)
    group = segment.astype(object)
    if drove is not None:
        drives = drove.astype("boolean").reindex(reg.index)
        splits = REGISTRY.splits("churned")  # 是否开车 splits the churned
        churned = segment == "churned"
        group = np.where(churned & (drives == True).fillna(False).to_numpy(bool), splits[True], group)  # noqa: E712
        group = np.where(churned & (drives == False).fillna(False).to_numpy(bool), splits[False], group)  # noqa: E712

    idle = np.where(active, gap_before, since_last)
    idle = np.where((segment == "new") | (segment == UNSPLIT), np.nan, idle)
    idle = np.where(segment == "last_month_new", 0, idle)

    prev_gap = (month - 1) - prev_a  # months since the last activity, seen from M-1
    prev_group = np.select(
        [reg_a >= month, reg_a == month - 1, ~prev_known, prev_gap <= 0, prev_gap < churn_after],
        ["", "new", "unknown", "old_active", "dormant"],
        default="churned",
    )
    return pd.DataFrame(
        {
            "segment": segment,
            "group": group,
            "active": active,
            "idle_months": pd.array(idle, dtype="Float64").astype("Int64"),
            "prev_group": prev_group,
        },
        index=reg.index,
    )


def acting_tags(tags: pd.DataFrame) -> pd.DataFrame:
    """The tags as rules and contact lists see them: ``group`` and ``segment`` are the effective ones.

    A 人工标签 of this month (``effective_group``) moves the user for every action, so a rule
    on ``segment = "dormant"`` picks a user labelled 休眠用户 too; the computed columns are
    untouched in ``tags`` itself, because the month's numbers stay computed.
    """
    if "effective_group" not in tags:
        return tags
    group = tags["effective_group"]
    segment = group.where(~group.astype(str).str.startswith("churned"), "churned")
    manual = tags["group_source"] == "manual" if "group_source" in tags else group != tags["group"]
    return tags.assign(group=group, segment=tags["segment"].where(~manual, segment))
