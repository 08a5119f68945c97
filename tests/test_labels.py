"""Manual labels (人工标签) belong to their month and act in it.

Two constructed months whose right answer is known: in July 2024 user U1 is computed 活跃用户 and
an ops person labels them 休眠用户; in August U1 is active again. In July the label moves U1 to the
休眠用户 sheet, its counts and the contact lists (the official numbers stay computed); in August the
label is shown as 上月人工标签, acts on nothing, and U1 is back on the computed group.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from tagger.contacts import ContactOptions, make_contacts
from tagger.history import HistoryStore
from tagger.overrides import RULE_COLUMNS, apply_stored_overrides
from tagger.pipeline import TagOptions, run
from tagger.rules import apply_rules, load_rules
from tagger.segments import acting_tags
from tagger.refresh import RefreshOptions, previous_month, refresh, workbook_month

HEADER = "用户ID,昵称,注册时间,最近一次活跃时间,上次活跃时间,是否开车\n"
JULY = [
    "U1,甲,2023-01-05,2024-07-10,2024-06-10,是",  # active in June and July: 活跃用户
    "U2,乙,2023-01-05,2024-07-12,2024-06-01,是",  # 活跃用户
    "U3,丙,2023-01-05,2024-06-20,2024-06-20,是",  # not active in July, active in June: 休眠用户
    "U4,丁,2024-07-02,2024-07-03,,是",  # registered in July: 新用户
]
AUGUST = [
    "U1,甲,2023-01-05,2024-08-09,2024-07-10,是",  # still active: 活跃用户
    "U2,乙,2023-01-05,2024-07-12,2024-06-01,是",  # active in July, not in August: 休眠用户
    "U3,丙,2023-01-05,2024-06-20,2024-06-20,是",
    "U4,丁,2024-07-02,2024-08-03,2024-07-03,是",
]
RULE = '[[rules]]\nname = "休眠召回"\nsegment = "dormant"\nchannel = "push"\ncontent = "车辆状态提醒"\n'


def export(folder: Path, month: str, rows: list[str]) -> Path:
    path = folder / f"用户明细_{month}.csv"
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def users_sheet(path: Path) -> dict[str, dict[str, object]]:
    """用户明细 rows by user ID, keyed by heading (cached values)."""
    ws = openpyxl.load_workbook(path, data_only=True)["用户明细"]
    rows = ws.iter_rows(values_only=True)
    heads = [str(h) for h in next(rows)]
    return {str(r[0]): dict(zip(heads, r, strict=True)) for r in rows if r[0] is not None}


def sheet_ids(path: Path, sheet: str) -> set[str]:
    ws = openpyxl.load_workbook(path, data_only=True)[sheet]
    return {str(v) for (v,) in ws.iter_rows(min_col=1, max_col=1, values_only=True) if str(v).startswith("U")}


def month_count(path: Path, sheet: str, month: str) -> object:
    """The group sheet's size for ``month`` (the row whose first cell is the month)."""
    ws = openpyxl.load_workbook(path, data_only=True)[sheet]
    return next(r[1] for r in ws.iter_rows(max_col=2, values_only=True) if r[0] == month)


def label(path: Path, user: str, text: str) -> None:
    """What a person does in Excel: type 人工标签 for one user and save."""
    book = openpyxl.load_workbook(path)
    ws = book["用户明细"]
    heads = [c.value for c in ws[1]]
    column = heads.index("人工标签") + 1
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == user)
    ws.cell(row, column).value = text
    book.save(path)


@pytest.fixture
def july_labelled(tmp_path: Path, run_cli) -> tuple[Path, Path, Path]:
    """July tagged, U1 labelled 休眠用户 in the workbook, refreshed: (export, refreshed workbook, history)."""
    history = tmp_path / "h.sqlite"
    july = export(tmp_path, "2024-07", JULY)
    first = tmp_path / "july.xlsx"
    code, _, err = run_cli("tag", july, "--history", history, "-o", first, "-q")
    assert code == 0, err
    assert users_sheet(first)["U1"]["分群细分"] == "活跃用户"
    label(first, "U1", "休眠用户")
    label(first, "U3", "有开车无APP活跃")  # computed 休眠用户: moved off the dormant sheet, lists and 预警's group
    second = tmp_path / "july_refreshed.xlsx"
    outcome = refresh(RefreshOptions(TagOptions(export=july, history=history, output=second), workbook=first))
    at_risk = outcome.result.alerts.at_risk.set_index("user_id")["group"]
    assert at_risk.to_dict() == {"U3": "churned_driving"}  # 预警 lists the effective group
    return july, second, history


