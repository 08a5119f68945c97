"""``tagger refresh``: edits typed into last week's workbook survive, however a person handled the file.

The "last workbook" here is built the way tagger lays it out (a Users sheet whose header holds the
user ID, 人工标签 and 备注, and a 触达跟踪 sheet), then edited with openpyxl the way a person edits in
Excel: rows sorted, a column inserted, rows hidden, a tab renamed, overrides and notes typed (one of
them the text ``=1+1``), tracking rows added.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import shutil
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from tagger.errors import InputError
from tagger.history import HistoryStore
from tagger.i18n import set_language
from tagger.pipeline import TagOptions
from tagger.refresh import RefreshOptions, auto_inputs, newest, read_last_workbook, refresh
from tagger.config import load_config


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def export(tmp_path: Path, samples: Path) -> Path:
    """The first 400 users of the July sample, under a name that carries the month."""
    target = tmp_path / "用户明细_2024-07.csv"
    lines = (samples / "car_app_2024-07.csv").read_text(encoding="utf-8-sig").splitlines(keepends=True)
    target.write_text("".join(lines[:401]), encoding="utf-8-sig")
    return target


def sample_ids(export: Path, n: int) -> list[str]:
    with export.open(encoding="utf-8-sig", newline="") as handle:
        return [row["用户ID"] for row in itertools.islice(csv.DictReader(handle), n)]


def make_last(path: Path, ids: list[str], *, users_title: str = "用户明细") -> Path:
    """A workbook shaped like tagger's: Users sheet (ID ... 人工标签 备注) and 触达跟踪."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = users_title
    ws.append(["用户ID", "昵称", "用户分群", "分群细分", "人工标签", "备注"])
    for i, uid in enumerate(ids):
        ws.append([uid, f"车友{i}", "活跃用户", "活跃用户", None, None])
    reach = book.create_sheet("触达跟踪")
    reach.append(["日期", "分群", "渠道", "活动/内容", "触达人数", "送达数", "点击数", "回访活跃数", "成本", "送达率"])
    reach.append([datetime(2024, 7, 1), "休眠用户", "push", "车辆状态提醒", 120, 110, 30, None, 50, "=F2/E2"])
    book.save(path)
    return path


def person_edits(path: Path, ids: list[str]) -> None:
    """What an ops person does in a week, saved with openpyxl."""
    book = openpyxl.load_workbook(path)
    ws = book["用户明细"]
    ws.title = "明细(运营改名)"
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    rows.sort(key=lambda r: str(r[0]), reverse=True)  # sorted by ID, descending
    for r, values in enumerate(rows, start=2):
        for c, value in enumerate(values, start=1):
            ws.cell(r, c).value = value
    ws.insert_cols(2)  # a helper column of their own
    ws.cell(1, 2).value = "跟进人"
    by_id = {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1)}
    label_col, remark_col = 6, 7
    ws.cell(by_id[ids[0]], label_col).value = "休眠用户"
    ws.cell(by_id[ids[1]], label_col).value = "Churned, still driving"  # English label is fine too
    ws.cell(by_id[ids[1]], remark_col).value = "电话回访：换车了"
    formula_text = ws.cell(by_id[ids[2]], remark_col)
    formula_text.value = "=1+1"
    formula_text.data_type = "s"  # typed as text ('=1+1), not a formula
    ws.cell(by_id[ids[3]], 2).value = "王五"
    for r in (by_id[ids[0]], by_id[ids[4]]):
        ws.row_dimensions[r].hidden = True
    ws.append(["999000999", None, "幽灵", None, None, "活跃用户", "已注销？"])  # not in the new export
    reach = book["触达跟踪"]
    reach.append([datetime(2024, 7, 8), "流失用户", "短信", "=HYPERLINK(\"x\")", 80, 75, 5, None, 40])
    reach.cell(reach.max_row, 4).data_type = "s"
    reach.append([datetime(2024, 7, 9), "Dormant", "WeChat service account", "社区话题", None, None, None, None,
                  None])
    book.save(path)


def do_refresh(export: Path, last: Path | None, out: Path, history: Path | None, **extra) -> object:
    options = TagOptions(export=export, output=out, history=history, use_history=history is not None, **extra)
    return refresh(RefreshOptions(options, workbook=last))


