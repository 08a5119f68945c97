from __future__ import annotations

import pandas as pd
import pytest

from tagger.config import load_config
from tagger.preferences import preference_mix, tag_preferences, usage_shares

FEATURES = load_config(preset="car_app").features


def tag(counts: dict[str, list[float]], threshold: float = 0.3, top: list[str] | None = None,
        lang: str = "zh") -> pd.DataFrame:
    return tag_preferences(pd.DataFrame(counts), FEATURES, threshold, lang,
                           top_feature=pd.Series(top) if top is not None else None)


def test_share_at_threshold_is_a_preference() -> None:
    out = tag({"control": [3, 2.9], "content": [7, 7.1]})
    assert out["tags"].tolist() == ["控车偏好、内容偏好", "内容偏好"]
    assert out["primary"].tolist() == ["内容偏好", "内容偏好"]
    assert out["share_control"].iloc[0] == pytest.approx(0.3)


def test_tags_follow_template_order_and_language() -> None:
    out = tag({"activity": [5], "control": [5]}, lang="en")
    assert out["tags"].iloc[0] == "Vehicle control、Campaigns"
    assert out["primary_key"].iloc[0] == "control"  # a tie goes to the feature listed first


def test_threshold_from_config() -> None:
    assert tag({"control": [6], "content": [4]}, threshold=0.5)["tags"].iloc[0] == "控车偏好"


def test_fallback_to_top_feature() -> None:
    out = tag({"control": [0, None, 4]}, top=["远程控车", "社区话题", "远程控车"])
    assert out["tags"].tolist() == ["控车偏好", "社区偏好", "控车偏好"]
    assert out["source"].tolist() == ["top_feature", "top_feature", "counts"]


def test_no_data_no_preference() -> None:
    out = tag({"control": [0]}, top=["看看"])
    assert out[["tags", "primary", "source"]].iloc[0].tolist() == ["", "", ""]


def test_shares_ignore_missing_counts() -> None:
    shares = usage_shares(pd.DataFrame({"a": [None, 2.0], "b": [1.0, 2.0]}))
    assert shares.values.tolist() == [[0.0, 1.0], [0.5, 0.5]]


def test_preference_mix_by_group() -> None:
    tags = tag({"control": [9, 9, 0], "community": [1, 9, 5]})
    mix = preference_mix(tags, FEATURES, by=pd.Series(["a", "a", "b"]))
    assert mix.loc["a", "control"] == 1.0 and mix.loc["a", "community"] == 0.5
    assert mix.loc["b", "community"] == 1.0
