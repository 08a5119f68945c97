"""The wizard driven through its real questionary prompts, fed by a prompt_toolkit pipe.

All keys are sent up front and the pipe is closed: prompt_toolkit hands the keys
an application did not use to the next one (typeahead), and once they run out
the closed pipe ends the prompt (EOF -> KeyboardInterrupt), so a test with too
few keys fails instead of hanging.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import openpyxl
import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from tagger.pipeline import TagResult
from tagger.wizard import Prompter, candidate_exports, raw_columns, run_wizard

ENTER, DOWN, CLEAR, CTRL_C = "\r", "\x1b[B", "\x15", "\x03"
# After the mapping is confirmed: preset, churn, threshold, target, language, history, output, save, go.
SETTINGS_DEFAULTS = ENTER * 9


def drive(keys: str, folder: Path, **kwargs: object) -> tuple[TagResult, str]:
    console = Console(file=io.StringIO(), width=140, color_system=None, record=True)
    with create_pipe_input() as pipe:
        pipe.send_text(keys)
        pipe.close()
        result = run_wizard(console, Prompter(pipe, DummyOutput()), folder=folder, **kwargs)  # type: ignore[arg-type]
    return result, console.file.getvalue()  # type: ignore[attr-defined]


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture
def june(samples: Path, tmp_path: Path) -> Path:
    target = tmp_path / "car_app_2024-06.xlsx"
    shutil.copy2(samples / "car_app_2024-06.xlsx", target)
    return target


def test_full_run_on_a_sample(june: Path, tmp_path: Path) -> None:
    keys = (ENTER            # the export: the newest file, offered first
            + ENTER          # month: guessed from the file name (2024-06)
            + ENTER          # mapping: confirm what was matched
            + ENTER          # preset car_app
            + CLEAR + "3" + ENTER      # churn after 3 months
            + ENTER          # threshold 0.3
            + CLEAR + "90%" + ENTER    # target 90%
            + DOWN + ENTER   # language: English
            + ENTER + ENTER  # history and output paths: defaults
            + ENTER + ENTER)  # save, run
    result, out = drive(keys, tmp_path)
    assert result.month == "2024-06" and result.output == Path("car_app_2024-06_tagged.xlsx")
    workbook = tmp_path / "car_app_2024-06_tagged.xlsx"
    assert workbook.is_file()
    book = openpyxl.load_workbook(workbook, read_only=True)
    assert book.sheetnames and all(not any("\u4e00" <= ch <= "\u9fff" for ch in name) for name in book.sheetnames)
    book.close()
    saved = (tmp_path / "tagger.toml").read_text(encoding="utf-8")
    config = tomllib.loads(saved)
    assert config["project"]["language"] == "en" and config["project"]["target_active_rate"] == 0.9
    for comment in ("# Last export: car_app_2024-06.xlsx", "# Months without activity after which",
                    '# usage_control = "控车次数"  # Vehicle control count (3 months)'):
        assert comment in saved  # the comments follow the language chosen in the wizard
    assert "连续多少个月" not in saved
    assert config["lifecycle"]["churn_after_months"] == 3
    assert (tmp_path / "tagger-history.sqlite").is_file()
    for text in ("列对应", "用户ID", "100109452822199503", "Segments for 2024-06", "Target / gap", "xdg-open",
                 "Written: car_app_2024-06_tagged.xlsx and tagger.toml"):
        assert text in out
    assert out.strip().splitlines()[-1].startswith("Written:")


def test_mapping_correction_is_saved_and_reused(run_cli, tmp_path: Path) -> None:
    export = tmp_path / "members_2024-07.csv"
    export.write_text("会员号,开户日,最后一次打开,昵称\n7,2024-07-01,2024-07-02,甲\n8,2023-01-05,2024-07-09,乙\n"
                      "9,2023-02-01,2024-05-03,丙\n", encoding="utf-8")
    keys = (ENTER            # the export
            + ENTER          # month 2024-07 from the name
            + ENTER + ENTER + ENTER    # 用户ID / 注册时间 / 最近一次活跃时间: the first unused header each time
            + DOWN * 6 + ENTER         # menu: change 昵称 …
            + DOWN + ENTER             # … to "do not use this field"
            + ENTER          # menu: confirm
            + SETTINGS_DEFAULTS)
    result, out = drive(keys, tmp_path)
    assert "没能自动认出所有必需的列" in out
    assert result.users.mapping["user_id"] == "会员号" and "nickname" not in result.users.mapping
    saved = (tmp_path / "tagger.toml").read_text(encoding="utf-8")
    assert "# 上次的导出：members_2024-07.csv" in saved and "# 连续多少个月没有活跃算流失" in saved
    assert 'user_id = "会员号"  # 用户ID' in saved and "Months without activity" not in saved
    config = tomllib.loads(saved)
    assert config["columns"] == {"user_id": "会员号", "register_date": "开户日", "last_active_date": "最后一次打开",
                                 "nickname": []}
    # The saved answers are enough for the everyday command: no prompts, same mapping.
    code, json_out, err = run_cli("tag", export, "--json", "-o", tmp_path / "again.xlsx")
    assert code == 0, err
    assert '"new": 1' in json_out


def test_ctrl_c_midway_writes_nothing(june: Path, tmp_path: Path) -> None:
    before = listing(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        drive(ENTER + ENTER + ENTER + ENTER + "4" + CTRL_C, tmp_path)
    assert listing(tmp_path) == before


def test_ctrl_c_during_the_run_leaves_no_workbook_or_config(june: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import tagger.wizard as wizard

    real_run = wizard.run

    class Interrupting:
        def __init__(self, progress: object) -> None:
            self.progress = progress

        def step(self, name: str, total: int | None = None) -> None:
            if name == "write":
                raise KeyboardInterrupt
            self.progress.step(name, total)  # type: ignore[attr-defined]

        def advance(self, amount: int = 1) -> None:
            self.progress.advance(amount)  # type: ignore[attr-defined]

    monkeypatch.setattr(wizard, "run", lambda options, progress: real_run(options, Interrupting(progress)))
    with pytest.raises(KeyboardInterrupt):
        drive(ENTER * 3 + SETTINGS_DEFAULTS, tmp_path)
    left = listing(tmp_path)
    assert "tagger.toml" not in left and "car_app_2024-06_tagged.xlsx" not in left
    assert not [name for name in left if name.startswith(".")], left


def test_declining_to_run_writes_nothing(june: Path, tmp_path: Path) -> None:
    before = listing(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        drive(ENTER * 3 + ENTER * 8 + "n", tmp_path)
    assert listing(tmp_path) == before


@pytest.mark.parametrize("argv", [["wizard"], []])
def test_no_terminal_exits_at_once(tmp_path: Path, argv: list[str]) -> None:
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "tagger", *argv], cwd=tmp_path, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "终端" in lines[0] and "tagger tag" in lines[0]
    assert time.monotonic() - started < 30
    assert listing(tmp_path) == []


def test_sheet_choice_shows_row_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import xlsxwriter

    export = tmp_path / "两表_2024-07.xlsx"
    book = xlsxwriter.Workbook(str(export))
    book.add_worksheet("说明").write_row(0, 0, ["这个工作簿有两个表"])
    sheet = book.add_worksheet("明细")
    rows = [["用户ID", "注册时间", "最近一次活跃时间"], ["1", "2024-07-01", "2024-07-02"],
            ["2", "2023-01-01", "2024-07-03"]]
    for index, row in enumerate(rows):
        sheet.write_row(index, 0, row)
    book.close()
    shown: list[list[str]] = []
    original = Prompter.select

    def recording_select(self: Prompter, message: str, choices: list, default: object = None) -> object:
        shown.append([str(choice.title) for choice in choices])
        return original(self, message, choices, default)

    monkeypatch.setattr(Prompter, "select", recording_select)
    result, _ = drive(ENTER + DOWN + ENTER + ENTER + ENTER + SETTINGS_DEFAULTS, tmp_path)
    assert ["说明（1 行）", "明细（3 行）"] in shown
    assert result.table.sheet == "明细" and result.metrics.rows == 2


def test_candidates_are_newest_first_without_outputs(tmp_path: Path) -> None:
    for index, name in enumerate(["a.csv", "b.xlsx", "b_tagged.xlsx", "~$b.xlsx", "notes.md"]):
        path = tmp_path / name
        path.write_text("x", encoding="utf-8")
        stamp = 1_700_000_000 + index * 60
        import os

        os.utime(path, (stamp, stamp))
    assert [p.name for p in candidate_exports(tmp_path)] == ["b.xlsx", "a.csv"]


def test_raw_columns_find_the_header_under_a_title(tmp_path: Path) -> None:
    export = tmp_path / "t.csv"
    export.write_text("七月会员明细,,\n会员号,开户日,最后一次打开\n7,2024-07-01,2024-07-02\n", encoding="gb18030")
    columns = raw_columns(export, None)
    assert columns.headers == ["会员号", "开户日", "最后一次打开"]
    assert columns.samples["开户日"] == ["2024-07-01"]


def _until_cancelled(keys: str, folder: Path, monkeypatch: pytest.MonkeyPatch,
                     **kwargs: object) -> tuple[str, list[list[str]]]:
    """Console text and every select's choice titles, for a walk that ends with Ctrl-C."""
    shown: list[list[str]] = []
    original = Prompter.select

    def recording_select(self: Prompter, message: str, choices: list, default: object = None) -> object:
        shown.append([str(choice.title) for choice in choices])
        return original(self, message, choices, default)

    monkeypatch.setattr(Prompter, "select", recording_select)
    console = Console(file=io.StringIO(), width=140, color_system=None, record=True)
    with create_pipe_input() as pipe:
        pipe.send_text(keys)
        pipe.close()
        with pytest.raises(KeyboardInterrupt):
            run_wizard(console, Prompter(pipe, DummyOutput()), folder=folder, **kwargs)  # type: ignore[arg-type]
    return console.file.getvalue(), shown  # type: ignore[attr-defined]


