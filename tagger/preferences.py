"""Feature preference tags from three months of usage counts.

Each feature's share is its count over a base: the user's total count across the
template's features (``[preferences] share_of = "total"``: shares add up to 1), or
the user's active days in the window (``share_of = "sessions"``, the article's
definition: user A uses car control on 90 % of their active days, events on 50 %,
community on 40 %, and holds all three tags). A user without active days falls back
to the total, so a blank cell never hides a preference. Every feature whose share reaches the threshold becomes a
tag (``控车偏好、活动偏好``) and the largest share is the primary preference
(ties go to the feature listed first in the template). A user with no counts
falls back to the ``近三个月使用最多的功能`` text, matched against each feature's
keywords. The same rule is written as an Excel formula on the Users sheet, so the
tag text is built the way a formula can build it: labels joined by ``、``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from tagger.config import Feature

SEPARATOR = "、"


def usage_shares(counts: pd.DataFrame) -> pd.DataFrame:
    """Each column's share of the row total (0 where the row total is 0 or missing).

    >>> usage_shares(pd.DataFrame({"a": [3.0, 0.0], "b": [1.0, 0.0]}))["a"].tolist()
    [0.75, 0.0]
    """
    filled = counts.fillna(0.0).astype(float)
    total = filled.sum(axis=1).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = np.where(total[:, None] > 0, filled.to_numpy() / total[:, None], 0.0)
    return pd.DataFrame(shares, index=counts.index, columns=counts.columns)


def share_base(counts: pd.DataFrame, active_days: pd.Series | None = None) -> pd.Series:
    """What each user's shares are taken of: active days when there are some, else the summed counts.

    >>> share_base(pd.DataFrame({"a": [9.0, 3.0], "b": [5.0, 1.0]}), pd.Series([10.0, None])).tolist()
    [10.0, 4.0]
    """
    total = counts.fillna(0.0).astype(float).sum(axis=1)
    if active_days is None:
        return total
    days = pd.to_numeric(active_days.reindex(counts.index), errors="coerce").fillna(0.0).astype(float)
    return days.where(days > 0, total)


def session_shares(counts: pd.DataFrame, base: pd.Series) -> pd.DataFrame:
    """Each column over ``base`` (0 where the base is 0): shares that may overlap.

    >>> session_shares(pd.DataFrame({"a": [9.0], "b": [5.0]}), pd.Series([10.0]))["b"].tolist()
    [0.5]
    """
    filled = counts.fillna(0.0).astype(float).to_numpy()
    denominator = base.to_numpy(dtype=float)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = np.where(denominator > 0, filled / denominator, 0.0)
    return pd.DataFrame(shares, index=counts.index, columns=counts.columns)


def tag_preferences(
    counts: pd.DataFrame,
    features: Sequence[Feature],
    threshold: float,
    lang: str,
    *,
    top_feature: pd.Series | None = None,
    active_days: pd.Series | None = None,
) -> pd.DataFrame:
    """Preference tags, the primary preference and the per-feature shares.

    ``counts`` has one column per feature key (missing features may be absent).
    Returns columns ``tags`` (labels joined by ``、``), ``primary`` (label),
    ``primary_key``, ``source`` (``counts``, ``top_feature`` or ``""``) and
    ``share_<key>`` for each feature. With ``active_days`` (``share_of = "sessions"``)
    shares are taken of each user's active days (:func:`share_base`).

    >>> from tagger.config import load_config
    >>> feats = load_config(preset="car_app").features
    >>> c = pd.DataFrame({"control": [9, 0], "activity": [5, 0]})
    >>> tag_preferences(c, feats, 0.3, "zh", top_feature=pd.Series(["", "社区"]))[["tags", "primary"]].values.tolist()
    [['控车偏好、活动偏好', '控车偏好'], ['社区偏好', '社区偏好']]
    """
    keys = [f.key for f in features]
    full = counts.reindex(columns=keys)
    shares = usage_shares(full) if active_days is None else session_shares(full, share_base(full, active_days))
    has_counts = full.fillna(0).sum(axis=1).to_numpy() > 0
    labels = np.array([f.label(lang) for f in features], dtype=object)

    chosen = shares.to_numpy() >= threshold
    tags = np.full(len(shares), "", dtype=object)
    for j, lab in enumerate(labels):  # loop over the handful of features, not over users
        tags = np.where(chosen[:, j], np.where(tags == "", lab, tags + SEPARATOR + lab), tags)
    best = shares.to_numpy().argmax(axis=1) if len(keys) else np.zeros(len(shares), dtype=int)
    primary_key = np.where(has_counts, np.array(keys, dtype=object)[best], "")

    source = np.where(has_counts, "counts", "")
    if top_feature is not None:
        texts = top_feature.reindex(shares.index)
        lookup = {text: match_feature(text, features) for text in texts.dropna().unique()}
        fallback_key = texts.map(lookup).fillna("")
        use = ~has_counts & (fallback_key != "").to_numpy()
        primary_key = np.where(use, fallback_key.to_numpy(), primary_key)
        source = np.where(use, "top_feature", source)
        by_key = dict(zip(keys, labels, strict=True))
        fallback_label = np.array([by_key.get(k, "") for k in primary_key], dtype=object)
        tags = np.where(use, fallback_label, tags)

    label_of = dict(zip(keys, labels, strict=True))
    frame = pd.DataFrame(
        {
            "tags": tags,
            "primary": [label_of.get(k, "") for k in primary_key],
            "primary_key": primary_key,
            "source": source,
        },
        index=shares.index,
    )
    for key in keys:
        frame[f"share_{key}"] = shares[key]
    return frame


def match_feature(text: object, features: Sequence[Feature]) -> str:
    """Key of the first feature whose label or a keyword occurs in ``text`` ("" if none).

    >>> from tagger.config import load_config
    >>> match_feature("远程控车", load_config(preset="car_app").features)
    'control'
    """
    if not isinstance(text, str) or not text.strip():
        return ""
    lowered = text.casefold()
    for feature in features:
        words: list[str] = [*feature.keywords, *feature.labels.values()]
        if any(word.casefold() in lowered for word in words if word):
            return feature.key
    return ""


def preference_mix(tags: pd.DataFrame, features: Sequence[Feature], by: pd.Series | None = None) -> pd.DataFrame:
    """Share of users holding each preference tag, overall or per group (the seed's two tables).

    A user can hold several tags, so shares in a row need not add up to 1.
    """
    holders = pd.DataFrame(
        {f.key: tags["tags"].str.split(SEPARATOR).map(lambda parts, lab=f: _has(parts, lab)) for f in features},
        index=tags.index,
    )
    if by is None:
        return holders.mean().to_frame("share").T
    return holders.groupby(by, observed=True).mean()


def _has(parts: object, feature: Feature) -> bool:
    return isinstance(parts, list) and any(p in feature.labels.values() for p in parts)

