"""``[[playbook]]`` rows in the presets and project configs: parsed, bilingual, validated."""

from __future__ import annotations

from pathlib import Path

import pytest

from tagger.config import PLAY_GOALS, PLAY_GROUPS, available_presets, load_config
from tagger.errors import ConfigError
from tagger.metrics import RATE_BASES
from tagger.segments import GROUPS, UNSPLIT


def test_play_keys_match_segments_and_rates() -> None:
    assert set(PLAY_GROUPS) == {*GROUPS, UNSPLIT}
    assert set(PLAY_GOALS) == {"active_rate", *RATE_BASES}


@pytest.mark.parametrize("preset", available_presets())
def test_every_preset_has_a_playbook(preset: str) -> None:
    config = load_config(preset=preset)
    assert config.playbook
    channels = {c.key for c in config.channels}
    for play in config.playbook:
        assert play.channel in channels
        assert play.text("strategy", "zh") and play.text("strategy", "en")


def test_car_app_playbook_follows_the_seed() -> None:
    plays = load_config(preset="car_app").playbook
    strategies = {p.text("strategy", "zh") for p in plays}
    for name in ("新用户激励体系", "用车知识周期推送", "行车报告召回", "车辆状态提醒", "用户调研", "流失召回活动"):
        assert name in strategies
    assert {p.group for p in plays} >= {"new", "last_month_new", "active", "awakened", "returned", "dormant",
                                        "churned_driving", "churned_not_driving"}


def test_project_config_replaces_the_playbook(tmp_path: Path) -> None:
    path = tmp_path / "tagger.toml"
    path.write_text('[[playbook]]\ngroup = "dormant"\ngoal = "awaken_rate"\nstrategy = "短信唤醒"\n'
                    'channel = "sms"\nowner = { zh = "小王", en = "Wang" }\n', encoding="utf-8")
    plays = load_config(path).playbook
    assert len(plays) == 1 and plays[0].text("strategy", "en") == "短信唤醒" and plays[0].status == "planned"
    assert plays[0].text("owner", "en") == "Wang"


@pytest.mark.parametrize(("line", "key"), [
    ('group = "vip"', "group"), ('goal = "fun"', "goal"), ('channel = "fax"', "channel"),
    ('status = "maybe"', "status"), ('preference = "golf"', "preference"), ('content = { zh = "只有中文" }', "content"),
])
def test_bad_playbook_rows_name_the_key(tmp_path: Path, line: str, key: str) -> None:
    base = {"group": 'group = "new"', "goal": 'goal = "new_retention"', "channel": 'channel = "push"'}
    base[key] = line
    body = "\n".join(v for k, v in base.items()) + ("\n" + line if key not in base else "")
    path = tmp_path / "tagger.toml"
    path.write_text(f'[[playbook]]\nstrategy = "x"\n{body}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=f"playbook\\[0\\].*{key}|playbook\\[0\\]\\.{key}"):
        load_config(path)