def test_refresh_keeps_every_edit_and_never_touches_last(tmp_path: Path, export: Path) -> None:
    ids = sample_ids(export, 30)
    last = make_last(tmp_path / "LAST.xlsx", ids)
    person_edits(last, ids)
    before = sha(last)
    outcome = do_refresh(export, last, tmp_path / "OUT.xlsx", tmp_path / "h.sqlite")
    result = outcome.result

    assert sha(last) == before  # read-only: byte-identical
    assert outcome.backup is not None and outcome.backup.parent.name == "backups" and sha(outcome.backup) == before
    assert result.output == tmp_path / "OUT.xlsx" and result.output.exists()

    frame = result.users.frame.set_index("user_id")
    tags = result.tags.set_index(result.users.frame["user_id"])
    carried = result.carried
    overrides = carried.overrides.set_axis(frame.index)
    remarks = carried.remarks.set_axis(frame.index)
    assert overrides[ids[0]] == "休眠用户"  # hidden row, sorted sheet, renamed tab, inserted column
    assert overrides[ids[1]] == "有开车无APP活跃"
    assert remarks[ids[1]] == "电话回访：换车了"
    assert remarks[ids[2]] == "=1+1" and isinstance(remarks[ids[2]], str)
    assert tags.loc[ids[0], "effective_group"] == "dormant" and tags.loc[ids[0], "group_source"] == "manual"
    assert tags.loc[ids[5], "group_source"] == "computed"
    assert tags.loc[ids[0], "group"] != "dormant" or tags.loc[ids[0], "segment"] == "dormant"  # computed kept
    assert (overrides != "").sum() == 2

    assert carried.unmatched.iloc[:, 0].tolist() == ["999000999"]
    assert carried.unmatched.iloc[0, 1] == "活跃用户"
    contents = [row["reach_content"] for row in carried.reach_rows]
    assert contents == ["车辆状态提醒", "=HYPERLINK(\"x\")", "社区话题"]
    first = carried.reach_rows[0]
    assert first["reach_targeted"] == 120 and first["reach_cost"] == 50 and first["reach_group"] == "休眠用户"
    assert first["reach_date"] == date(2024, 7, 1)
    assert carried.reach_rows[2]["reach_group"] == "休眠用户"  # typed as "Dormant"
    assert "送达率" not in first["extra"]  # formulas are recreated, not carried

    with HistoryStore(tmp_path / "h.sqlite") as store:  # the database holds it all too
        stored = store.overrides().set_index("user_id")
        assert stored.loc[ids[0], "label"] == "dormant" and stored.loc["999000999", "label"] == "active"
        assert stored.loc[ids[2], "remark"] == "=1+1"
        assert len(store.tracking_rows()) == 3


def _months(history: Path) -> list[tuple[str, int]]:
    with HistoryStore(history) as store:
        return [(r.month, r.rows) for r in store.imports()]


def _refused(export: Path, last: Path, tmp_path: Path, *needles: str) -> InputError:
    """Refresh from ``last`` must fail naming the file, and write and store nothing."""
    history, out = tmp_path / "h.sqlite", tmp_path / "NEW.xlsx"
    before = _months(history) if history.exists() else []
    with pytest.raises(InputError) as caught:
        do_refresh(export, last, out, history)
    text = str(caught.value)
    assert last.name in text and all(n in text for n in needles), text
    assert not out.exists()
    assert (_months(history) if history.exists() else []) == before
    return caught.value


def test_missing_or_broken_workbook_stops_the_run(tmp_path: Path, export: Path) -> None:
    ids = sample_ids(export, 10)
    last = make_last(tmp_path / "LAST.xlsx", ids)
    person_edits(last, ids)
    do_refresh(export, last, tmp_path / "OUT.xlsx", tmp_path / "h.sqlite")
    last.unlink()
    _refused(export, last, tmp_path, "不存在")
    last.write_bytes(b"PK\x03\x04 not really a zip")
    _refused(export, last, tmp_path)
    with HistoryStore(tmp_path / "h.sqlite") as store:  # what was stored before is still there
        assert store.overrides().set_index("user_id").loc[ids[0], "label"] == "dormant"


