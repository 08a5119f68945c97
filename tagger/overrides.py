"""This month's 人工标签 and 备注 acting on a run's tags, and the rules re-run on them.

A label typed in the workbook (carried by ``tagger refresh``) or stored in the
history moves a user for every action of the month; ``tagger tag``, ``tagger
contacts`` and ``tagger refresh`` all apply them the same way, so the code lives
below all three instead of inside one of them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from tagger.history import HistoryStore
from tagger.rules import RuleSet, apply_rules, load_rules
from tagger.segments import acting_tags

if TYPE_CHECKING:
    from tagger.pipeline import TagResult


RULE_COLUMNS = ("rule", "channel", "channel_key", "content")  # what a rule decides for a user
LABEL_COLUMNS = ("override", "prev_override", "remark", "effective_group", "group_source")  # what apply_overrides adds


def previous_month(month: str) -> str:
    """'2024-05' -> '2024-04': the month whose labels a workbook shows as 上月人工标签."""
    year, number = (int(part) for part in month.split("-"))
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"


class Labelled(NamedTuple):
    """The tags with the label columns, and this month's labels for users absent from the export."""

    tags: pd.DataFrame
    unmatched: pd.DataFrame


def apply_overrides(result: TagResult, overrides: pd.DataFrame) -> Labelled:
    """The tags plus ``override``, ``prev_override`` (group keys), ``remark``, ``effective_group``, ``group_source``.

    A label belongs to the month it was typed for: only this month's labels win over
    the computed group (``group_source`` = ``manual``); last month's are shown as
    ``prev_override`` and act on nothing. A remark is a note, not a decision: the
    latest one up to this month stays. ``segment`` and ``group`` stay as computed, so
    the month's numbers are facts, not opinions. Rows without a ``month`` are taken as
    this month's. ``unmatched`` holds this month's overrides for users absent from this export.

    ``result.tags`` is left as it was: the new frame shares its columns (pandas' copy-on-write),
    so only the five label columns are built, however many rows the export has.
    """
    if "month" not in overrides:
        overrides = overrides.assign(month=result.month)
    overrides = overrides[overrides["month"] <= result.month]
    current = overrides[overrides["month"] == result.month]
    earlier = overrides[overrides["month"] == previous_month(result.month)]
    notes = overrides[overrides["remark"] != ""].sort_values("month", kind="stable")
    ids = result.users.frame["user_id"].astype(str)
    computed = result.tags
    override = pd.Series(_per_user(ids, current, "label"), index=computed.index)
    manual = override != ""
    tags = computed.assign(
        override=override, prev_override=_per_user(ids, earlier, "label"), remark=_per_user(ids, notes, "remark"),
        effective_group=computed["group"].where(~manual, override),
        group_source=pd.Series("computed", index=computed.index).where(~manual, "manual"))
    present = current["user_id"].astype(object).isin(ids.astype(object)).to_numpy(bool)
    return Labelled(tags, current[~present].reset_index(drop=True))


def _per_user(ids: pd.Series, rows: pd.DataFrame, column: str) -> str | np.ndarray:
    """``rows[column]`` for each user ID ("" where none; the last row wins)."""
    if not len(rows):
        return ""  # one value for every user: pandas fills the column without a million-item list
    table = rows.drop_duplicates("user_id", keep="last").set_index("user_id")[column]
    return ids.map(table).fillna("").astype(object).to_numpy()


def apply_stored_overrides(result: TagResult, store: HistoryStore) -> TagResult:
    """The result with the overrides the history database holds, the rules re-run on the effective groups."""
    labelled = apply_overrides(result, store.overrides())  # this month's labels act, older ones are shown
    return rerun_rules(replace(result, tags=labelled.tags))


def rerun_rules(result: TagResult) -> TagResult:
    """The result with the rules on the effective group: a user ops moved by hand gets that group's action."""
    ruleset = load_rules(result.config)
    if not ruleset or "effective_group" not in result.tags or _rules_hold(result.tags, ruleset):
        return result
    tags = result.tags
    ruled = apply_rules(acting_tags(tags), result.users.frame, result.table.frame, ruleset, result.lang)
    return replace(result, tags=tags.assign(**{column: ruled[column] for column in RULE_COLUMNS}))


def _rules_hold(tags: pd.DataFrame, ruleset: RuleSet) -> bool:
    """Whether the rule columns ``tags`` already hold are what re-running the rules would give.

    They are when no label of this month moved anyone and no rule can see the label columns
    (a condition on one of them, or a Python function, which sees every column): then the rules
    would read exactly what they read when the month was tagged. Most runs hold no label at
    all, and re-running a million users' rules costs seconds.
    """
    if not set(RULE_COLUMNS) <= set(tags.columns) or (tags["group_source"] == "manual").any():
        return False
    return all(rule.function is None and not any(c.column in LABEL_COLUMNS for c in rule.conditions)
               for rule in ruleset.rules)


__all__ = ["Labelled", "apply_overrides", "apply_stored_overrides", "previous_month", "rerun_rules"]
