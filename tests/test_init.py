"""``tagger init`` and the project config it writes."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from tagger.config import load_config, preset_text
from tagger.preset_comments import TEXT as BLOCKS, comment_blocks
from tagger.project import ProjectSettings, minimal_overrides, render_config

CJK = re.compile(r"[\u4e00-\u9fff]")


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


def _prose_comments(text: str) -> list[str]:
    """Comment lines that explain (not commented-out keys, not the preset's rules copied below)."""
    head = text[: text.index("# [[rules]]")] if "# [[rules]]" in text else text
    return [line for line in head.splitlines()
            if line.startswith("#") and not re.match(r"#\s*[a-z_]+ = ", line)]


def test_init_comments_are_chinese_by_default(run_cli, tmp_path: Path) -> None:
    assert run_cli("init", tmp_path)[0] == 0
    text = (tmp_path / "tagger.toml").read_text(encoding="utf-8")
    prose = _prose_comments(text)
    assert len(prose) >= 12
    for line in prose:
        assert CJK.search(line), line
    assert "# 连续多少个月没有活跃算流失" in text and "Months without activity" not in text
    assert "# 要修改就把它们全部取消注释后再编辑" in text
    assert tomllib.loads(text)["project"]["language"] == "zh"


def test_init_with_lang_en_writes_english_comments_and_language(run_cli, tmp_path: Path) -> None:
    code, out, err = run_cli("init", tmp_path, "--lang", "en")
    assert code == 0, err
    text = (tmp_path / "tagger.toml").read_text(encoding="utf-8")
    assert "# Months without activity after which a user is 流失 (churned)" in text
    assert "连续多少个月" not in text and "Wrote the config" in out
    english = [line for line in _prose_comments(text) if not CJK.search(line)]
    assert len(english) >= 10
    assert load_config(tmp_path / "tagger.toml").language == "en"


def test_feature_columns_are_named_for_their_counts(tmp_path: Path) -> None:
    settings = ProjectSettings.from_config(load_config(None, "car_app"))
    settings.columns = {"usage_control": "控车"}
    assert 'usage_control = "控车"  # 控车次数 (近三个月)' in render_config(settings)
    settings.language = "en"
    text = render_config(settings)
    assert 'usage_control = "控车"  # Vehicle control count (3 months)' in text
    assert "# Which header of your export holds each field" in text


@pytest.mark.parametrize("preset", ["car_app", "ecommerce", "social"])
def test_the_preset_copy_is_commented_in_the_project_language(run_cli, tmp_path: Path, preset: str) -> None:
    shipped = preset_text(preset)
    assert all(body in {t["en"] for t in BLOCKS.texts.values()} for _, _, body in comment_blocks(shipped)), \
        "a comment block of the preset has no Chinese text in tagger/preset_comments.py"
    assert run_cli("init", tmp_path / "zh", "--preset", preset)[0] == 0
    copy = (tmp_path / "zh" / f"{preset}.toml").read_text(encoding="utf-8")
    comments = [line for line in copy.splitlines() if line.startswith("#")]
    assert comments and all(CJK.search(line) for line in comments), comments
    assert tomllib.loads(copy) == tomllib.loads(shipped)  # only the comments changed
    assert run_cli("init", tmp_path / "en", "--preset", preset, "--lang", "en")[0] == 0
    assert (tmp_path / "en" / f"{preset}.toml").read_text(encoding="utf-8") == shipped
