"""A/B arms on ``[[rules]]`` and user research: config checks, the seeded draw, history, 复盘 and refresh.

The exports are built here so the right answers are known: 200 churned users who still drive
(the A/B rule's group), 60 who do not (the research group) and 40 active users. A month later
the test decides who came back in each arm, so each arm's rate is known before 复盘 computes it.
"""

from __future__ import annotations

import csv
import math
import sqlite3
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from tagger.campaigns import ab_tests, research_summary, sample_size
from tagger.config import load_config
from tagger.contacts import assign_arms, assign_holdout, holdout_shares
from tagger.errors import ConfigError
from tagger.history import SCHEMA, SCHEMA_V2, SCHEMA_V3, SCHEMA_V4, SCHEMA_VERSION, HistoryStore
from tagger.pipeline import TagOptions
from tagger.refresh import RefreshOptions, refresh
from tagger.rules import load_rules

HEADER = ["用户ID", "昵称", "注册时间", "最近一次活跃时间", "是否开车", "控车次数", "内容次数", "社区次数", "售后次数",
          "活动次数"]
AB_RULES = """
[[rules]]
name = "流失召回AB"
group = "churned_driving"
holdout = 0.1
variants = [{ name = "A", channel = "短信", content = "行车报告", share = 0.45 },
            { name = "B", channel = "push", content = "车辆状态", share = 0.45 }]
"""


def ids(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i:04d}" for i in range(1, n + 1)]


DRIVING, NOT_DRIVING, ACTIVE = ids("9100", 200), ids("9200", 60), ids("9300", 40)