def test_encrypted_workbook_is_named_as_encrypted(tmp_path: Path, export: Path) -> None:
    """Excel's "encrypt with password" wraps the zip in an OLE compound file holding EncryptedPackage."""
    last = tmp_path / "LAST.xlsx"
    last.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "EncryptedPackage".encode("utf-16-le")
                     + b"\x00" * 512)
    error = _refused(export, last, tmp_path, "加密")
    assert "ZIP" not in str(error) and "损坏" not in str(error)


def test_deleted_users_sheet_stops_the_run(tmp_path: Path, export: Path) -> None:
    ids = sample_ids(export, 10)
    last = make_last(tmp_path / "LAST.xlsx", ids)
    book = openpyxl.load_workbook(last)
    del book["用户明细"]
    book.save(last)
    _refused(export, last, tmp_path, "人工标签")


def test_renamed_label_heading_is_matched_by_prefix(tmp_path: Path, export: Path) -> None:
    ids = sample_ids(export, 10)
    last = make_last(tmp_path / "LAST.xlsx", ids)
    book = openpyxl.load_workbook(last)
    ws = book["用户明细"]
    ws.cell(1, 5).value = "人工标签（确认）"
    ws.cell(2, 5).value = "休眠用户"
    book.save(last)
    result = do_refresh(export, last, tmp_path / "OUT.xlsx", tmp_path / "h.sqlite").result
    assert result.carried.overrides.set_axis(result.users.frame["user_id"])[ids[0]] == "休眠用户"
    assert any("人工标签（确认）" in w and "column E" in w for w in result.warnings), result.warnings


def test_header_twelve_rows_down_is_found(tmp_path: Path, export: Path) -> None:
    ids = sample_ids(export, 10)
    last = make_last(tmp_path / "LAST.xlsx", ids)
    book = openpyxl.load_workbook(last)
    ws = book["用户明细"]
    ws.cell(2, 5).value = "休眠用户"
    ws.insert_rows(1, 12)
    ws.cell(1, 1).value = "运营备忘：本周重点回访休眠用户"
    book.save(last)
    result = do_refresh(export, last, tmp_path / "OUT.xlsx", tmp_path / "h.sqlite").result
    assert result.carried.overrides.set_axis(result.users.frame["user_id"])[ids[0]] == "休眠用户"


def test_cleared_override_is_cleared(tmp_path: Path, export: Path) -> None:
    ids = sample_ids(export, 10)
    last = make_last(tmp_path / "LAST.xlsx", ids)
    person_edits(last, ids)
    do_refresh(export, last, tmp_path / "OUT.xlsx", tmp_path / "h.sqlite")
    book = openpyxl.load_workbook(last)
    ws = book.worksheets[0]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == ids[0]:
            row[5].value = None
    book.save(last)
    result = do_refresh(export, last, tmp_path / "OUT.xlsx", tmp_path / "h.sqlite").result
    overrides = result.carried.overrides.set_axis(result.users.frame["user_id"])
    assert overrides[ids[0]] == "" and overrides[ids[1]] == "有开车无APP活跃"


def test_conflicting_overrides_name_both_rows(tmp_path: Path, export: Path) -> None:
    set_language("en")
    ids = sample_ids(export, 5)
    last = make_last(tmp_path / "LAST.xlsx", ids)
    book = openpyxl.load_workbook(last)
    ws = book["用户明细"]
    ws.cell(2, 5).value = "休眠用户"
    ws.append([ids[0], "dup", None, None, "回流用户", None])  # row 7: same user, another label
    book.save(last)
    with pytest.raises(InputError) as caught:
        read_last_workbook(last, load_config(preset="car_app"))
    message = str(caught.value)
    assert ids[0] in message and "row 2" in message and "row 7" in message
    assert "休眠用户" in message and "回流用户" in message


def test_invalid_label_names_the_cell(tmp_path: Path, export: Path) -> None:
    set_language("en")
    ids = sample_ids(export, 3)
    last = make_last(tmp_path / "LAST.xlsx", ids)
    book = openpyxl.load_workbook(last)
    book["用户明细"].cell(3, 5).value = "高价值"
    book.save(last)
    with pytest.raises(InputError, match=r"sheet '用户明细', row 3, column E.*'高价值' is not a valid group"):
        read_last_workbook(last, load_config(preset="car_app"))


