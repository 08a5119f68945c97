"""Value layers (seed 002/003): an RFM-style second axis beside the lifecycle.

The lifecycle says whether a user is around; the value layer says whether the user is
worth a push. A configured value measure (spend, orders, mileage…) splits users into
high and low value, and recency (days since the last purchase or visit; without such a
column, being active this month) splits them into recent and sleeping:

==============  ==============================================================
high_active     value ≥ ValueCut and recent                       (高价值活跃)
high_sleeping   value ≥ ValueCut, not recent                      (高价值沉睡)
potential       value below the cut, but frequent (frequency ≥ FreqCut; without
                a frequency column: recent)                        (潜力)
general         everyone else                                      (一般)
==============  ==============================================================

The cuts come from the team (``method = "thresholds"``) or from the users' own values
(``method = "quantile"``: the ``quantile`` of the value, taken as an actual value of the
export so the workbook compares exactly what Python compared). They are named, editable
cells on 参数 and the Users sheet's 价值分层 column is a live formula over them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tagger.config import LAYER_KEYS, Config, ValueLayers

# users.frame fields of the configured columns (tagger.prepare parses them as numbers).
FIELDS = {"value": "layer_value", "frequency": "layer_frequency", "recency": "layer_recency"}


@dataclass(frozen=True)
class Cuts:
    """The cut of each axis this run uses (None: the axis has no column)."""

    value: float
    frequency: float | None
    recency: float | None


def headers(layers: ValueLayers) -> dict[str, str]:
    """users.frame field → the export header the config names for it."""
    named = {"value": layers.value, "frequency": layers.frequency, "recency": layers.recency}
    return {FIELDS[axis]: header for axis, header in named.items() if header}


def _quantile(values: pd.Series, q: float) -> float:
    """The ``q`` quantile as one of the values themselves (``method="lower"``), 0 without values."""
    known = values.dropna().to_numpy(dtype=float)
    return float(np.quantile(known, q, method="lower")) if len(known) else 0.0


def layer_cuts(frame: pd.DataFrame, layers: ValueLayers) -> Cuts:
    """The cuts: the team's thresholds, or the quantile of this export's values.

    >>> from tagger.config import ValueLayers
    >>> f = pd.DataFrame({"layer_value": [10.0, 20.0, 30.0, 40.0, 50.0]})
    >>> layer_cuts(f, ValueLayers(value="v", quantile=0.8)).value
    40.0
    """
    has_frequency = FIELDS["frequency"] in frame
    if layers.method == "thresholds":
        value, frequency = layers.value_min, layers.frequency_min
    else:
        value = _quantile(frame[FIELDS["value"]], layers.quantile)
        frequency = _quantile(frame[FIELDS["frequency"]], layers.quantile) if has_frequency else 0.0
    recency = layers.recency_max_days if FIELDS["recency"] in frame else None
    return Cuts(value=value, frequency=frequency if has_frequency else None, recency=recency)


def assign_layers(frame: pd.DataFrame, active: pd.Series, layers: ValueLayers, cuts: Cuts) -> pd.Series:
    """Each user's layer key (``high_active`` …), the twin of :func:`tagger.formulas.value_layer`.

    Blank or unreadable values count 0 (as ``N()`` does); a blank recency is not recent.
    """
    value = frame[FIELDS["value"]].fillna(0.0).to_numpy(dtype=float)
    if cuts.recency is not None:
        days = frame[FIELDS["recency"]].to_numpy(dtype=float)
        recent = ~np.isnan(days) & (np.nan_to_num(days, nan=np.inf) <= cuts.recency)
    else:
        recent = active.to_numpy(dtype=bool)
    if cuts.frequency is not None:
        frequent = frame[FIELDS["frequency"]].fillna(0.0).to_numpy(dtype=float) >= cuts.frequency
    else:
        frequent = recent
    high = value >= cuts.value
    keys = np.select([high & recent, high, frequent], list(LAYER_KEYS[:3]), default=LAYER_KEYS[3])
    return pd.Series(keys, index=frame.index, dtype=object)


def tag_layers(frame: pd.DataFrame, active: pd.Series, config: Config) -> pd.Series | None:
    """The ``value_layer`` column of the tags, or None without ``[value_layers]``."""
    layers = config.value_layers
    if layers is None or FIELDS["value"] not in frame:
        return None
    return assign_layers(frame, active, layers, layer_cuts(frame, layers))


__all__ = ["Cuts", "FIELDS", "assign_layers", "headers", "layer_cuts", "tag_layers"]
