"""The 预警 content of a mid-month run, on a small export whose answer is known by construction."""

from __future__ import annotations

from pathlib import Path

import pytest

from tagger.alerts import compute_alerts, load_levels
from tagger.config import load_config
from tagger.errors import ConfigError
from tagger.i18n import set_language
from tagger.pipeline import TagOptions, run

HEADER = "用户ID,注册时间,最近一次活跃时间,上次活跃时间,是否开车,控车次数,内容次数\n"


def mid_month_export(tmp_path: Path) -> Path:
    """Data up to 2024-07-15: 6 active in July, 3 active in June only, 1 idle since April, 1 since March."""
    rows = [
        *(f"A{i},2023-01-01,2024-07-{i + 1:02d},2024-06-20,是,5,1" for i in range(1, 6)),
        "A6,2023-01-01,2024-07-15,2024-06-20,是,5,1",
        "R1,2023-01-01,2024-06-28,2024-06-28,是,9,1",
        "R2,2023-01-01,2024-06-10,2024-06-10,否,1,9",
        "R3,2023-01-01,2024-06-01,2024-06-01,否,1,9",
        "C1,2023-01-01,2024-05-01,2024-05-01,是,0,0",  # 75 days idle on 07-15: level 2
        "C2,2023-01-01,2024-04-01,2024-04-01,是,0,0",  # 105 days: level 3
    ]
    path = tmp_path / "用户明细_2024-07.csv"
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_mid_month_alerts(tmp_path: Path) -> None:
    result = run(TagOptions(export=mid_month_export(tmp_path), use_history=False, write=False))
    alerts = compute_alerts(result)
    p = alerts.projection
    assert (p.day, p.days, p.mid_month) == (15, 31, True)
    assert (p.active, p.cumulative) == (6, 11)
    # Default curve, uncalibrated (no history): seen(15 of 31) = (15/31) ** 0.5, so 6 / 0.696 = 8.6 → 9.
    assert p.projected_active == round(6 / (15 / 31) ** 0.5) == 9
    assert p.projected_rate == pytest.approx(9 / 11)
    assert not p.clipped and not p.month_end.model.calibrated
    assert p.needed_per_day == pytest.approx((0.85 * 11 - 6) / 16)

    assert sorted(alerts.at_risk["user_id"]) == ["R1", "R2", "R3"]  # active in June, not yet in July
    r1 = alerts.at_risk.set_index("user_id").loc["R1"]
    assert r1["idle_days"] == 17 and r1["preference"] == "控车偏好"
    mix = alerts.by_preference_channel.set_index("preference")["users"]
    assert mix["控车偏好"] == 1 and mix["内容偏好"] == 2

    levels = {level.name: count for level, count in alerts.levels}
    assert levels == {"一级预警": 0, "二级预警": 1, "三级预警": 1}  # each user at their highest level


def test_per_user_activity_drop_and_population_drop(tmp_path: Path) -> None:
    export = tmp_path / "用户明细_2024-07.csv"
    export.write_text("用户ID,注册时间,最近一次活跃时间,本月登录,上月登录\n"
                      "1,2023-01-01,2024-07-10,3,10\n2,2023-01-01,2024-07-10,9,10\n"
                      "3,2023-01-01,2024-07-10,0,0\n", encoding="utf-8")
    config = tmp_path / "tagger.toml"
    config.write_text('[[alerts.levels]]\nname = "下降"\nactivity_drop = 0.3\ncurrent_column = "本月登录"\n'
                      'previous_column = "上月登录"\naction = "回访"\n', encoding="utf-8")
    result = run(TagOptions(export=export, use_history=False, write=False, config=config))
    alerts = compute_alerts(result)
    assert [(level.name, count) for level, count in alerts.levels] == [("下降", 1)]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("idle_days = 60\nactivity_drop = 0.3", "exactly one of idle_days"),
        ("idle_days = -1", "positive whole number"),
        ("activity_drop = 30", "between 0 and 1"),
        ("activity_drop = 0.3\ncurrent_column = \"x\"", "give both current_column"),
    ],
)
def test_alert_levels_are_validated(tmp_path: Path, body: str, reason: str) -> None:
    set_language("en")
    path = tmp_path / "tagger.toml"
    path.write_text(f"[[alerts.levels]]\nname = \"ok\"\nidle_days = 30\n\n[[alerts.levels]]\n{body}\n",
                    encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"alert level 2 is invalid: .*{reason}"):
        load_levels(load_config(path))