def test_numeric_ids_typed_by_excel_still_match(tmp_path: Path, export: Path) -> None:
    last = make_last(tmp_path / "LAST.xlsx", ["1001", "1002"])
    book = openpyxl.load_workbook(last)
    ws = book["用户明细"]
    ws.cell(2, 1).value = 1001  # Excel turned the ID into a number
    ws.cell(2, 5).value = "新用户"
    ws.cell(3, 1).value = "１００２\u200b"  # full-width digits and a zero-width space
    ws.cell(3, 5).value = "New"
    book.save(last)
    found = read_last_workbook(last, load_config(preset="car_app")).overrides
    assert sorted(zip(found["user_id"], found["label"], strict=True)) == [("1001", "new"), ("1002", "new")]


def test_locked_target_keeps_the_new_file_under_another_name(tmp_path: Path, export: Path) -> None:
    ids = sample_ids(export, 5)
    last = make_last(tmp_path / "LAST.xlsx", ids)
    out = tmp_path / "OUT.xlsx"
    out.write_bytes(b"the file open in Excel")
    owner = tmp_path / "~$OUT.xlsx"
    owner.write_bytes(bytes([4]) + b"alice".ljust(53, b" ")[:4] + b"\x00" * 160)
    outcome = do_refresh(export, last, out, tmp_path / "h.sqlite")
    assert out.read_bytes() == b"the file open in Excel"
    assert outcome.kept_as == tmp_path / "OUT (新).xlsx" and outcome.kept_as.exists()
    assert outcome.result.output == outcome.kept_as
    assert any("OUT.xlsx" in w and "~$OUT.xlsx" in w and "OUT (新).xlsx" in w for w in outcome.result.warnings)
    openpyxl.load_workbook(outcome.kept_as, read_only=True).close()  # a complete workbook


def test_no_history_carries_from_the_workbook_alone(tmp_path: Path, export: Path) -> None:
    ids = sample_ids(export, 10)
    last = make_last(tmp_path / "LAST.xlsx", ids)
    person_edits(last, ids)
    result = do_refresh(export, last, tmp_path / "OUT.xlsx", None).result
    assert result.carried.overrides.set_axis(result.users.frame["user_id"])[ids[0]] == "休眠用户"
    assert len(result.carried.unmatched) == 1 and len(result.carried.reach_rows) == 3


def test_auto_picks_newest_export_and_workbook(tmp_path: Path, export: Path) -> None:
    import os
    import time

    folder = tmp_path / "drop"
    folder.mkdir()
    old = folder / "用户明细_2024-06.csv"
    new = folder / "用户明细_2024-07.csv"
    shutil.copy(export, old)
    shutil.copy(export, new)
    (folder / "~$用户明细_2024-07.xlsx").write_bytes(b"owner")
    tagged = folder / "用户明细_2024-06_tagged.xlsx"
    tagged.write_bytes(b"x")
    now = time.time()
    os.utime(old, (now - 100, now - 100))
    os.utime(tagged, (now - 50, now - 50))
    os.utime(new, (now - 10, now - 10))
    os.utime(folder / "~$用户明细_2024-07.xlsx", (now, now))
    assert auto_inputs(folder) == (new, tagged)
    assert newest(tmp_path / "drop", workbooks=True) == tagged


def _cell_by_heading(ws, heading: str) -> int:
    for row in ws.iter_rows(min_row=1, max_row=10):
        for cell in row:
            if cell.value == heading:
                return cell.column
    raise AssertionError(f"no heading {heading} on {ws.title}")