def write_export(path: Path, last_active: dict[str, str]) -> Path:
    """An export of every test user: driving / not driving as their ID says, last activity as given."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for uid in [*DRIVING, *NOT_DRIVING, *ACTIVE]:
            drove = "否" if uid in NOT_DRIVING else "是"
            writer.writerow([uid, f"车友{uid[-3:]}", "2023-01-05 10:00:00", last_active[uid], drove, 3, 1, 0, 0, 0])
    return path


def july(folder: Path) -> Path:
    dates = {u: "2024-03-10 09:00:00" for u in [*DRIVING, *NOT_DRIVING]}
    dates.update({u: "2024-07-12 09:00:00" for u in ACTIVE})
    return write_export(folder / "用户明细_2024-07.csv", dates)


def config_file(folder: Path, text: str = AB_RULES) -> Path:
    path = folder / "tagger.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- config


@pytest.mark.parametrize("variants, reason", [
    ('[{ name = "A", content = "x", share = 0.5 }, { name = "B", content = "y", share = 0.5 }]', "超过 1"),
    ('[{ name = "A", content = "x", share = 0.4 }, { name = "A", content = "y", share = 0.4 }]', "'A' 重复"),
    ('[{ name = "A", content = "x", share = 0 }, { name = "B", content = "y", share = 0.4 }]', "share"),
    ('[{ name = "A", content = "x", share = 0.4 }]', "至少两个"),
    ('[{ name = "A", share = 0.4 }, { name = "B", content = "y", share = 0.4 }]', "没有渠道也没有内容"),
    ('[{ name = "A", content = "x", share = 0.4, colour = "red" }, { name = "B", content = "y", share = 0.4 }]',
     "colour"),
])
def test_bad_variants_stop_at_load_with_rule_and_reason(tmp_path: Path, variants: str, reason: str) -> None:
    path = config_file(tmp_path, f'[[rules]]\nname = "试验"\ngroup = "dormant"\nholdout = 0.1\nvariants = {variants}\n')
    with pytest.raises(ConfigError) as caught:
        load_rules(load_config(path))
    message = str(caught.value)
    assert str(path) in message and "第 1 条规则（试验）" in message and reason in message


def test_variants_shares_and_cli_holdout_checked_together(tmp_path: Path, run_cli) -> None:
    """A rule without its own holdout takes --holdout: 0.5 + 0.5 + 10 % is refused before any list is written."""
    export = july(tmp_path)
    rules = ('[[rules]]\nname = "试验"\ngroup = "churned_driving"\n'
             'variants = [{ name = "A", content = "x", share = 0.5 }, { name = "B", content = "y", share = 0.5 }]\n')
    config = config_file(tmp_path, rules)
    code, _, err = run_cli("contacts", export, "--config", config, "--no-history", "--holdout", "10",
                           "--out-dir", tmp_path / "lists")
    assert code == 2 and "试验" in err and "--holdout" in err and "Traceback" not in err
    assert not (tmp_path / "lists").exists()
    code, _, err = run_cli("contacts", export, "--config", config, "--no-history", "--out-dir", tmp_path / "lists")
    assert code == 0, err


def test_review_min_lift_and_research_group_config(tmp_path: Path) -> None:
    config = load_config(config_file(tmp_path, '[review]\nmin_lift = 0.03\n[research]\ngroup = "休眠用户"\n'))
    assert (config.min_lift, config.research_group) == (0.03, "休眠用户")
    assert (load_config().min_lift, load_config().research_group) == (0.05, "churned_not_driving")
    with pytest.raises(ConfigError, match="review.min_lift"):
        load_config(config_file(tmp_path, "[review]\nmin_lift = 5\n"))


# --------------------------------------------------------------------------- the draw


def test_arms_are_seeded_stable_per_user_and_follow_the_shares(tmp_path: Path) -> None:
    ruleset = load_rules(load_config(config_file(tmp_path)))
    users = [str(100000 + i) for i in range(4000)]
    picked = pd.DataFrame({"user_id": users, "rule": "流失召回AB"})
    shares = holdout_shares(ruleset, 0.0)
    picked["holdout"] = assign_holdout(picked, shares, seed=7)
    arms = assign_arms(picked, ruleset, 7, shares)
    counts = arms.value_counts(dropna=False).to_dict()
    assert counts[""] == 400 and picked["holdout"].sum() == 400  # the rule's own 10 % holdout
    assert arms[picked["holdout"]].eq("").all()
    for arm in ("A", "B"):  # 45 % each of 4000: binomial sd of an arm ≈ 31
        assert abs(counts[arm] - 1800) < 4 * math.sqrt(4000 * 0.5 * 0.5)
    assert counts["A"] + counts["B"] == 3600  # shares + holdout = 1: nobody is left out

    # Another row order, and half the other users gone: every remaining user keeps their arm.
    subset = picked.iloc[::-1].copy()
    again = assign_arms(subset, ruleset, 7, shares)
    assert again.sort_index().equals(arms.sort_index())
    kept = picked[~picked["holdout"]].iloc[::2].copy()
    assert assign_arms(kept, ruleset, 7, shares).equals(arms[kept.index])
    assert not assign_arms(picked, ruleset, 8, shares).equals(arms)  # another seed, another draw


def test_shares_below_one_leave_the_rest_out_of_the_send(tmp_path: Path) -> None:
    rules = ('[[rules]]\nname = "半量"\ngroup = "dormant"\n'
             'variants = [{ name = "A", content = "x", share = 0.2 }, { name = "B", content = "y", share = 0.2 }]\n')
    ruleset = load_rules(load_config(config_file(tmp_path, rules)))
    picked = pd.DataFrame({"user_id": [str(i) for i in range(5000)], "rule": "半量", "holdout": False})
    arms = assign_arms(picked, ruleset, 1, {"半量": 0.0})
    assert abs(int(arms.isna().sum()) - 3000) < 4 * math.sqrt(5000 * 0.6 * 0.4)


# --------------------------------------------------------------------------- statistics


def _wilson(x: int, n: int) -> tuple[float, float]:
    z = 1.959963984540054
    p = x / n
    centre, spread = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n), (centre + spread) / (1 + z * z / n)


def test_ab_tests_compare_arms_with_each_other_and_the_holdout() -> None:
    """A: 40/100 back, B: 20/100, holdout 10/50 (recorded with A's campaign, as contacts records it)."""
    evaluated = pd.DataFrame([
        {"rule": "r", "arm": "A", "contacted": 100, "back": 40, "holdout": 50, "holdout_back": 10},
        {"rule": "r", "arm": "B", "contacted": 100, "back": 20, "holdout": 0, "holdout_back": 0},
        {"rule": "other", "arm": "", "contacted": 80, "back": 8, "holdout": 0, "holdout_back": 0},
    ])
    table = ab_tests(evaluated, min_lift=0.05).set_index(["arm", "other"])
    assert len(table) == 3  # A vs holdout, B vs holdout, A vs B; the rule without arms is not a test
    pair = table.loc[("A", "B")]
    assert (pair["contacted"], pair["back"], pair["other_n"], pair["other_back"]) == (100, 40, 100, 20)
    (l1, u1), (l0, u0) = _wilson(40, 100), _wilson(20, 100)
    assert pair["diff"] == pytest.approx(0.2)
    assert pair["low"] == pytest.approx(0.2 - math.sqrt((0.4 - l1) ** 2 + (u0 - 0.2) ** 2))
    assert pair["high"] == pytest.approx(0.2 + math.sqrt((u1 - 0.4) ** 2 + (0.2 - l0) ** 2))
    assert pair["low"] > 0  # A is better than B
    versus = table.loc[("B", "")]
    assert (versus["other_n"], versus["other_back"], versus["diff"]) == (50, 10, pytest.approx(0.0))
    assert pair["needed"] == sample_size(0.2, 0.05) == 1094  # baseline: the holdout's 10/50


def test_sample_size_matches_the_textbook_figures() -> None:
    # Fleiss (no continuity correction), 95 % two-sided, 80 % power.
    assert sample_size(0.20, 0.05) == 1094
    assert sample_size(0.10, 0.10) == 199
    assert sample_size(0.50, 0.10) == 388
    assert sample_size(0.98, 0.05) is None  # 103 % is no rate


def test_research_summary_counts_by_answer_and_reason() -> None:
    frame = pd.DataFrame({"answer": ["不再用车", "不再用车", " 换车 ", "", "换车"],
                          "reason": ["卖车", "卖车", "买了别的品牌", "", "卖车"]})
    answers, reasons = research_summary(frame)
    assert answers.values.tolist() == [["不再用车", 2], ["换车", 2], ["", 1]]
    assert reasons.values.tolist() == [["卖车", 3], ["买了别的品牌", 1], ["", 1]]


# --------------------------------------------------------------------------- history


def test_schema_4_history_migrates_to_arms_and_research(tmp_path: Path) -> None:
    path = tmp_path / "v4.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA + SCHEMA_V2 + SCHEMA_V3)
    for statement in filter(str.strip, SCHEMA_V4.split(";")):
        conn.execute(statement)
    conn.execute("INSERT INTO meta VALUES ('schema_version', '4')")
    conn.execute("INSERT INTO campaigns (id, date, month, rule, grp, channel, content, holdout_share, seed, "
                 "created_at) VALUES (1, '2024-06-10', '2024-06', '休眠召回', 'dormant', 'push', '提醒', 0.1, 3, 'x')")
    conn.executemany("INSERT INTO campaign_users VALUES (1, ?, ?)", [("u1", 0), ("u2", 1)])
    conn.commit()
    conn.close()
    with HistoryStore(path) as store:
        assert store.schema_version() == SCHEMA_VERSION == 6
        assert store.campaigns()[["rule", "arm"]].values.tolist() == [["休眠召回", ""]]
        members = store.campaign_users().sort_values("user_id")
        assert members[["user_id", "holdout", "arm"]].values.tolist() == [["u1", False, ""], ["u2", True, ""]]
        assert store.research().empty
        # The old campaign and an A/B arm of the same day live side by side.
        store.add_campaign(date="2024-06-10", month="2024-06", rule="休眠召回", group="dormant", channel="push",
                           content="提醒", users=pd.DataFrame({"user_id": ["u3"], "holdout": [False]}), arm="A")
        assert sorted(store.campaigns()["arm"]) == ["", "A"]


# --------------------------------------------------------------------------- end to end


def _august(folder: Path, back: set[str]) -> Path:
    dates = {u: "2024-03-10 09:00:00" for u in [*DRIVING, *NOT_DRIVING]}
    dates.update({u: "2024-08-05 09:00:00" for u in [*ACTIVE, *back]})
    return write_export(folder / "用户明细_2024-08.csv", dates)


def _sheet_rows(ws) -> list[list[object]]:
    return [[c.value for c in row] for row in ws.iter_rows()]


def test_contacts_arms_history_and_review_end_to_end(tmp_path: Path, run_cli) -> None:
    export, config, history = july(tmp_path), config_file(tmp_path), tmp_path / "h.sqlite"
    code, out, err = run_cli("contacts", export, "--config", config, "--history", history, "--date", "2024-07-20",
                             "--out-dir", tmp_path / "lists", "--seed", "11", "--json")
    assert code == 0, err
    import json

    data = json.loads(out)
    arms = {c["arm"]: c for c in data["campaigns"]}
    assert set(arms) == {"A", "B"}
    assert arms["A"]["holdout"] == 20 and arms["B"]["holdout"] == 0  # the holdout once, with the first arm
    assert arms["A"]["contacted"] + arms["B"]["contacted"] == 180
    assert {(c["channel"], c["content"]) for c in data["campaigns"]} == {("sms", "行车报告"), ("push", "车辆状态")}

    # One list per channel with an arm column; each arm's users and content in its channel's list.
    lists = {Path(f).name: f for item in data["lists"] for f in item["files"]}
    with Path(lists["2024-07-20_sms.csv"]).open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["实验组"] for r in rows} == {"A"} and {r["活动/内容"] for r in rows} == {"行车报告"}
    assert len(rows) == arms["A"]["contacted"]
    book = openpyxl.load_workbook(lists["2024-07-20_push.xlsx"])
    heads = [c.value for c in book.active[1]]
    assert "实验组" in heads and book.active.max_row - 1 == arms["B"]["contacted"]

    with HistoryStore(history) as store:
        members = store.campaign_users().merge(store.campaigns()[["id", "arm"]].rename(
            columns={"id": "campaign_id", "arm": "campaign_arm"}))
    assert (members.loc[~members["holdout"], "arm"] == members.loc[~members["holdout"], "campaign_arm"]).all()
    assert (members.loc[members["holdout"], "arm"] == "").all()
    by_arm = {arm: sorted(part["user_id"]) for arm, part in members[~members["holdout"]].groupby("arm")}
    held = sorted(members.loc[members["holdout"], "user_id"])
    assert len(held) == 20 and set(held).isdisjoint(by_arm["A"] + by_arm["B"])

    # August: 40 % of A came back, 20 % of B, 10 % of the holdout.
    n_a, n_b = len(by_arm["A"]), len(by_arm["B"])
    k_a, k_b = round(0.4 * n_a), round(0.2 * n_b)
    back = {*by_arm["A"][:k_a], *by_arm["B"][:k_b], *held[:2]}
    result = refresh(RefreshOptions(TagOptions(export=_august(tmp_path, back), config=config, history=history,
                                               output=tmp_path / "OUT.xlsx"))).result
    table = result.review.ab.set_index(["arm", "other"])
    pair = table.loc[("A", "B")]
    assert (pair["contacted"], pair["back"], pair["other_n"], pair["other_back"]) == (n_a, k_a, n_b, k_b)
    assert pair["diff"] == pytest.approx(k_a / n_a - k_b / n_b)
    assert (table.loc[("A", ""), "other_n"], table.loc[("A", ""), "other_back"]) == (20, 2)
    assert pair["needed"] == sample_size(0.1, 0.05)
    # The Users sheet names both arms' actions for a rule whose action is in its arms.
    driving = result.tags[result.tags["group"] == "churned_driving"]
    assert set(driving["rule"]) == {"流失召回AB"} and set(driving["content"]) == {"行车报告/车辆状态"}

    review = openpyxl.load_workbook(result.output)["复盘"]
    cells = _sheet_rows(review)
    start = next(i for i, row in enumerate(cells) if row[0] and str(row[0]).startswith("A/B 测试"))
    header = cells[start + 2]
    assert header[:3] == ["规则", "实验组", "触达人数"]
    body = {(r[1], r[5]): r for r in cells[start + 3:start + 6]}
    assert body[("A", "B")][2:5] == [n_a, k_a, pytest.approx(k_a / n_a)]
    assert body[("A", "对照组")][6] == 20
    assert body[("A", "B")][12] == sample_size(0.1, 0.05) and body[("A", "B")][13] == "不足"


