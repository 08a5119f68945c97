"""The installed ``tagger`` wizard, end to end, in a real terminal (tmux), the way a person uses it.

Keys go in with ``send-keys`` only after the prompt they answer is on screen
(polled with ``capture-pane``), so the test does not depend on timing. A private
tmux server (``-L``) keeps it away from any tmux the developer is running.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(TMUX is None and not os.environ.get("CI"),
                                reason="tmux is not installed (CI installs it and never skips)")


class Terminal:
    """A 160×50 tmux pane running one command."""

    def __init__(self, command: str, cwd: Path) -> None:
        assert TMUX, "tmux is required in CI (.ci/run installs it)"
        self.base = [TMUX, "-L", f"tagger-test-{uuid.uuid4().hex[:8]}", "-f", os.devnull]
        self.tmux("new-session", "-d", "-s", "wiz", "-x", "160", "-y", "50", "-c", str(cwd), command)

    def tmux(self, *args: str) -> str:
        return subprocess.run([*self.base, *args], check=True, capture_output=True, text=True, timeout=30).stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-J", "-S", "-500", "-t", "wiz")

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} did not appear within {timeout}s; the screen shows:\n{self.screen()}")

    def answer(self, prompt: str, *keys: str) -> None:
        self.wait_for(prompt)
        self.tmux("send-keys", "-t", "wiz", *keys)

    def close(self) -> None:
        subprocess.run([*self.base, "kill-server"], capture_output=True, timeout=30)


def start_wizard(folder: Path) -> Terminal:
    """A bare ``tagger`` (the wizard) in ``folder``; the pane stays open after it exits, showing its code."""
    tagger = shutil.which("tagger")
    program = shlex.quote(tagger) if tagger else f"{shlex.quote(sys.executable)} -m tagger"
    env = "env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color"
    shell = f"{env} {program}; echo TAGGER-EXIT=$?; sleep 600"
    return Terminal(f"bash -c {shlex.quote(shell)}", folder)


@pytest.fixture
def terminal(samples: Path, tmp_path: Path) -> Iterator[Terminal]:
    shutil.copy2(samples / "car_app_2024-06.xlsx", tmp_path)
    term = start_wizard(tmp_path)
    try:
        yield term
    finally:
        term.close()


def us_export(samples: Path, folder: Path) -> Path:
    """The July sample as a US tool writes it: every date month/day/year with a 24-hour time."""
    frame = pd.read_csv(samples / "car_app_2024-07.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    for column in ("注册时间", "最近一次活跃时间", "上次活跃时间"):
        stamps = pd.to_datetime(frame[column].where(frame[column] != ""))
        frame[column] = stamps.dt.strftime("%m/%d/%Y %H:%M").fillna("")
    path = folder / "users_us_2024-07.csv"
    frame.to_csv(path, index=False, encoding="utf-8")
    return path


def test_wizard_end_to_end_in_a_real_terminal(terminal: Terminal, tmp_path: Path) -> None:
    terminal.answer("? 选择要打标签的导出文件", "Enter")
    screen = terminal.wait_for("? 报告月份")
    assert "2024-06" in screen  # guessed from the file name
    terminal.tmux("send-keys", "-t", "wiz", "Enter")
    screen = terminal.wait_for("? 确认列对应")
    assert "100109452822199503" in screen and "最近一次活跃时间" in screen  # matched headers with samples
    terminal.tmux("send-keys", "-t", "wiz", "Enter")
    terminal.answer("? 预设", "Enter")
    terminal.answer("? 连续几个月不活跃算流失", "Enter")
    terminal.answer("? 偏好阈值", "Enter")
    terminal.answer("? 月活率目标", "C-u", "90%", "Enter")
    terminal.answer("? 工作簿和提示的语言", "Enter")
    terminal.answer("? 历史库", "Enter")
    terminal.answer("? 输出工作簿", "Enter")
    screen = terminal.wait_for("? 把这些回答保存到")
    assert "请确认" in screen and "car_app_2024-06_tagged.xlsx" in screen  # the review screen
    terminal.tmux("send-keys", "-t", "wiz", "Enter")
    terminal.answer("? 开始运行", "Enter")
    screen = terminal.wait_for("TAGGER-EXIT=", timeout=180)
    assert "TAGGER-EXIT=0" in screen, screen
    for text in ("写出工作簿", "2024-06 用户分群", "月活率", "xdg-open",
                 "已写入：car_app_2024-06_tagged.xlsx 和 tagger.toml"):
        assert text in screen, screen

    config = tomllib.loads((tmp_path / "tagger.toml").read_text(encoding="utf-8"))
    assert config["project"]["preset"] == "car_app" and config["project"]["target_active_rate"] == 0.9
    assert config["lifecycle"]["churn_after_months"] == 2 and config["preferences"]["threshold"] == 0.3
    assert "columns" in config and config["history"]["path"] == "tagger-history.sqlite"
    book = openpyxl.load_workbook(tmp_path / "car_app_2024-06_tagged.xlsx", read_only=True)
    try:
        assert len(book.sheetnames) >= 2
        users = next(book[name] for name in book.sheetnames if "用户" in name or "Users" in name)
        assert users.max_row >= 1938
    finally:
        book.close()
    assert (tmp_path / "tagger-history.sqlite").is_file()


def test_wizard_asks_the_date_order_of_a_us_export_and_saves_it(samples: Path, tmp_path: Path) -> None:
    export = us_export(samples, tmp_path)
    first = pd.read_csv(export, dtype=str, keep_default_na=False).iloc[1]  # 蒋师傅: 05/01/2021 20:42
    term = start_wizard(tmp_path)
    try:
        term.answer("? 选择要打标签的导出文件", "Enter")
        screen = term.wait_for("? 日期写成")
        assert "只能这样读" in screen and "» 月/日/年" in screen, screen  # one cell (a day over 12) proved mdy
        term.tmux("send-keys", "-t", "wiz", "Enter")
        screen = term.wait_for("? 报告月份")
        assert "2024-07" in screen
        term.tmux("send-keys", "-t", "wiz", "Enter")
        term.answer("? 确认列对应", "Enter")
        for prompt in ("? 预设", "? 连续几个月不活跃算流失", "? 偏好阈值", "? 月活率目标", "? 工作簿和提示的语言",
                       "? 历史库", "? 输出工作簿"):
            term.answer(prompt, "Enter")
        screen = term.wait_for("? 把这些回答保存到")
        assert "日期顺序" in screen and "月/日/年" in screen  # the review names the order
        term.tmux("send-keys", "-t", "wiz", "Enter")
        term.answer("? 开始运行", "Enter")
        screen = term.wait_for("TAGGER-EXIT=", timeout=180)
        assert "TAGGER-EXIT=0" in screen, screen
    finally:
        term.close()

    config = tomllib.loads((tmp_path / "tagger.toml").read_text(encoding="utf-8"))
    assert config["columns"]["date_order"] == "mdy"
    book = openpyxl.load_workbook(tmp_path / "users_us_2024-07_tagged.xlsx", read_only=True)
    try:
        users = next(book[name] for name in book.sheetnames if "用户" in name or "Users" in name)
        rows = users.iter_rows(values_only=True)
        header = next(row for row in rows if "用户ID" in row)
        by_id = {str(row[header.index("用户ID")]): row for row in rows}
    finally:
        book.close()
    registered = by_id[first["用户ID"]][header.index("注册时间")]
    assert first["注册时间"] == "05/01/2021 20:42"
    assert (registered.year, registered.month, registered.day) == (2021, 5, 1)