def test_round_trip_through_the_written_workbook(tmp_path: Path, export: Path) -> None:
    """tagger writes, a person edits the real workbook, refresh writes it again with every edit."""
    pytest.importorskip("tagger.workbook.groups")
    pytest.importorskip("tagger.workbook.reach")
    history = tmp_path / "h.sqlite"
    first = do_refresh(export, None, tmp_path / "LAST.xlsx", history).result.output
    ids = sample_ids(export, 5)

    book = openpyxl.load_workbook(first)
    users = next(ws for ws in book.worksheets if ws.title == "用户明细")
    users.title = "明细"
    id_col, label_col = _cell_by_heading(users, "用户ID"), _cell_by_heading(users, "人工标签")
    remark_col = _cell_by_heading(users, "备注")
    users.insert_cols(2)
    label_col, remark_col = label_col + 1, remark_col + 1
    rows = {users.cell(r, id_col).value: r for r in range(2, users.max_row + 1)}
    users.cell(rows[ids[0]], label_col).value = "回流用户"
    text = users.cell(rows[ids[1]], remark_col)
    text.value = "=1+1"
    text.data_type = "s"
    users.row_dimensions[rows[ids[0]]].hidden = True
    reach = book["触达跟踪"]
    date_col = _cell_by_heading(reach, "日期")
    header_row = next(c.row for row in reach.iter_rows(min_row=1, max_row=10) for c in row if c.value == "日期")
    reach.cell(header_row + 1, date_col).value = datetime(2024, 7, 3)
    reach.cell(header_row + 1, date_col + 4).value = 321  # 触达人数
    dormant = book["休眠用户"]
    strategy = next(c for row in dormant.iter_rows(min_row=1, max_row=120) for c in row if c.value == "策略")
    dormant.cell(strategy.row + 1, strategy.column).value = "运营改过的策略"
    book.save(first)

    out = do_refresh(export, first, tmp_path / "OUT.xlsx", history).result.output
    book = openpyxl.load_workbook(out)
    users = book["用户明细"]
    id_col, label_col = _cell_by_heading(users, "用户ID"), _cell_by_heading(users, "人工标签")
    remark_col = _cell_by_heading(users, "备注")
    rows = {users.cell(r, id_col).value: r for r in range(2, users.max_row + 1)}
    assert users.cell(rows[ids[0]], label_col).value == "回流用户"
    carried_text = users.cell(rows[ids[1]], remark_col)
    assert carried_text.value == "=1+1" and carried_text.data_type == "s"  # still text, not a formula
    reach = book["触达跟踪"]
    values = [c.value for row in reach.iter_rows() for c in row]
    assert 321 in values
    dormant = book["休眠用户"]
    assert "运营改过的策略" in [c.value for row in dormant.iter_rows(min_row=1, max_row=120) for c in row]


def test_campaigns_come_back_as_tracking_rows_with_reactivated_filled(tmp_path: Path, export: Path) -> None:
    """contacts after the workbook was saved → the next refresh shows its rows with 回访活跃数 computed."""
    import os

    from tagger.contacts import ContactOptions, make_contacts

    config = tmp_path / "tagger.toml"
    config.write_text('[[rules]]\nname = "休眠召回"\nsegment = "dormant"\nchannel = "push"\ncontent = "车辆状态"\n',
                      encoding="utf-8")
    history = tmp_path / "h.sqlite"
    last = make_last(tmp_path / "LAST.xlsx", sample_ids(export, 5))
    os.utime(last, (1_700_000_000, 1_700_000_000))  # saved before the campaign
    sent = make_contacts(ContactOptions(tag=TagOptions(export=export, config=config, history=history),
                                        out_dir=tmp_path / "lists", date="2024-07-01"))
    contacted = sent.campaigns[0].contacted
    result = do_refresh(export, last, tmp_path / "OUT.xlsx", history, config=config).result
    rows = {r["reach_content"]: r for r in result.carried.reach_rows}
    assert set(rows) == {"车辆状态提醒", "车辆状态"}
    frame = result.users.frame.set_index("user_id")
    back = int((frame.loc[contacted, "last_active_date"] >= "2024-07-01").sum())
    assert rows["车辆状态"]["reach_targeted"] == len(contacted)
    assert rows["车辆状态"]["reach_reactivated"] == back
    review = result.review.by["channel"].set_index("channel")
    assert review.loc["push", "contacted"] == len(contacted) and review.loc["push", "back"] == back
    # One ledger: the typed row, and the campaign with the row contacts wrote for it, counted once.
    ledger = result.review.ledger.set_index("channel").loc["push"]
    assert (ledger["typed_rows"], ledger["recorded"], ledger["matched"]) == (2, 1, 1)
    assert ledger["reactivated"] == back
    assert ledger["targeted"] == 120 + len(contacted) and ledger["cost"] == 50
    assert ledger["targeted_from"] == "typed"  # contacts wrote 触达人数 into its row; a row's number wins

    # Ops delete the campaign row from the newer workbook: it stays deleted (and stays in history).
    newer = make_last(tmp_path / "NEWER.xlsx", sample_ids(export, 5))
    result = do_refresh(export, newer, tmp_path / "OUT2.xlsx", history, config=config).result
    assert [r["reach_content"] for r in result.carried.reach_rows] == ["车辆状态提醒"]
    with HistoryStore(history) as store:
        assert "车辆状态" in {r["content"] for r in store.tracking_rows()}


