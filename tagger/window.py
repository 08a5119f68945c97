"""The preference window: the months whose usage counts a preference is computed over.

The article's window is three months. An export usually carries three-month totals;
with ``[preferences] window = "month"`` it carries one month's counts, and the two
earlier months come from history. Kept apart from the pipeline so the Users sheet,
which writes the window as formulas, can use it without importing the pipeline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from tagger.config import Config
from tagger.values import month_key

if TYPE_CHECKING:
    from tagger.history import HistoryStore
    from tagger.prepare import Users

PREV_SUFFIX = "_prev"  # users.frame column of the two earlier months' usage, beside the month's own


def usage_fields(users: Users, config: Config) -> list[str]:
    """The count fields of the preference window this export carries (feature counts, active days)."""
    frame = users.frame
    fields = [f.field for f in config.features if f.field in frame]
    return fields + (["active_days"] if "active_days" in frame else [])


def usage_window(users: Users, month: int, config: Config, store: HistoryStore | None) -> list[str] | None:
    """With monthly counts (``[preferences] window = "month"``), add M-1 and M-2 from history.

    Each count field gets a ``<field>_prev`` column in ``users.frame``: the two earlier months'
    stored counts summed (0 for a user not in them), so the window is this month plus those.
    Returns the earlier months found (possibly none), or None when the export holds 3-month totals.
    """
    if config.preference_window != "month":
        return None
    fields = usage_fields(users, config)
    frame = users.frame
    earlier = pd.DataFrame(0.0, index=frame.index, columns=fields)
    found: list[str] = []
    for back in (2, 1):
        key = month_key(month - back)
        stored = store.usage(key) if store is not None and store.has_users(key) else None
        if stored is None or stored.empty:
            continue
        found.append(key)
        aligned = stored.reindex(index=frame["user_id"].to_numpy(), columns=fields).fillna(0.0)
        earlier += aligned.to_numpy()
    if found:
        for name in fields:
            frame[name + PREV_SUFFIX] = earlier[name]
    return found


def window_usage(frame: pd.DataFrame, name: str) -> pd.Series:
    """A count over the preference window: the month's own plus the earlier months' (blank stays blank)."""
    own = frame[name]
    if name + PREV_SUFFIX not in frame:
        return own
    earlier = frame[name + PREV_SUFFIX]
    return own.fillna(0.0) + earlier.where(own.notna() | (earlier > 0))
