"""Re-saving tagger.toml (the wizard, ``tagger init --force``) keeps every setting it does not ask about."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

from tests.test_wizard import CLEAR, ENTER, drive

# A project file holding, besides the wizard's own keys, a setting of every kind a person adds by hand.
HAND_WRITTEN = """\
# 我们组的配置：阈值改过两次，别动 [[rules]]
[project]
preset = "car_app"
language = "zh"
target_active_rate = 0.85  # 季度目标

[lifecycle]
churn_after_months = 2
blank_last_active = "warn"

[preferences]
threshold = 0.3
share_of = "sessions"   # 按活跃天数
window = "month"

[columns]
date_order = "mdy"

[history]
path = "tagger-history.sqlite"
keep_months = 13

[forecast]
target_months = ["2024-07", "2024-08", "2024-09"]
rate_basis = "best6"

[value_layers]
value = "近三个月参与活动次数"
method = "thresholds"
value_min = 2
recency_max_days = 45

[review]
min_lift = 0.07

[research]
group = "dormant"

[[alerts.levels]]
name = "二级预警"
idle_days = 60
action = "启动流失用户调研"

[sql]
table = "dw.user_snapshot"
user_id = "uid"

[[rules]]
name = "流失召回AB"  # 七月的实验
group = "churned_driving"
holdout = 0.1
variants = [{ name = "A", channel = "sms", content = "行车报告", share = 0.45 },
            { name = "B", channel = "push", content = "车辆状态提醒", share = 0.45 }]
"""

KEPT = {
    "forecast": {"target_months": ["2024-07", "2024-08", "2024-09"], "rate_basis": "best6"},
    "value_layers": {"value": "近三个月参与活动次数", "method": "thresholds", "value_min": 2, "recency_max_days": 45},
    "review": {"min_lift": 0.07},
    "research": {"group": "dormant"},
    "alerts": {"levels": [{"name": "二级预警", "idle_days": 60, "action": "启动流失用户调研"}]},
    "sql": {"table": "dw.user_snapshot", "user_id": "uid"},
    "rules": [{"name": "流失召回AB", "group": "churned_driving", "holdout": 0.1,
               "variants": [{"name": "A", "channel": "sms", "content": "行车报告", "share": 0.45},
                            {"name": "B", "channel": "push", "content": "车辆状态提醒", "share": 0.45}]}],
}
COMMENTS = ("# 我们组的配置：阈值改过两次，别动 [[rules]]", "# 季度目标", "# 按活跃天数", "# 七月的实验")


def assert_kept(data: dict) -> None:
    for table, values in KEPT.items():
        assert data[table] == values, table
    assert data["preferences"]["share_of"] == "sessions" and data["preferences"]["window"] == "month"
    assert data["lifecycle"]["blank_last_active"] == "warn"


def test_wizard_resave_keeps_hand_written_settings(samples: Path, tmp_path: Path) -> None:
    shutil.copy2(samples / "car_app_2024-06.xlsx", tmp_path / "car_app_2024-06.xlsx")
    config = tmp_path / "tagger.toml"
    config.write_text(HAND_WRITTEN, encoding="utf-8")
    keys = (ENTER + ENTER + ENTER      # export, month, mapping
            + ENTER                    # preset car_app
            + CLEAR + "3" + ENTER      # churn after 3 months
            + CLEAR + "0.4" + ENTER    # threshold
            + CLEAR + "90%" + ENTER    # target
            + ENTER + ENTER + ENTER    # language, history, output
            + ENTER + ENTER)           # save, run
    result, _ = drive(keys, tmp_path)
    text = config.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    # The wizard's answers are in …
    assert data["lifecycle"]["churn_after_months"] == 3 and data["preferences"]["threshold"] == 0.4
    assert data["project"]["target_active_rate"] == 0.9 and data["project"]["preset"] == "car_app"
    assert data["columns"]["date_order"] == "mdy"
    # … and everything else is as the person wrote it, comments included.
    assert_kept(data)
    for comment in COMMENTS:
        assert comment in text
    # The run itself used the kept settings, and the previous file is in backups/.
    assert result.config.preference_share_of == "sessions" and result.config.value_layers is not None
    assert result.config.value_layers.value_min == 2 and result.config.research_group == "dormant"
    backups = list((tmp_path / "backups").glob("tagger.*.toml"))
    assert [b.read_text(encoding="utf-8") for b in backups] == [HAND_WRITTEN]


def test_wizard_without_a_config_still_writes_the_commented_file(samples: Path, tmp_path: Path) -> None:
    shutil.copy2(samples / "car_app_2024-06.xlsx", tmp_path / "car_app_2024-06.xlsx")
    drive(ENTER * 12, tmp_path)
    text = (tmp_path / "tagger.toml").read_text(encoding="utf-8")
    assert "# 连续多少个月没有活跃算流失" in text and "[[rules]]" in text  # the preset's rules, commented
    assert "rules" not in tomllib.loads(text) and not (tmp_path / "backups").exists()


def test_init_force_keeps_hand_written_settings(run_cli, tmp_path: Path) -> None:
    config = tmp_path / "tagger.toml"
    config.write_text(HAND_WRITTEN.replace("churn_after_months = 2", "churn_after_months = 5")
                      .replace('date_order = "mdy"', 'date_order = "mdy"\nuser_id = "会员号"'), encoding="utf-8")
    code, out, err = run_cli("init", tmp_path)
    assert code != 0 and "--force" in err  # without --force nothing changes, as before
    code, out, err = run_cli("init", tmp_path, "--force", "--lang", "en")
    assert code == 0, err
    text = config.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    assert data["lifecycle"]["churn_after_months"] == 2  # init's keys: the preset's values again
    assert data["project"]["language"] == "en" and data["project"]["template"] == "car_app.toml"
    assert data["columns"] == {"date_order": "mdy", "user_id": "会员号"}  # init does not ask about columns
    assert_kept(data)
    for comment in COMMENTS:
        assert comment in text
    assert "backups" in out
    assert len(list((tmp_path / "backups").glob("tagger.*.toml"))) == 1


def test_init_force_replaces_a_file_that_is_not_toml(run_cli, tmp_path: Path) -> None:
    config = tmp_path / "tagger.toml"
    config.write_text("[project\npreset = \n", encoding="utf-8")
    code, _, err = run_cli("init", tmp_path, "--force")
    assert code == 0, err
    assert tomllib.loads(config.read_text(encoding="utf-8"))["project"]["preset"] == "car_app"
    backups = list((tmp_path / "backups").glob("tagger.*.toml"))
    assert [b.read_text(encoding="utf-8") for b in backups] == ["[project\npreset = \n"]