def test_rename_failure_keeps_the_new_file_and_says_so(tmp_path: Path, export: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows refuses to replace a file Excel holds open even without a ~$ file: the rename fails."""
    import os

    from tagger.errors import OutputError

    out = tmp_path / "OUT.xlsx"
    out.write_bytes(b"open elsewhere")
    real_replace = os.replace

    def refusing(src, dst):  # type: ignore[no-untyped-def]
        if Path(dst) == out:
            raise PermissionError(13, "Permission denied")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", refusing)
    with pytest.raises(OutputError, match=r"cannot replace .*OUT\.xlsx.*kept as .*OUT \(新\)\.xlsx"):
        do_refresh(export, None, out, None, lang="en")
    assert out.read_bytes() == b"open elsewhere"
    openpyxl.load_workbook(tmp_path / "OUT (新).xlsx", read_only=True).close()


def set_label(path: Path, user: str, label: str | None) -> None:
    """Type (or clear) a 人工标签 in a workbook tagger wrote, as a person does in Excel."""
    book = openpyxl.load_workbook(path)
    ws = book["用户明细"]
    head = next(r for r in range(1, 31) if any(c.value == "人工标签" for c in ws[r]))
    names = [c.value for c in ws[head]]
    id_col, label_col = names.index("用户ID") + 1, names.index("人工标签") + 1
    row = next(r for r in range(head + 1, ws.max_row + 1) if str(ws.cell(r, id_col).value) == user)
    ws.cell(row, label_col).value = label
    book.save(path)


def stored_labels(history: Path) -> dict[str, str]:
    with HistoryStore(history) as store:
        return dict(zip(store.overrides()["user_id"], store.overrides()["label"], strict=True))


def test_workbook_records_the_run_that_wrote_it(tmp_path: Path, export: Path) -> None:
    history = tmp_path / "h.sqlite"
    result = do_refresh(export, None, tmp_path / "A.xlsx", history).result
    props = {p.name: p.value for p in openpyxl.load_workbook(tmp_path / "A.xlsx").custom_doc_props.props}
    assert props["tagger_run"] == result.run_id and props["tagger_month"] == "2024-07"
    with HistoryStore(history) as store:
        newest = store.newest_workbook()
    assert newest["run"] == result.run_id and newest["path"].endswith("A.xlsx")
    assert newest["written"] == props["tagger_written"]


def test_stale_workbook_is_refused_unless_forced(tmp_path: Path, export: Path) -> None:
    ids = sample_ids(export, 10)
    history = tmp_path / "h.sqlite"
    a, b, c, d = (tmp_path / f"{name}.xlsx" for name in "ABCD")
    do_refresh(export, None, a, history)
    set_label(a, ids[0], "休眠用户")
    do_refresh(export, a, b, history)
    set_label(b, ids[1], "回流用户")
    do_refresh(export, b, c, history)
    set_label(c, ids[2], "流失用户")
    do_refresh(export, c, d, history)  # the history now holds three labels; D is the newest workbook
    assert stored_labels(history) == {ids[0]: "dormant", ids[1]: "returned", ids[2]: "churned"}

    _refused(export, b, tmp_path, "D.xlsx", "--force")  # B shows ids[2] unlabelled: it must not clear it

    set_label(b, ids[0], "活跃用户")  # an edit in the stale copy does not overwrite the newer label
    forced = refresh(RefreshOptions(TagOptions(export=export, output=tmp_path / "E.xlsx", history=history),
                                    workbook=b, force=True)).result
    assert any("--force" in w for w in forced.warnings)
    assert stored_labels(history) == {ids[0]: "dormant", ids[1]: "returned", ids[2]: "churned"}

    set_label(tmp_path / "E.xlsx", ids[2], None)  # the newest workbook's deletions are deletions
    do_refresh(export, tmp_path / "E.xlsx", tmp_path / "F.xlsx", history)
    assert stored_labels(history) == {ids[0]: "dormant", ids[1]: "returned"}


CONTACT_RULES = """
[[rules]]
name = "休眠召回"
segment = "dormant"
channel = "push"
content = "车辆状态提醒"
"""


def reach_contents(path: Path, config: Path) -> list[str]:
    return [row["content"] for row in read_last_workbook(path, load_config(config)).reach_rows]


def test_campaign_rows_survive_a_workbook_saved_after_contacts(tmp_path: Path, export: Path) -> None:
    """The workbook's save time says nothing about which campaigns it shows: the row keys do."""
    from tagger.contacts import ContactOptions, make_contacts

    config = tmp_path / "tagger.toml"
    config.write_text(CONTACT_RULES, encoding="utf-8")
    history, a, b, c = tmp_path / "h.sqlite", tmp_path / "A.xlsx", tmp_path / "B.xlsx", tmp_path / "C.xlsx"
    do_refresh(export, None, a, history, config=config)
    assert "车辆状态提醒" not in reach_contents(a, config)
    make_contacts(ContactOptions(tag=TagOptions(export=export, config=config, history=history),
                                 out_dir=tmp_path / "lists", date="2024-07-20"))
    book = openpyxl.load_workbook(a)  # ops keep working in A after the lists went out, and save it
    book["用户明细"]["A1"].comment = None
    book.save(a)
    do_refresh(export, a, b, history, config=config)
    assert reach_contents(b, config).count("车辆状态提醒") == 1

    book = openpyxl.load_workbook(b)  # ops delete the campaign row in B: that deletion sticks
    ws = book["触达跟踪"]
    row = next(r for r in range(1, ws.max_row + 1)
               if any(cell.value == "车辆状态提醒" for cell in ws[r]))
    ws.delete_rows(row)
    book.save(b)
    do_refresh(export, b, c, history, config=config)
    assert "车辆状态提醒" not in reach_contents(c, config)


def test_unstamped_workbook_is_judged_by_its_modification_time(tmp_path: Path, export: Path) -> None:
    """A workbook from an older tagger has no tagger_run: saved after the newest one, it is used with a warning."""
    import os

    ids = sample_ids(export, 10)
    history = tmp_path / "h.sqlite"
    do_refresh(export, None, tmp_path / "OUT.xlsx", history)
    last = make_last(tmp_path / "LAST.xlsx", ids)
    result = do_refresh(export, last, tmp_path / "OUT2.xlsx", history).result  # saved after OUT.xlsx: fine
    assert any("older tagger" in w or "旧版 tagger" in w for w in result.warnings)
    hour_ago = (tmp_path / "OUT2.xlsx").stat().st_mtime - 3600
    os.utime(last, (hour_ago, hour_ago))
    _refused(export, last, tmp_path, "OUT2.xlsx")


def _reach_changed_note(result: object) -> str:
    return next(n for n in result.notes if n.startswith("已带入"))  # type: ignore[attr-defined]


def test_carried_count_says_how_many_reach_rows_people_changed(tmp_path: Path, export: Path) -> None:
    """The written workbook holds the playbook's starter rows; a person fills one and edits nothing else."""
    pytest.importorskip("tagger.workbook.reach")
    set_language("zh")
    history = tmp_path / "h.sqlite"
    first = do_refresh(export, None, tmp_path / "LAST.xlsx", history).result.output
    book = openpyxl.load_workbook(first)
    reach = book["触达跟踪"]
    header_row = next(c.row for row in reach.iter_rows(min_row=1, max_row=10) for c in row if c.value == "日期")
    date_col = _cell_by_heading(reach, "日期")
    starters = sum(1 for r in range(header_row + 1, reach.max_row + 1) if reach.cell(r, date_col + 3).value)
    assert starters >= 3  # the preset's playbook fills several rows
    reach.cell(header_row + 1, date_col).value = datetime(2024, 7, 3)
    reach.cell(header_row + 1, date_col + 4).value = 321  # 触达人数
    book.save(first)

    result = do_refresh(export, first, tmp_path / "OUT.xlsx", history).result
    note = _reach_changed_note(result)
    assert f"{starters} 行触达跟踪（其中 1 行是上次以来新填或改动的）" in note

    # The next week nobody touches 触达跟踪: nothing changed, although every row is carried again.
    again = do_refresh(export, result.output, tmp_path / "OUT2.xlsx", history).result
    assert f"{starters} 行触达跟踪（其中 0 行" in _reach_changed_note(again)


def test_review_checks_last_months_at_risk_list_and_group_stability(tmp_path: Path, export: Path,
                                                                    samples: Path) -> None:
    """June is stored in history; the July refresh judges June's 即将休眠 list and June → July stability."""
    from tagger.pipeline import run

    history = tmp_path / "h.sqlite"
    run(TagOptions(export=samples / "car_app_2024-06.xlsx", history=history, use_history=True, write=False))
    result = do_refresh(export, None, tmp_path / "OUT.xlsx", history).result
    with HistoryStore(history) as store:
        june = store.users("2024-06")
    flagged = set(june.loc[june["last_active_date"].dt.strftime("%Y-%m") == "2024-05", "user_id"])
    july = result.users.frame.assign(group=result.tags["group"].to_numpy()).set_index("user_id")
    present = flagged & set(july.index)
    back = {u for u in present if july.at[u, "last_active_date"].strftime("%Y-%m") == "2024-07"}
    dormant = present - back
    check = result.review.at_risk
    assert flagged and check is not None
    assert (check.flagged, check.came_back, check.went_dormant, check.missing) == (
        len(flagged), len(back), len(dormant), len(flagged - present))

    stability = result.review.stability.set_index("group")
    in_june = june.set_index("user_id")["group"]
    for group in set(in_june):
        members = in_june[in_june == group].index
        again = {group, "active"} if group == "active_unsplit" else {group}
        stayed = sum(1 for u in members if u in july.index and july.at[u, "group"] in again)
        assert (stability.loc[group, "users"], stability.loc[group, "stayed"]) == (len(members), stayed)

    review = openpyxl.load_workbook(result.output)["复盘"]
    column = [review.cell(r, 1).value for r in range(1, review.max_row + 1)]
    row = column.index("上月标记人数") + 1
    assert review.cell(row, 2).value == len(flagged)
    assert any(str(v).startswith("用户分群的适用性") for v in column)
    assert "active_unsplit" not in column and stability.loc["active_unsplit", "stayed"] > 0


def test_refresh_is_built_in_its_language_and_opens_history_once(tmp_path: Path, export: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """One store for the newest-workbook check, storing, carrying and remembering the workbook."""
    from tagger.history import HistoryStore
    from tagger.i18n import get_language

    first = do_refresh(export, None, tmp_path / "OUT.xlsx", tmp_path / "h.sqlite").result
    opened = []
    real_init = HistoryStore.__init__
    monkeypatch.setattr(HistoryStore, "__init__", lambda self, *a, **k: opened.append(1) or real_init(self, *a, **k))
    outcome = do_refresh(export, first.output, tmp_path / "OUT.xlsx", tmp_path / "h.sqlite", lang="en")
    result = outcome.result
    assert len(opened) == 1 and get_language() == "zh" and result.lang == "en"
    assert result.carried is not None and result.review is not None and result.alerts is not None
    assert result.notes[-1].startswith("carried: 0 manual labels")
    book = openpyxl.load_workbook(result.output, read_only=True)
    assert book.sheetnames[0] == "Overview" and {"Alerts", "Review"} <= set(book.sheetnames)
    with HistoryStore(tmp_path / "h.sqlite") as store:
        assert store.newest_workbook()["run"] == result.run_id
