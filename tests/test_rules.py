"""Trigger rules: every operator, the shorthands, rule functions, first/all matching and load-time errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tagger.config import load_config
from tagger.errors import ConfigError
from tagger.i18n import set_language
from tagger.pipeline import TagOptions, run
from tagger.rules import apply_rules, assign_rules, load_rules, playbook_rules, rule_frame, rule_masks


def config_with(tmp_path: Path, body: str, name: str = "tagger.toml"):
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return load_config(path)


@pytest.fixture
def frame() -> pd.DataFrame:
    """Five users with the columns rules look at."""
    return pd.DataFrame(
        {
            "segment": ["dormant", "churned", "active", "new", "dormant"],
            "group": ["dormant", "churned_driving", "active", "new", "dormant"],
            "idle_months": pd.array([1, 3, 0, None, 1], dtype="Int64"),
            "primary_key": ["control", "content", "control", "", "activity"],
            "primary": ["控车偏好", "内容偏好", "控车偏好", "", "活动偏好"],
            "tags": ["控车偏好、活动偏好", "内容偏好", "控车偏好", "", "活动偏好"],
            "drove": pd.array([True, True, False, None, False], dtype="boolean"),
            "近三个月参与活动次数": ["3", "0", "12", "", "5"],
            "城市": ["上海", "北京", "上海", "广州", "深圳"],
        },
        index=[2, 3, 4, 5, 6],
    )


def masks_for(tmp_path: Path, frame: pd.DataFrame, rule_body: str) -> list[bool]:
    config = config_with(tmp_path, f"[[rules]]\nname = \"r\"\nchannel = \"push\"\n{rule_body}\n")
    return rule_masks(frame, load_rules(config))["r"].tolist()


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ('{ column = "近三个月参与活动次数", op = "==", value = 3 }', [True, False, False, False, False]),
        ('{ column = "近三个月参与活动次数", op = "!=", value = 3 }', [False, True, True, True, True]),
        ('{ column = "近三个月参与活动次数", op = "<", value = 5 }', [True, True, False, False, False]),
        ('{ column = "近三个月参与活动次数", op = "<=", value = 5 }', [True, True, False, False, True]),
        ('{ column = "近三个月参与活动次数", op = ">", value = 5 }', [False, False, True, False, False]),
        ('{ column = "近三个月参与活动次数", op = ">=", value = 5 }', [False, False, True, False, True]),
        ('{ column = "城市", op = "==", value = "上海" }', [True, False, True, False, False]),
        ('{ column = "城市", op = "!=", value = "上海" }', [False, True, False, True, True]),
        ('{ column = "城市", op = "in", value = ["北京", "深圳"] }', [False, True, False, False, True]),
        ('{ column = "城市", op = "not in", value = ["北京", "深圳"] }', [True, False, True, True, False]),
        ('{ column = "近三个月参与活动次数", op = "in", value = [0, 12] }', [False, True, True, False, False]),
        ('{ column = "idle_months", op = ">=", value = 1 }', [True, True, False, False, True]),
        ('{ column = "drove", op = "==", value = true }', [True, True, False, False, False]),
        ('{ column = "group", op = "NOT  IN", value = ["dormant"] }', [False, True, True, True, False]),
    ],
)
def test_each_operator(tmp_path: Path, frame: pd.DataFrame, condition: str, expected: list[bool]) -> None:
    assert masks_for(tmp_path, frame, f"when = [{condition}]") == expected


@pytest.mark.parametrize(
    ("shorthand", "expected"),
    [
        ('segment = "dormant"', [True, False, False, False, True]),
        ('segment = ["休眠用户", "Churned"]', [True, True, False, False, True]),
        ('group = "有开车无APP活跃"', [False, True, False, False, False]),
        ('preference = "控车偏好"', [True, False, True, False, False]),
        ('has_preference = "activity"', [True, False, False, False, True]),
        ("drove = false", [False, False, True, False, True]),
        ("idle_months = 1", [True, False, False, False, True]),
        ("min_idle_months = 2", [False, True, False, False, False]),
        ("max_idle_months = 1", [True, False, True, False, True]),
        ('group = "dormant"\npreference = "control"\nmin_idle_months = 1', [True, False, False, False, False]),
    ],
)
def test_shorthands(tmp_path: Path, frame: pd.DataFrame, shorthand: str, expected: list[bool]) -> None:
    assert masks_for(tmp_path, frame, shorthand) == expected


@pytest.mark.parametrize(
    ("rule_body", "reason"),
    [
        ('when = [{ column = "x", op = "=~", value = 1 }]', "operator '=~' is invalid"),
        ('when = [{ column = "x", op = "in", value = 1 }]', "'in' needs a list value"),
        ('when = [{ column = "x", op = ">", value = "abc" }]', "'>' needs a number"),
        ('when = [{ column = "x", op = "==", value = [1, 2] }]', "'==' needs a single value"),
        ('when = [{ column = "x", value = 1 }]', "condition 1 must look like"),
        ('segment = "sleepy"', "segment value 'sleepy' is not a known segment"),
        ('group = "dormant"\nmin_idle_months = -1', "min_idle_months must be a whole number"),
        ('group = "dormant"\ndrove = "yes"', "drove must be true or false"),
        ('group = "dormant"\nchannel = "carrier pigeon"', "channel 'carrier pigeon' is not one of"),
        ('group = "dormant"\npriority = "high"', "priority must be a number"),
        ('group = "dormant"\ncolour = "red"', "unknown key(s) colour"),
        ("channel = \"sms\"", "no condition"),
        ('function = "f"', "names no rules_file"),
    ],
)
def test_invalid_rules_name_position_and_reason(tmp_path: Path, rule_body: str, reason: str) -> None:
    set_language("en")
    body = ('[[rules]]\nname = "ok"\ngroup = "new"\ncontent = "welcome"\n\n'
            f'[[rules]]\nname = "bad one"\ncontent = "x"\n{rule_body}\n')
    with pytest.raises(ConfigError) as caught:
        load_rules(config_with(tmp_path, body))
    message = str(caught.value)
    assert "rule 2 (bad one)" in message
    assert reason in message


def test_rule_without_action_and_duplicate_names(tmp_path: Path) -> None:
    set_language("en")
    with pytest.raises(ConfigError, match=r"rule 1 \(a\).*no action"):
        load_rules(config_with(tmp_path, '[[rules]]\nname = "a"\ngroup = "new"\n'))
    body = ('[[rules]]\nname = "a"\ngroup = "new"\ncontent = "x"\n'
            '[[rules]]\nname = "a"\ngroup = "dormant"\ncontent = "y"\n')
    with pytest.raises(ConfigError, match=r"rule 2 \(a\).*repeats rule 1"):
        load_rules(config_with(tmp_path, body))


def test_unknown_column_is_named_when_matching(tmp_path: Path, frame: pd.DataFrame) -> None:
    set_language("en")
    config = config_with(tmp_path, '[[rules]]\nname = "r"\ncontent = "x"\n'
                                   'when = [{ column = "省份", op = "==", value = "浙江" }]\n')
    with pytest.raises(ConfigError, match=r"rule 1 \(r\) refers to column '省份'.*城市"):
        rule_masks(frame, load_rules(config))


def test_first_match_by_priority_then_position_and_all(tmp_path: Path, frame: pd.DataFrame) -> None:
    rules = """