def test_research_sample_typed_answers_carried_and_summarised(tmp_path: Path, run_cli) -> None:
    export, history = july(tmp_path), tmp_path / "h.sqlite"
    config = config_file(tmp_path)
    code, out, err = run_cli("contacts", export, "--config", config, "--history", history, "--date", "2024-07-20",
                             "--out-dir", tmp_path / "lists", "--research", "12")
    assert code == 0, err
    assert "调研抽样 12 人" in out
    with HistoryStore(history) as store:
        drawn = store.research()
    assert len(drawn) == 12 and set(drawn["user_id"]) <= set(NOT_DRIVING)
    assert set(drawn["group"]) == {"churned_not_driving"} and set(drawn["month"]) == {"2024-07"}
    listed = list(csv.DictReader((tmp_path / "lists" / "2024-07-20_调研.csv").open(encoding="utf-8-sig")))
    assert sorted(r["用户ID"] for r in listed) == sorted(drawn["user_id"])
    # Same seed, same sample (a redraw replaces only the unanswered users, so it is the same here).
    code, _, err = run_cli("contacts", export, "--config", config, "--no-history", "--out-dir", tmp_path / "again",
                           "--research", "12", "--date", "2024-07-21")
    assert code == 0, err
    again = list(csv.DictReader((tmp_path / "again" / "2024-07-21_调研.csv").open(encoding="utf-8-sig")))
    assert sorted(r["用户ID"] for r in again) == sorted(drawn["user_id"])

    first = refresh(RefreshOptions(TagOptions(export=export, config=config, history=history,
                                              output=tmp_path / "W1.xlsx"))).result.output
    book = openpyxl.load_workbook(first)
    ws = book["用户调研"]
    heads = [c.value for c in ws[3]]
    assert heads == ["数据月份", "用户ID", "抽样分群", "抽样日期", "调研结果", "原因"]
    rows = {ws.cell(r, 2).value: r for r in range(4, ws.max_row + 1)}
    assert sorted(rows) == sorted(drawn["user_id"])
    assert {ws.cell(r, 3).value for r in rows.values()} == {"无开车无APP活跃"}
    typed = sorted(rows)
    for uid in typed[:5]:
        ws.cell(rows[uid], 5).value, ws.cell(rows[uid], 6).value = "不再用车", "卖车"
    for uid in typed[5:7]:
        ws.cell(rows[uid], 5).value, ws.cell(rows[uid], 6).value = "换品牌", "=不是公式"
        ws.cell(rows[uid], 6).data_type = "s"
    book.save(first)

    second = refresh(RefreshOptions(TagOptions(export=export, config=config, history=history,
                                               output=tmp_path / "W2.xlsx"), workbook=first)).result
    with HistoryStore(history) as store:
        answers = store.research().set_index("user_id")
    assert answers.loc[typed[0], ["answer", "reason"]].tolist() == ["不再用车", "卖车"]
    assert answers.loc[typed[6], "reason"] == "=不是公式"
    assert (answers.loc[typed[7:], "answer"] == "").all()

    book = openpyxl.load_workbook(second.output)
    ws = book["用户调研"]
    carried = {ws.cell(r, 2).value: ws.cell(r, 6) for r in range(4, ws.max_row + 1)}
    assert carried[typed[6]].value == "=不是公式" and carried[typed[6]].data_type == "s"
    cells = _sheet_rows(book["复盘"])
    start = next(i for i, row in enumerate(cells) if row[0] and str(row[0]).startswith("用户调研"))
    assert cells[start + 1][0] == "抽样 12 人，已填写 7 人"
    assert cells[start + 2][:2] == ["调研结果", "人数"]
    assert cells[start + 3][:2] == ["不再用车", 5] and cells[start + 4][:2] == ["换品牌", 2]
    assert cells[start + 5][:2] == ["（未填写）", 5]
    reasons = next(i for i in range(start + 3, len(cells)) if cells[i][0] == "原因")
    assert cells[reasons + 1][:2] == ["卖车", 5] and cells[reasons + 2][:2] == ["=不是公式", 2]


