"""Closing the loop on data where the answer is known by construction."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from tagger.campaigns import (at_risk_check, breakdown, channel_costs, evaluate, fill_reach_rows, newcombe_lift,
                              reach_key, reach_ledger, group_stability, tag_accuracy, wald_lift, wilson)
from tagger.config import load_config
from tagger.values import parse_month


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
    # Newcombe hybrid score: Wilson(40/100) = [0.3094, 0.4980], Wilson(20/100) = [0.1333, 0.2888]
    assert (first["low"], first["high"]) == (pytest.approx(0.07312, abs=1e-5), pytest.approx(0.31851, abs=1e-5))
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


@pytest.mark.parametrize(("successes", "n", "low", "high"), [
    (81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)])
def test_wilson_matches_newcombe_1998_single_proportion(successes: int, n: int, low: float, high: float) -> None:
    """Worked values of the Wilson score interval, Newcombe (1998) Stat Med 17:857, Table I."""
    interval = wilson(successes, n)
    assert interval is not None
    assert interval == (pytest.approx(low, abs=5e-5), pytest.approx(high, abs=5e-5))


@pytest.mark.parametrize(("counts", "low", "high"), [
    ((56, 70, 48, 80), 0.0524, 0.3339), ((9, 10, 3, 10), 0.1705, 0.8090), ((6, 7, 2, 7), 0.0582, 0.8062),
    ((5, 56, 0, 29), -0.0381, 0.1926), ((0, 10, 0, 20), -0.1611, 0.2775), ((0, 10, 0, 10), -0.2775, 0.2775),
    ((10, 10, 0, 20), 0.6791, 1.0), ((10, 10, 0, 10), 0.6075, 1.0)])
def test_newcombe_matches_published_examples(counts: tuple[int, int, int, int], low: float, high: float) -> None:
    """Method 10 (hybrid score) of Newcombe (1998) Stat Med 17:873, Table II, examples (a)-(h)."""
    lift = newcombe_lift(*counts)
    assert lift is not None
    assert (lift.low, lift.high) == (pytest.approx(low, abs=5e-5), pytest.approx(high, abs=5e-5))


def test_tiny_holdout_gets_a_wide_interval_not_a_point() -> None:
    """A 13/13 holdout has a Wald standard error of 0 for that arm; the score interval stays honest."""
    wald, score = wald_lift(13, 20, 13, 13), newcombe_lift(13, 20, 13, 13)
    assert wald is not None and score is not None
    assert score.high - score.low > wald.high - wald.low
    assert newcombe_lift(3, 10, 0, 0) is None and wilson(0, 0) is None


def test_ledger_merges_typed_and_recorded_without_double_counting() -> None:
    """push: one campaign recorded (100 contacted, 30 back) and typed with its cost; one typed row alone.
    sms: one recorded campaign nobody typed. wechat: a typed row with no campaign at all."""
    config = load_config(preset="car_app")
    evaluated = pd.DataFrame({
        "id": [1, 2], "date": ["2024-07-01", "2024-07-02"], "rule": ["r", "r"], "group": ["dormant", "churned"],
        "channel": ["push", "sms"], "content": ["车辆状态", "回归礼"], "contacted": [100, 40], "back": [30, 4],
        "holdout": [0, 0], "holdout_back": [0, 0]})
    typed = [
        {"date": "2024-07-01", "group": "休眠用户", "channel": "push", "content": "车辆状态", "targeted": None,
         "reactivated": None, "cost": 60},
        {"date": "2024-07-05", "group": "休眠用户", "channel": "push", "content": "周末活动", "targeted": 50,
         "reactivated": 10, "cost": 40},
        {"date": "2024-07-06", "group": "流失用户", "channel": "WeChat service account", "content": "社区",
         "targeted": 20, "reactivated": 2, "cost": None},
        # The playbook's starter rows nobody filled in (no date, no number) are plans, not sends.
        {"date": "", "group": "流失用户", "channel": "社群", "content": "回归领福利", "targeted": None,
         "reactivated": None, "cost": None},
        {"date": None, "group": "流失用户", "channel": "短信", "content": "另一个计划"},
    ]
    ledger = reach_ledger(typed, evaluated, config).set_index("channel")
    assert len(ledger) == 3  # push, sms, wechat: the unfilled 社群 row adds no channel
    push, sms = ledger.loc["push"], ledger.loc["sms"]
    assert (push["typed_rows"], push["recorded"], push["matched"]) == (2, 1, 1)
    assert (push["targeted"], push["reactivated"], push["cost"]) == (150, 40, 100)  # 100 + 50, 30 + 10
    assert push["targeted_from"] == "typed+recorded" and push["cost_per_user"] == pytest.approx(2.5)
    assert (sms["typed_rows"], sms["targeted"], sms["reactivated"], sms["reactivated_from"]) == (0, 40, 4, "recorded")
    assert math.isnan(sms["cost"])
    wechat = ledger.drop(["push", "sms"]).iloc[0]
    assert (wechat["targeted"], wechat["reactivated"], wechat["targeted_from"]) == (20, 2, "typed")


def test_ledger_counts_typed_rows_before_any_campaign() -> None:
    config = load_config(preset="car_app")
    typed = [{"date": "2024-07-05", "group": "休眠用户", "channel": "短信", "content": "x", "targeted": 80,
              "reactivated": 8, "cost": 16}]
    ledger = reach_ledger(typed, evaluate(pd.DataFrame(), pd.DataFrame(), pd.DataFrame()), config)
    assert ledger.to_dict("records")[0] | {} == {
        "channel": "sms", "typed_rows": 1, "recorded": 0, "matched": 0, "targeted": 80.0, "targeted_from": "typed",
        "reactivated": 8.0, "reactivated_from": "typed", "cost": 16.0, "cost_per_user": 2.0}


def _month(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """user_id, last_active_date, group"""
    frame = pd.DataFrame(rows, columns=["user_id", "last_active_date", "group"])
    return frame.assign(last_active_date=pd.to_datetime(frame["last_active_date"]))


def test_group_stability_over_consecutive_months_and_contradicting_labels() -> None:
    """May → June: 4 active, 2 stay active, 1 goes dormant, 1 leaves the export.
    June → July: 2 active (1 stays), 1 dormant stays dormant. So active: 3 of 6 stayed, dormant: 1 of 1."""
    may = _month([("1", "2024-05-02", "active"), ("2", "2024-05-03", "active"), ("3", "2024-05-04", "active"),
                  ("4", "2024-05-05", "active")])
    june = _month([("1", "2024-06-02", "active"), ("2", "2024-06-03", "active"), ("3", "2024-05-04", "dormant")])
    july = _month([("1", "2024-07-02", "active"), ("2", "2024-06-03", "dormant"), ("3", "2024-05-04", "dormant")])
    labels = tag_accuracy(july["group"], pd.Series(["dormant", "", ""]))  # one label says 1 is dormant
    table = group_stability([(may, june), (june, july)], labels).set_index("group")
    assert (table.loc["active", "users"], table.loc["active", "stayed"]) == (6, 3)
    assert table.loc["active", "share"] == pytest.approx(0.5) and table.loc["active", "contradicted"] == 1
    assert (table.loc["dormant", "users"], table.loc["dormant", "stayed"], table.loc["dormant", "contradicted"]) == (
        1, 1, 0)
    assert set(table["pairs"]) == {2} and "churned" not in table.index
    # Where a group went: active → active 3 of 6 (2 dormant, 1 left the export); dormant → dormant 1 of 1.
    assert (table.loc["active", "next_group"], table.loc["active", "next_share"]) == ("active", pytest.approx(0.5))
    assert (table.loc["dormant", "next_group"], table.loc["dormant", "next_share"]) == ("dormant", 1.0)
    assert group_stability([], labels).set_index("group").loc["active", "users"] == 0  # no history, labels only


def test_at_risk_list_of_last_month_checked_against_this_month() -> None:
    """In June's data A, B, E were last active in May (the 即将休眠 flag); C was active in June, D in April.
    In July A is dormant, B came back, E is gone: 1 of 3 right."""
    june = _month([("A", "2024-05-20", "active"), ("B", "2024-05-03", "active"), ("C", "2024-06-10", "active"),
                   ("D", "2024-04-01", "dormant"), ("E", "2024-05-30", "active")])
    july = _month([("A", "2024-05-20", "dormant"), ("B", "2024-07-02", "awakened"), ("C", "2024-06-10", "dormant"),
                   ("D", "2024-04-01", "dormant")])
    check = at_risk_check(parse_month("2024-07"), june, july)
    assert check is not None
    assert (check.flagged, check.went_dormant, check.came_back, check.missing) == (3, 1, 1, 1)
    assert check.precision == pytest.approx(1 / 3)
    assert at_risk_check(parse_month("2024-07"), None, july) is None