def test_a_label_acts_in_its_month(july_labelled: tuple[Path, Path, Path]) -> None:
    _, book, history = july_labelled
    users = users_sheet(book)
    assert users["U1"]["分群细分"] == "活跃用户"  # computed, as the official numbers
    assert users["U1"]["人工标签"] == "休眠用户"
    assert users["U1"]["生效分群（人工优先）"] == "休眠用户"
    assert users["U2"]["生效分群（人工优先）"] == "活跃用户"
    assert "上月人工标签" not in users["U1"]
    assert sheet_ids(book, "休眠用户") == {"U1"}
    assert sheet_ids(book, "流失-有开车") == {"U3"}
    assert "U1" not in sheet_ids(book, "活跃用户")
    assert month_count(book, "休眠用户", "2024-07") == 1
    assert month_count(book, "活跃用户", "2024-07") == 1
    assert month_count(book, "流失-有开车", "2024-07") == 1
    with HistoryStore(history) as store:
        assert store.overrides()[["user_id", "month", "label"]].values.tolist() == [
            ["U1", "2024-07", "dormant"], ["U3", "2024-07", "churned_driving"]]
        stored = store.users("2024-07").set_index("user_id")
        assert stored.loc["U1", "group"] == "active"  # history keeps the computed group


def test_group_sheets_count_the_live_effective_column(july_labelled: tuple[Path, Path, Path]) -> None:
    """Editing 人工标签 in Excel moves the user: 生效分群 is a formula on it, the counts COUNTIF that column."""
    _, book, _ = july_labelled
    ws = openpyxl.load_workbook(book)["用户明细"]
    heads = [c.value for c in ws[1]]
    effective = heads.index("生效分群（人工优先）")
    override = openpyxl.utils.get_column_letter(heads.index("人工标签") + 1)
    formula = str(ws.cell(2, effective + 1).value)
    assert formula.startswith("=IF(") and f"{override}2" in formula
    letter = openpyxl.utils.get_column_letter(effective + 1)
    dormant = openpyxl.load_workbook(book)["休眠用户"]
    count = next(r[1] for r in dormant.iter_rows(max_col=2, values_only=True) if r[0] == "2024-07")
    assert f"${letter}:${letter}" in str(count) or f"{letter}:{letter}" in str(count)
    note = dormant.cell(3, 1).value
    assert "生效分群" in str(note) and "人工标签优先" in str(note)


def test_tag_applies_this_months_stored_labels(tmp_path: Path, july_labelled: tuple[Path, Path, Path],
                                               run_cli) -> None:
    july, _, history = july_labelled
    out = tmp_path / "again.xlsx"
    code, _, err = run_cli("tag", july, "--history", history, "-o", out, "-q")
    assert code == 0, err
    assert users_sheet(out)["U1"]["人工标签"] == "休眠用户"
    assert sheet_ids(out, "休眠用户") == {"U1"}


def test_labels_join_a_new_frame_and_leave_the_run_as_computed(july_labelled: tuple[Path, Path, Path]) -> None:
    """The label columns come on a new tags frame (and result); the run's own frame stays as computed."""
    july, _, history = july_labelled
    result = run(TagOptions(export=july, history=history, write=False))
    computed = result.tags.copy()
    with HistoryStore(history) as store:
        labelled = apply_stored_overrides(result, store)
    pd.testing.assert_frame_equal(result.tags, computed)
    assert "override" not in result.tags and labelled.tags is not result.tags
    effective = dict(zip(labelled.users.frame["user_id"], labelled.tags["effective_group"], strict=True))
    assert effective == {"U1": "dormant", "U2": "active", "U3": "churned_driving", "U4": "new"}
    assert labelled.tags["group"].tolist() == computed["group"].tolist()  # the official groups stay computed


