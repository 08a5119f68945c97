"""Closing the loop on data where the answer is known by construction."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from tagger.campaigns import breakdown, channel_costs, evaluate, fill_reach_rows, reach_key, tag_accuracy, wald_lift
from tagger.config import load_config


def test_wald_lift_by_hand() -> None:
    # 100 contacted, 40 back; 100 held out, 20 back.
    lift = wald_lift(40, 100, 20, 100)
    se = math.sqrt(0.4 * 0.6 / 100 + 0.2 * 0.8 / 100)  # = sqrt(0.004) = 0.0632456
    assert lift is not None
    assert lift.lift == pytest.approx(0.20)
    assert lift.low == pytest.approx(0.20 - 1.959964 * se, abs=1e-6)  # 0.076040
    assert lift.high == pytest.approx(0.20 + 1.959964 * se, abs=1e-6)  # 0.323960
    assert lift.low == pytest.approx(0.07604, abs=1e-5)
    assert wald_lift(3, 10, 0, 0) is None  # no control group, no lift


@pytest.fixture
def known() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Campaign 1 (push): 100 contacted of whom 40 came back, 100 held out of whom 20 came back.
    Campaign 2 (短信): 50 contacted, 10 back, no holdout. Campaign 3 is dated after the data and is left out."""
    campaigns = pd.DataFrame({
        "id": [1, 2, 3], "date": ["2024-07-05", "2024-07-06", "2024-08-30"],
        "rule": ["休眠召回", "流失召回", "later"], "group": ["dormant", "churned_driving", "dormant"],
        "channel": ["push", "sms", "push"], "content": ["车辆状态", "行车报告", "x"],
    })
    contacted = [f"c{i}" for i in range(100)]
    held = [f"h{i}" for i in range(100)]
    texted = [f"s{i}" for i in range(50)]
    members = pd.DataFrame({
        "campaign_id": [1] * 200 + [2] * 50 + [3],
        "user_id": contacted + held + texted + ["c0"],
        "holdout": [False] * 100 + [True] * 100 + [False] * 50 + [False],
    })
    back = set(contacted[:40]) | set(held[:20]) | set(texted[:10])
    # Users not back were last active before the campaigns; c99 is missing from the new export entirely.
    ids = [u for u in contacted + held + texted if u != "c99"]
    users = pd.DataFrame({
        "user_id": ids,
        "last_active_date": [pd.Timestamp("2024-07-20") if u in back else pd.Timestamp("2024-06-10") for u in ids],
    })
    return campaigns, members, users


def test_evaluate_known_answer(known) -> None:
    table = evaluate(*known).set_index("id")
    assert list(table.index) == [1, 2]  # campaign 3 cannot be judged yet
    first = table.loc[1]
    assert (first["contacted"], first["back"], first["holdout"], first["holdout_back"]) == (100, 40, 100, 20)
    assert first["rate"] == pytest.approx(0.4) and first["holdout_rate"] == pytest.approx(0.2)
    assert first["lift"] == pytest.approx(0.2)
    assert (first["low"], first["high"]) == (pytest.approx(0.07604, abs=1e-5), pytest.approx(0.32396, abs=1e-5))
    second = table.loc[2]
    assert (second["contacted"], second["back"], second["rate"]) == (50, 10, pytest.approx(0.2))
    assert math.isnan(second["lift"])


def test_breakdowns_per_channel_group_rule_content(known) -> None:
    table = evaluate(*known)
    by_channel = breakdown(table, "channel").set_index("channel")
    assert by_channel.loc["push", "rate"] == pytest.approx(0.4)
    assert by_channel.loc["sms", "rate"] == pytest.approx(0.2)
    assert breakdown(table, "group").set_index("group").loc["dormant", "lift"] == pytest.approx(0.2)
    assert set(breakdown(table, "rule")["rule"]) == {"休眠召回", "流失召回"}
    assert set(breakdown(table, "content")["content"]) == {"车辆状态", "行车报告"}


def test_tracking_rows_get_the_computable_numbers(known) -> None:
    config = load_config(preset="car_app")
    rows = [
        {"date": "2024-07-05", "group": "休眠用户", "channel": "Push", "content": "车辆状态", "targeted": None},
        {"date": "2024-07-06", "group": "Churned, still driving", "channel": "短信", "content": "行车报告",
         "targeted": 60},
        {"date": "2024-07-07", "group": "休眠用户", "channel": "社群", "content": "ops typed this"},
    ]
    filled = fill_reach_rows(rows, evaluate(*known), config)
    assert (filled[0]["targeted"], filled[0]["reactivated"]) == (100, 40)
    assert (filled[1]["targeted"], filled[1]["reactivated"]) == (60, 10)  # what ops typed is kept
    assert "reactivated" not in filled[2]


def test_reach_key_is_language_independent() -> None:
    config = load_config(preset="car_app")
    zh = {"date": "2024-07-05", "group": "休眠用户", "channel": "微信服务号", "content": " 车辆状态 "}
    en = {"date": pd.Timestamp("2024-07-05 00:00"), "group": "Dormant", "channel": "WeChat service account",
          "content": "车辆状态"}
    assert reach_key(zh, config) == reach_key(en, config)


def test_tag_accuracy_and_channel_costs() -> None:
    computed = pd.Series(["dormant"] * 4 + ["active"] * 6)
    override = pd.Series(["churned_driving", "", "dormant", ""] + [""] * 5 + ["dormant"])
    table = tag_accuracy(computed, override).set_index("group")
    assert table.loc["dormant", "overridden"] == 1  # the same label as computed is not a correction
    assert table.loc["active", "share"] == pytest.approx(1 / 6)
    config = load_config(preset="car_app")
    costs = channel_costs([{"channel": "短信", "targeted": 100, "reactivated": 10, "cost": 50},
                           {"channel": "SMS", "targeted": 50, "reactivated": 10, "cost": 30},
                           {"channel": "push", "targeted": 10, "reactivated": 0, "cost": None}], config)
    sms = costs.set_index("channel").loc["sms"]
    assert (sms["targeted"], sms["reactivated"], sms["cost"], sms["cost_per_user"]) == (150, 20, 80, 4.0)
    assert math.isnan(costs.set_index("channel").loc["push", "cost_per_user"])