[[rules]]
name = "休眠"
segment = "dormant"
channel = "push"
content = "车辆状态"

[[rules]]
name = "控车"
preference = "control"
channel = "短信"
content = "远程控车技巧"
priority = 5

[[rules]]
name = "流失"
group = "churned_driving"
channel = "wechat"
content = "行车报告"
"""
    config = config_with(tmp_path, rules)
    ruleset = load_rules(config)
    first = assign_rules(rule_masks(frame, ruleset), ruleset, "zh")
    assert first["rule"].tolist() == ["控车", "流失", "控车", "", "休眠"]
    assert first["channel"].tolist() == ["短信", "微信服务号", "短信", "", "push"]
    assert first["channel_key"].tolist() == ["sms", "wechat", "sms", "", "push"]
    assert first["content"].tolist() == ["远程控车技巧", "行车报告", "远程控车技巧", "", "车辆状态"]

    config = config_with(tmp_path, 'rules_match = "all"\n' + rules)
    ruleset = load_rules(config)
    every = assign_rules(rule_masks(frame, ruleset), ruleset, "en")
    assert every["rule"].tolist() == ["控车、休眠", "流失", "控车", "", "休眠"]
    assert every["channel"].tolist()[0] == "SMS、Push"


def test_rule_functions_from_a_file(tmp_path: Path, frame: pd.DataFrame) -> None:
    (tmp_path / "my_rules.py").write_text(
        "def busy_drivers(users):\n"
        "    return users['drove'].fillna(False) & (users['idle_months'].fillna(0) >= 1)\n"
        "def broken(users):\n"
        "    return [True]\n",
        encoding="utf-8")
    config = config_with(tmp_path, 'rules_file = "my_rules.py"\n[[rules]]\nname = "f"\nfunction = "busy_drivers"\n'
                                   'content = "行车报告"\n')
    assert rule_masks(frame, load_rules(config))["f"].tolist() == [True, True, False, False, False]

    set_language("en")
    config = config_with(tmp_path, 'rules_file = "my_rules.py"\n[[rules]]\nname = "g"\nfunction = "nope"\n'
                                   'content = "x"\n')
    with pytest.raises(ConfigError, match=r"rule 1 \(g\).*no function 'nope'.*busy_drivers"):
        load_rules(config)
    config = config_with(tmp_path, 'rules_file = "my_rules.py"\n[[rules]]\nname = "b"\nfunction = "broken"\n'
                                   'content = "x"\n')
    with pytest.raises(ConfigError, match=r"rule 1 \(b\): function 'broken' did not return a boolean mask"):
        rule_masks(frame, load_rules(config))


def test_rules_file_that_does_not_import(tmp_path: Path) -> None:
    set_language("en")
    (tmp_path / "bad.py").write_text("def f(:\n", encoding="utf-8")
    config = config_with(tmp_path, 'rules_file = "bad.py"\n[[rules]]\nname = "b"\nfunction = "f"\ncontent = "x"\n')
    with pytest.raises(ConfigError, match=r"rule 1 \(b\).*cannot be loaded: SyntaxError"):
        load_rules(config)


def test_no_rules_gives_empty_columns(frame: pd.DataFrame, tmp_path: Path) -> None:
    ruleset = load_rules(config_with(tmp_path, "rules = []\n"))
    assert not ruleset
    out = apply_rules(frame[["segment", "group"]], frame[["drove"]], None, ruleset, "zh")
    assert (out[["rule", "channel", "content"]] == "").all().all()


def test_rule_frame_prefers_tags_over_export_columns(frame: pd.DataFrame) -> None:
    raw = pd.DataFrame({"group": ["x"] * 5, "城市": ["a"] * 5}, index=frame.index)
    merged = rule_frame(frame[["drove"]], frame[["group"]], raw)
    assert merged["group"].tolist() == frame["group"].tolist()
    assert merged["城市"].tolist() == ["a"] * 5


def test_pipeline_adds_rule_columns(tmp_path: Path, samples: Path) -> None:
    (tmp_path / "tagger.toml").write_text(
        '[[rules]]\nname = "休眠控车"\nsegment = "dormant"\npreference = "control"\nchannel = "push"\n'
        'content = "车辆状态提醒"\n', encoding="utf-8")
    result = run(TagOptions(export=samples / "car_app_2024-07.csv", use_history=False, write=False,
                            config=tmp_path / "tagger.toml"))
    fired = result.tags["rule"] == "休眠控车"
    assert fired.sum() > 0
    expected = (result.tags["segment"] == "dormant") & (result.tags["primary_key"] == "control")
    assert fired.equals(expected)
    assert set(result.tags.loc[fired, "content"]) == {"车辆状态提醒"}
    assert set(result.tags.loc[~fired, "channel"]) == {""}


def test_users_sheet_shows_which_rule_fired(tmp_path: Path, samples: Path) -> None:
    import openpyxl

    lines = (samples / "car_app_2024-07.csv").read_text(encoding="utf-8-sig").splitlines(keepends=True)
    export = tmp_path / "用户明细_2024-07.csv"
    export.write_text("".join(lines[:301]), encoding="utf-8-sig")
    (tmp_path / "tagger.toml").write_text(
        '[[rules]]\nname = "休眠召回"\nsegment = "dormant"\nchannel = "短信"\ncontent = "=1+1 福利"\n',
        encoding="utf-8")
    result = run(TagOptions(export=export, use_history=False, config=tmp_path / "tagger.toml",
                            output=tmp_path / "out.xlsx"))
    ws = openpyxl.load_workbook(result.output)["用户明细"]
    heads = [c.value for c in ws[1]]
    rule, channel, content = (heads.index(h) + 1 for h in ("触发规则", "规则渠道", "规则内容"))
    fired = [r for r in range(2, ws.max_row + 1) if ws.cell(r, rule).value]
    assert len(fired) == int((result.tags["rule"] != "").sum()) > 0
    assert {ws.cell(r, channel).value for r in fired} == {"短信"}
    assert all(ws.cell(r, content).data_type == "s" and ws.cell(r, content).value == "=1+1 福利" for r in fired)


@pytest.mark.parametrize("preset", ["car_app", "ecommerce", "social"])
def test_presets_ship_valid_default_rules_that_follow_their_playbook(preset: str) -> None:
    config = load_config(preset=preset)
    ruleset = load_rules(config)
    assert len(ruleset.rules) >= 1
    channels = {p.channel for p in config.playbook}
    for rule in ruleset.rules:
        assert rule.channel in channels
        assert any(c.column == "idle_months" for c in rule.conditions), rule.name


def test_project_rules_replace_the_presets_whole_list(tmp_path: Path) -> None:
    config = config_with(tmp_path, '[[rules]]\nname = "mine"\ngroup = "dormant"\nchannel = "push"\n')
    assert [r.name for r in load_rules(config).rules] == ["mine"]


def test_playbook_rules_follow_the_most_specific_play() -> None:
    config = load_config(preset="car_app")
    ruleset = playbook_rules(config, "zh")
    frame = pd.DataFrame({"group": ["dormant", "dormant", "churned_driving"],
                          "primary_key": ["activity", "", ""], "segment": ["dormant", "dormant", "churned"]})
    out = assign_rules(rule_masks(frame, ruleset), ruleset, "zh")
    assert out["channel_key"].tolist() == ["sms", "push", "sms"]
    assert out["content"].tolist()[0] == "限时福利：签到抽洗车券"
