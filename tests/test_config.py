from __future__ import annotations

from pathlib import Path

import pytest

from tagger.config import available_presets, load_config
from tagger.errors import ConfigError


def test_presets_ship_with_the_package() -> None:
    assert {"car_app", "ecommerce", "social"} <= set(available_presets())
    assert load_config(preset="ecommerce").churn_after_months == 3
    assert load_config(preset="social").churn_after_months == 1


def test_project_overrides_only_what_it_says(tmp_path: Path) -> None:
    path = tmp_path / "tagger.toml"
    path.write_text('[project]\npreset = "car_app"\ntarget_active_rate = 0.9\n[preferences]\nthreshold = 0.4\n'
                    '[history]\npath = "h/db.sqlite"\n', encoding="utf-8")
    config = load_config(path)
    assert config.target_active_rate == 0.9
    assert config.preference_threshold == 0.4
    assert config.churn_after_months == 2  # from the preset
    assert [f.key for f in config.features][:2] == ["control", "content"]
    assert config.default_history_path() == tmp_path / "h" / "db.sqlite"


def test_preset_flag_wins_over_file(tmp_path: Path) -> None:
    path = tmp_path / "tagger.toml"
    path.write_text('[project]\npreset = "car_app"\n', encoding="utf-8")
    assert load_config(path, preset="social").preset == "social"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[project]\ntarget_active_rate = 85\n", "target_active_rate"),
        ("[lifecycle]\nchurn_after_months = 0\n", "churn_after_months"),
        ("[preferences]\nthreshold = -1\n", "threshold"),
        ("[project]\nlanguage = \"fr\"\n", "language"),
        ("[project]\npreset = \"bank\"\n", "bank"),
        ("[project\n", "TOML"),
    ],
)
def test_invalid_config_is_named(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "tagger.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(path)
