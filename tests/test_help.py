"""``--help`` speaks the language the run would: ``--lang`` anywhere, else the config, else Chinese."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tagger.cli import build_parser, help_language
from tagger.commands import COMMANDS
from tagger.commands.common import PARSER, cells
from tagger.i18n import set_language

CJK = re.compile(r"[\u4e00-\u9fff]")
NAMES = [c.NAME for c in COMMANDS]


def help_text(run_cli, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """What ``tagger ARGV`` prints on stdout; --help exits 0."""
    with pytest.raises(SystemExit) as exit_info:
        run_cli(*argv)
    assert exit_info.value.code == 0
    return capsys.readouterr().out


def squeezed(text: str) -> str:
    """``text`` without whitespace, to find a description however the help wrapped it."""
    return "".join(text.split())


def options_of(lang: str) -> dict[str, dict[str, str]]:
    """Every subcommand's option help, by command and option, built in ``lang``."""
    set_language(lang)
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, type(parser._subparsers._group_actions[0])))
    return {name: {"/".join(a.option_strings) or a.dest: a.help or "" for a in command._actions}
            for name, command in sub.choices.items()}


@pytest.mark.parametrize("command", COMMANDS, ids=NAMES)
def test_help_is_chinese_by_default(run_cli, capsys: pytest.CaptureFixture[str], command: object) -> None:
    text = help_text(run_cli, capsys, command.NAME, "--help")  # type: ignore[attr-defined]
    assert text.startswith("用法：tagger " + command.NAME)  # type: ignore[attr-defined]
    for part in ("选项", "显示本帮助并退出", "示例：", command.HELP("description", lang="zh")):  # type: ignore[attr-defined]
        assert squeezed(part) in squeezed(text)
    for english in ("usage:", "options:", "show this help", "Example:", command.HELP("description", lang="en")):  # type: ignore[attr-defined]
        assert squeezed(english) not in squeezed(text)


@pytest.mark.parametrize("where", ["before", "after", "equals"])
@pytest.mark.parametrize("command", COMMANDS, ids=NAMES)
def test_help_is_english_with_lang_en(run_cli, capsys: pytest.CaptureFixture[str], command: object,
                                      where: str) -> None:
    name = command.NAME  # type: ignore[attr-defined]
    argv = {"before": ["--lang", "en", name, "--help"], "after": [name, "--help", "--lang", "en"],
            "equals": [name, "--lang=en", "-h"]}[where]
    text = help_text(run_cli, capsys, *argv)
    assert text.startswith("usage: tagger " + name)
    for part in ("options:", "show this help message and exit", "Example:",
                 command.HELP("description", lang="en")):  # type: ignore[attr-defined]
        assert squeezed(part) in squeezed(text)
    assert "用法" not in text and "显示本帮助" not in text


def test_top_level_help_says_a_bare_tagger_starts_the_wizard(run_cli, capsys: pytest.CaptureFixture[str]) -> None:
    zh = help_text(run_cli, capsys, "--help")
    assert "直接运行 tagger（不带命令）会启动向导" in zh and "命令:" in zh
    for name in NAMES:
        assert re.search(rf"^\s+{name}\s+\S*[\u4e00-\u9fff]", zh, re.M), name  # every command summed up in Chinese
    en = help_text(run_cli, capsys, "--lang", "en", "--help")
    assert "A bare `tagger` (no command) starts the wizard" in en and "commands:" in en
    assert re.search(r"^\s+tag\s+tag one monthly export and write the workbook$", en, re.M)


def test_help_follows_the_config_language(run_cli, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "tagger.toml").write_text('[project]\nlanguage = "en"\n', encoding="utf-8")  # tmp_path is the cwd
    assert help_text(run_cli, capsys, "tag", "--help").startswith("usage: tagger tag")
    assert help_text(run_cli, capsys, "tag", "--help", "--lang", "zh").startswith("用法：tagger tag")
    other = tmp_path / "sub" / "zh.toml"
    other.parent.mkdir()
    other.write_text('[project]\nlanguage = "zh"\n', encoding="utf-8")
    assert help_text(run_cli, capsys, "check", "--config", str(other), "--help").startswith("用法：tagger check")


def test_help_language_resolution(tmp_path: Path) -> None:
    assert help_language([], cwd=tmp_path) == "zh"
    assert help_language(["tag", "x.xlsx", "--lang", "en"], cwd=tmp_path) == "en"
    assert help_language(["--lang=en", "--lang", "zh"], cwd=tmp_path) == "zh"  # the last one wins, as in argparse
    broken = tmp_path / "tagger.toml"
    broken.write_text("[project\nlanguage = 'en'", encoding="utf-8")
    assert help_language(["tag", "--help"], cwd=tmp_path) == "zh"  # the run reports a broken config, not help
    broken.write_text('[project]\nlanguage = "en"\n', encoding="utf-8")
    assert help_language(["tag", "--help"], cwd=tmp_path) == "en"
    assert help_language(["--", "--lang", "en"], cwd=tmp_path / "none") == "zh"


def test_every_option_has_help_in_both_languages() -> None:
    zh, en = options_of("zh"), options_of("en")
    assert zh.keys() == en.keys() == set(NAMES)
    for name in NAMES:
        assert zh[name].keys() == en[name].keys(), name  # same options (names never translated)
        for option, text in zh[name].items():
            assert CJK.search(text), f"{name} {option}: {text!r} is not Chinese"
            assert en[name][option] and not CJK.search(en[name][option]), f"{name} {option}: {en[name][option]!r}"


def test_usage_errors_follow_the_language(run_cli, capsys: pytest.CaptureFixture[str]) -> None:
    for argv, expected in (((("tag",)), "tagger tag：错误：缺少必需的参数：export"),
                           (("tag", "x.csv", "--lang", "en", "--nope"),
                            "tagger: error: unrecognized arguments: --nope"),
                           (("sql", "--dialect", "oracle", "--month", "2024-07"),
                            "参数 --dialect：无效的取值：'oracle'")):
        with pytest.raises(SystemExit) as exit_info:
            run_cli(*argv)
        assert exit_info.value.code == 2
        assert expected in capsys.readouterr().err


def test_installed_entry_point_prints_english_help(tmp_path: Path) -> None:
    """The real process, as a person types it: the language is known before argparse prints."""
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-m", "tagger", "--lang", "en", "wizard", "--help"], cwd=tmp_path,
                          capture_output=True, text=True, encoding="utf-8", timeout=120,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: tagger wizard") and "Running`tagger`with" in squeezed(done.stdout)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_help_fits_the_terminal_width(run_cli, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                      lang: str) -> None:
    """Chinese characters take two columns; the help is wrapped by columns, so it fits an 80-column terminal."""
    monkeypatch.setenv("COLUMNS", "80")
    for name in ["", *NAMES]:
        text = help_text(run_cli, capsys, *([name] if name else []), "--help", "--lang", lang)
        examples = text.split(PARSER("example", lang=lang))[-1].splitlines()[1:]
        wide = [line for line in text.splitlines() if cells(line) > 80 and "duckdb,spark" not in line
                and line not in examples]
        assert not wide, (name, wide)  # (the SQL dialects are one word; examples are commands to copy whole)
    description = help_text(run_cli, capsys, "tag", "--help", "--lang", lang).split("\n\n")[1]
    assert len(description.splitlines()) >= 2  # the long description was wrapped, not left as one line
