"""``tagger init`` and the project config it writes."""

from __future__ import annotations

import tomllib
from pathlib import Path

from tagger.config import load_config
from tagger.project import ProjectSettings, minimal_overrides, render_config


def test_init_writes_config_and_template(run_cli, tmp_path: Path) -> None:
    code, out, err = run_cli("init", tmp_path / "proj", "--preset", "ecommerce")
    assert code == 0, err
    config = tmp_path / "proj" / "tagger.toml"
    text = config.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    assert data["project"] == {"preset": "ecommerce", "template": "ecommerce.toml", "language": "zh",
                               "target_active_rate": data["project"]["target_active_rate"]}
    for key in ("target_active_rate", "churn_after_months", "threshold", "[columns]", "[history]", "# "):
        assert key in text
    assert (tmp_path / "proj" / "ecommerce.toml").is_file()
    assert "已写入配置" in out and str(config) in out
    loaded = load_config(config)
    assert loaded.preset == "ecommerce" and loaded.churn_after_months == 3


def test_the_copied_template_is_the_one_used(run_cli, tmp_path: Path) -> None:
    assert run_cli("init", tmp_path)[0] == 0
    template = tmp_path / "car_app.toml"
    template.write_text(template.read_text(encoding="utf-8").replace('zh = "控车偏好"', 'zh = "用车偏好"'),
                        encoding="utf-8")
    config = load_config(tmp_path / "tagger.toml")
    assert config.features[0].label("zh") == "用车偏好"


def test_init_refuses_to_overwrite_and_backs_up_with_force(run_cli, tmp_path: Path) -> None:
    assert run_cli("init", tmp_path)[0] == 0
    config = tmp_path / "tagger.toml"
    config.write_text("# mine\n", encoding="utf-8")
    code, _, err = run_cli("init", tmp_path)
    assert code != 0 and "--force" in err and "Traceback" not in err
    assert config.read_text(encoding="utf-8") == "# mine\n"
    code, _, _ = run_cli("init", tmp_path, "--force")
    assert code == 0
    backups = list((tmp_path / "backups").glob("tagger.*.toml"))
    assert [b.read_text(encoding="utf-8") for b in backups] == ["# mine\n"]
    assert "preset" in config.read_text(encoding="utf-8")


def test_init_unknown_preset_is_a_usage_error(run_cli, tmp_path: Path) -> None:
    try:
        code = run_cli("init", tmp_path, "--preset", "nope")[0]
    except SystemExit as exc:
        code = exc.code
    assert code == 2
    assert not (tmp_path / "tagger.toml").exists()


def test_rendered_config_round_trips_columns(tmp_path: Path) -> None:
    settings = ProjectSettings(columns={"user_id": "会员号\"A\"", "drove": []}, matched={"nickname": "昵称"})
    path = tmp_path / "tagger.toml"
    path.write_text(render_config(settings, written_by="tagger wizard"), encoding="utf-8")
    config = load_config(path)
    assert config.columns == {"user_id": ['会员号"A"'], "drove": []}
    assert '# nickname = "昵称"' in path.read_text(encoding="utf-8")


def test_minimal_overrides_keep_builtins_in_charge() -> None:
    headers = ["会员号", "注册时间", "最近活跃时间", "是否开车"]
    wanted = {"user_id": "会员号", "register_date": "注册时间", "last_active_date": "最近活跃时间", "drove": None}
    assert minimal_overrides(headers, wanted, {}) == {"user_id": "会员号", "drove": []}