def test_contacts_follow_the_label_in_its_month_only(tmp_path: Path, july_labelled: tuple[Path, Path, Path]) -> None:
    july, book, history = july_labelled
    config = tmp_path / "tagger.toml"
    config.write_text(RULE, encoding="utf-8")
    sent = make_contacts(ContactOptions(tag=TagOptions(export=july, config=config, history=history),
                                        out_dir=tmp_path / "july_lists", date="2024-07-25", record=False))
    assert sorted(sent.campaigns[0].contacted) == ["U1"]  # U3 is computed dormant but labelled churned
    august = export(tmp_path, "2024-08", AUGUST)
    refresh(RefreshOptions(TagOptions(export=august, history=history, output=tmp_path / "aug.xlsx"), workbook=book))
    sent = make_contacts(ContactOptions(tag=TagOptions(export=august, config=config, history=history),
                                        out_dir=tmp_path / "aug_lists", date="2024-08-25", record=False))
    assert sorted(sent.campaigns[0].contacted) == ["U2"]


def test_next_month_shows_last_months_label_without_applying_it(
        tmp_path: Path, july_labelled: tuple[Path, Path, Path]) -> None:
    _, book, history = july_labelled
    assert workbook_month(book) == "2024-07"
    august = export(tmp_path, "2024-08", AUGUST)
    out = tmp_path / "aug.xlsx"
    result = refresh(RefreshOptions(TagOptions(export=august, history=history, output=out), workbook=book)).result
    users = users_sheet(out)
    assert users["U1"]["人工标签"] is None
    assert users["U1"]["上月人工标签"] == "休眠用户"
    assert users["U1"]["生效分群（人工优先）"] == "活跃用户"
    assert "U1" not in sheet_ids(out, "休眠用户")
    assert "U1" in sheet_ids(out, "活跃用户")
    assert users["U3"]["上月人工标签"] == "有开车无APP活跃"
    # 复盘's tag accuracy judges July's labels against July's computed groups (from history).
    assert result.review.overridden == 2
    accuracy = result.review.tag_accuracy.set_index("group")["overridden"].to_dict()
    assert accuracy.get("active") == 1 and accuracy.get("dormant") == 1
    with HistoryStore(history) as store:  # July's label is kept, August has none
        assert store.overrides("2024-07")["label"].tolist() == ["dormant", "churned_driving"]
        assert store.overrides("2024-08").empty
    # A second refresh of August from August's own workbook keeps July's label stored.
    again = tmp_path / "aug2.xlsx"
    refresh(RefreshOptions(TagOptions(export=august, history=history, output=again), workbook=out))
    assert users_sheet(again)["U1"]["上月人工标签"] == "休眠用户"
    with HistoryStore(history) as store:
        assert store.overrides("2024-07")["label"].tolist() == ["dormant", "churned_driving"]


def test_previous_month_wraps_the_year() -> None:
    assert previous_month("2024-01") == "2023-12"
    assert previous_month("2024-08") == "2024-07"



def test_a_month_nobody_labelled_keeps_the_rules_columns_a_rerun_would_give(
        tmp_path: Path, july_labelled: tuple[Path, Path, Path]) -> None:
    """No label moves anyone in August, so the rules are not re-run on the effective groups: the
    columns kept must be the ones re-running them gives (last month's labels are shown, not acted on)."""
    _, _, history = july_labelled
    august = export(tmp_path, "2024-08", AUGUST)
    config = tmp_path / "tagger.toml"
    config.write_text(RULE, encoding="utf-8")
    result = run(TagOptions(export=august, config=config, history=history, write=False))
    with HistoryStore(history) as store:
        labelled = apply_stored_overrides(result, store)
    assert labelled.tags["prev_override"].tolist().count("dormant") == 1  # U1's July label, shown
    rerun = apply_rules(acting_tags(labelled.tags), labelled.users.frame, labelled.table.frame,
                        load_rules(labelled.config), labelled.lang)
    for column in RULE_COLUMNS:
        assert labelled.tags[column].tolist() == rerun[column].tolist()
    rules = dict(zip(labelled.users.frame["user_id"], labelled.tags["rule"], strict=True))
    assert rules == {"U1": "", "U2": "休眠召回", "U3": "", "U4": ""}  # U2 is computed dormant in August
