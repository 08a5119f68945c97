"""The help text and the README keep up with the commands."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tagger.cli import build_parser
from tagger.commands import COMMANDS
from tagger.i18n import set_language

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def subparsers() -> dict[str, object]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return dict(action.choices)  # type: ignore[attr-defined]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.NAME)
def test_every_command_has_help_with_an_example(command: object, lang: str) -> None:
    set_language(lang)
    parser = subparsers()[command.NAME]  # type: ignore[attr-defined]
    assert command.HELP("summary")  # type: ignore[attr-defined]
    text = parser.format_help()  # type: ignore[attr-defined]
    assert {"zh": "示例：", "en": "Example:"}[lang] in text
    assert re.search(rf"^\s+tagger( {command.NAME}|$)", text, re.M), text  # type: ignore[attr-defined]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.NAME)
def test_every_command_is_in_the_readme(command: object) -> None:
    name = command.NAME  # type: ignore[attr-defined]
    assert f"`tagger {name}" in README, f"README.md does not document `tagger {name}`"


def test_help_lists_every_command(run_cli, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run_cli("--help")
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert command.NAME in out


def test_version(run_cli, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run_cli("--version")
    assert capsys.readouterr().out.startswith("tagger ")


def test_readme_quick_start_runs_the_demo() -> None:
    assert "python3 -m pip install . && tagger demo" in README


def test_troubleshooting_explains_boxes_and_the_render_machine_installs_a_cjk_font() -> None:
    section = README.split("## Troubleshooting", 1)[1].split("\n## ", 1)[0]
    assert "emoji" in section.lower() and "font" in section.lower()
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    install = next(line for line in ci.splitlines() if "apt-get install" in line and "libreoffice" in line)
    assert "fonts-wqy-microhei" in install