def _table_rows(text: str, title: str) -> list[list[str]]:
    """The cells of each row of the rich table titled ``title`` (group separators left out)."""
    body = text[text.index(title):]
    body = body[: body.index("└")]
    return [[cell.strip() for cell in line.strip().strip("│").split("│")]
            for line in body.splitlines() if line.startswith("│")]


MAPPING_CASES = {
    "zh": {"title": "列对应", "lang": None,
           "groups": [["必需", "", "", "每个都要对应一列，不能跳过"], ["可选", "", "", "有就用上，没有也能运行"],
                      ["使用次数 (近三个月)", "", "", "各功能次数的占比决定偏好标签"]],
           "rows": [["用户ID", "用户ID"],
                    ["上次活跃时间", "—（未使用）", "", "用它定上月状态（唤醒/回流），不必用历史库"],
                    ["用户唯一标识码", "用户唯一标识码"],
                    ["是否开车", "是否开车", "否, 是, 是", "流失用户再分为开车/不开车"],
                    ["控车次数 (近三个月)", "控车次数", "0, 5, 0", ""],
                    ["活动次数 (近三个月)", "活动次数", "0, 0, 1", ""]],
           "menu": ["修改 控车次数 (近三个月) ← 控车次数", "修改 上次活跃时间 ← —（未使用）"],
           "absent": ["控车偏好", "活动偏好"]},
    "en": {"title": "Column mapping", "lang": "en",
           "groups": [["Required", "", "", "each needs a column; cannot be skipped"],
                      ["Optional", "", "", "used when present; runs without"],
                      ["Usage counts (3 months)", "", "", "their shares make the preference tags"]],
           "rows": [["user ID", "用户ID"], ["nickname", "昵称"],
                    ["Vehicle control count (3 months)", "控车次数", "0, 5, 0", ""]],
           "menu": ["Change Vehicle control count (3 months) ← 控车次数", "Change previous active date ← — (not used)"],
           "absent": ["Vehicle control", "Campaigns"]},
}


