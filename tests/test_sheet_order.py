"""One ordered list of sheets: ``sheet_order()`` names exactly the tabs written, for every kind of run.

Each case writes a real workbook (plain tag, a refresh with 预警/复盘 and a tab nobody matched,
``[value_layers]``, a refresh whose history holds a research sample) and reads its tab names
back; the list the formulas are built from must be the list in the file.
"""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest

from tagger.i18n import set_language
from tagger.pipeline import TagOptions, TagResult, run
from tagger.refresh import RefreshOptions, refresh
from tagger.workbook import sheet_order

from .workbook_cases import edge, edge_export, layers


@pytest.fixture(autouse=True)
def chinese() -> None:
    set_language("zh")


def tabs(result: TagResult) -> list[str]:
    return openpyxl.load_workbook(result.output, read_only=True).sheetnames


def test_plain_tag(tmp_path: Path) -> None:
    result = edge(tmp_path)
    written = tabs(result)
    assert written == sheet_order(result)
    assert written[:3] == ["总览", "目标拆解", "用户明细"] and written[-3:] == ["触达跟踪", "参数", "说明"]
    assert not {"价值分层", "预警", "复盘", "用户调研", "未匹配人工标注"} & set(written)


def test_plain_tag_in_english(tmp_path: Path) -> None:
    result = edge(tmp_path, lang="en")
    assert tabs(result) == sheet_order(result)
    assert tabs(result)[:3] == ["Overview", "Forecast", "Users"]


def test_refresh_with_alerts_review_and_unmatched(tmp_path: Path) -> None:
    """A refresh writes 预警 and 复盘; a label for a user gone from the export adds 未匹配人工标注."""
    history, export = tmp_path / "h.sqlite", edge_export(tmp_path)
    first = run(TagOptions(export=export, history=history, output=tmp_path / "first.xlsx")).output
    book = openpyxl.load_workbook(first)
    ws = book["用户明细"]
    column = [c.value for c in ws[1]].index("人工标签") + 1
    ws.cell(2, column).value = "休眠用户"
    ws.cell(ws.max_row + 1, 1).value = "999000999"  # a user this export does not hold
    ws.cell(ws.max_row, column).value = "活跃用户"
    book.save(first)
    result = refresh(RefreshOptions(TagOptions(export=export, history=history, output=tmp_path / "second.xlsx"),
                                    workbook=first)).result
    written = tabs(result)
    assert written == sheet_order(result)
    assert written[-3:] == ["预警", "复盘", "未匹配人工标注"]


def test_refresh_without_history_lists_only_typed_labels_as_unmatched(tmp_path: Path) -> None:
    """With ``--no-history`` a user gone from the export, with nothing typed for them, is no unmatched label."""
    export = edge_export(tmp_path)
    first = run(TagOptions(export=export, use_history=False, output=tmp_path / "first.xlsx")).output
    book = openpyxl.load_workbook(first)
    ws = book["用户明细"]
    ws.cell(ws.max_row + 1, 1).value = "999000999"  # a user this export does not hold; 人工标签 and 备注 empty
    book.save(first)
    options = TagOptions(export=export, use_history=False, output=tmp_path / "second.xlsx")
    result = refresh(RefreshOptions(options, workbook=first)).result
    assert "未匹配人工标注" not in tabs(result) and result.carried is not None
    assert result.carried.unmatched.empty


def test_value_layers(tmp_path: Path) -> None:
    result = layers(tmp_path)
    written = tabs(result)
    assert written == sheet_order(result)
    assert written[written.index("分群流转") + 1] == "价值分层"


def test_refresh_with_research_sample(tmp_path: Path, run_cli) -> None:
    """``tagger contacts --research`` stores a sample; the next refresh adds 用户调研 after 复盘."""
    export, history = tmp_path / "用户明细_2024-07.csv", tmp_path / "h.sqlite"
    with export.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["用户ID", "注册时间", "最近一次活跃时间", "是否开车"])
        for i in range(30):
            writer.writerow([f"92{i:04d}", "2023-01-05", "2024-03-10", "否"])  # churned, not driving
        for i in range(10):
            writer.writerow([f"93{i:04d}", "2023-01-05", "2024-07-12", "是"])
    code, _, err = run_cli("contacts", export, "--history", history, "--date", "2024-07-20",
                           "--out-dir", tmp_path / "lists", "--research", "6")
    assert code == 0, err
    result = refresh(RefreshOptions(TagOptions(export=export, history=history, output=tmp_path / "R.xlsx"))).result
    written = tabs(result)
    assert written == sheet_order(result)
    assert written[-3:] == ["预警", "复盘", "用户调研"]