def test_research_answers_clear_and_an_older_copy_only_fills(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.sqlite") as store:
        store.save_research_sample("2024-07", pd.DataFrame({"user_id": ["1", "2", "3"], "group": "dormant"}),
                                   drawn="2024-07-20", seed=1)
        typed = pd.DataFrame({"month": "2024-07", "user_id": ["1", "2", "9"], "answer": ["换车", "忙", "x"],
                              "reason": ["卖车", "", "y"]})
        assert store.save_research_answers(typed, source="W1.xlsx") == 2  # user 9 was never drawn
        cleared = pd.DataFrame({"month": "2024-07", "user_id": ["2"], "answer": [""], "reason": [""]})
        store.save_research_answers(cleared, source="W2.xlsx")
        older = pd.DataFrame({"month": "2024-07", "user_id": ["1", "3"], "answer": ["旧答案", "不用APP"],
                              "reason": ["", "没时间"]})
        store.save_research_answers(older, source="OLD.xlsx", only_empty=True)
        # A redraw keeps answered users and replaces the rest.
        store.save_research_sample("2024-07", pd.DataFrame({"user_id": ["4"], "group": "dormant"}),
                                   drawn="2024-07-27", seed=2)
        stored = store.research().set_index("user_id")
    assert stored[["answer", "reason"]].to_dict("index") == {
        "1": {"answer": "换车", "reason": "卖车"}, "3": {"answer": "不用APP", "reason": "没时间"},
        "4": {"answer": "", "reason": ""}}


@pytest.mark.parametrize("extra, word", [(["--research", "-3"], "--research"),
                                         (["--research", "5", "--research-group", "发呆用户"], "--research-group")])
def test_bad_research_options_are_one_line_before_any_list(tmp_path: Path, run_cli, extra: list[str],
                                                            word: str) -> None:
    export = july(tmp_path)
    code, _, err = run_cli("contacts", export, "--config", config_file(tmp_path), "--no-history",
                           "--out-dir", tmp_path / "lists", *extra)
    assert code == 2 and word in err and "Traceback" not in err
    assert not (tmp_path / "lists").exists()