@pytest.mark.parametrize("case", sorted(MAPPING_CASES))
def test_mapping_table_groups_fields_and_names_counts(june: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       case: str) -> None:
    expected = MAPPING_CASES[case]
    out, shown = _until_cancelled(ENTER + ENTER + CTRL_C, tmp_path, monkeypatch, lang=expected["lang"])
    rows = _table_rows(out, expected["title"])
    starts = [rows.index(group) for group in expected["groups"]]  # each group under its heading, in order
    assert starts == sorted(starts) and starts[0] == 0
    for row in expected["rows"]:
        found = [r for r in rows if r[: len(row)] == row]
        assert found, (row, rows)
    names = [r[0] for r in rows]
    fields = {group: [n for n in part if n]  # a wrapped cell continues on a row without a field name
              for group, part in (("required", names[starts[0] + 1: starts[1]]),
                                  ("optional", names[starts[1] + 1: starts[2]]), ("counts", names[starts[2] + 1:]))}
    assert len(fields["required"]) == 3 and len(fields["optional"]) == 7 and len(fields["counts"]) == 5
    assert all(rows[names.index(n)][3] for n in fields["optional"])  # every optional field says what it changes
    for label in expected["absent"]:
        assert label not in fields["counts"]  # a count is never shown under its preference's name
    assert not any("偏好" in name for name in names)
    menu = next(titles for titles in shown if any(t.startswith(("修改", "Change")) for t in titles))
    for item in expected["menu"]:
        assert item in menu
