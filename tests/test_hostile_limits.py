"""Excel's limits: more rows than a sheet holds, 65,530+ URL-like strings, long URLs, sheet names."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
import python_calamine

from tagger.sanitize import sheet_name
from tests.test_hostile_history_output import big_csv

EXCEL_ROWS = 1_048_576


def dimensions(path: Path) -> dict[str, str]:
    """Sheet name -> ``<dimension ref>``, reading only the head of each sheet part."""
    with zipfile.ZipFile(path) as archive:
        book = archive.read("xl/workbook.xml").decode()
        rels = archive.read("xl/_rels/workbook.xml.rels").decode()
        targets = dict(re.findall(r'Id="(rId\d+)"[^>]*Target="([^"]+)"', rels))
        targets.update({k: v for v, k in re.findall(r'Target="([^"]+)"[^>]*Id="(rId\d+)"', rels)})
        out = {}
        for name, rid in re.findall(r'<sheet name="([^"]+)" sheetId="\d+"[^>]*r:id="(rId\d+)"', book):
            with archive.open("xl/" + targets[rid]) as handle:
                out[name] = re.search(rb'<dimension ref="([^"]+)"', handle.read(2048))[1].decode()
        return out


@pytest.mark.slow  # several minutes: tags and writes 1,048,577 users (still runs in CI; nothing is skipped)
def test_more_rows_than_excel_holds_continue_on_a_second_users_sheet(run_cli, tmp_path: Path) -> None:
    """1,048,577 users: the first Users sheet is full (header + 1,048,575), the rest go on 用户明细(2)."""
    export = big_csv(tmp_path / "big_2024-07.csv", EXCEL_ROWS + 1)
    code, out, err = run_cli("tag", export, "--no-history", "-q", "-o", tmp_path / "out.xlsx")
    assert code == 0, err
    dims = dimensions(tmp_path / "out.xlsx")
    assert dims["用户明细"].startswith("A1:") and dims["用户明细"].endswith(f"{EXCEL_ROWS}")
    assert dims["用户明细(2)"].startswith("A1:") and dims["用户明细(2)"].endswith("3")
    second = python_calamine.CalamineWorkbook.from_path(str(tmp_path / "out.xlsx")).get_sheet_by_name("用户明细(2)")
    rows = second.to_python()
    assert [row[0] for row in rows[1:]] == [str(10**17 + EXCEL_ROWS - 1), str(10**17 + EXCEL_ROWS)]


def test_65531_url_like_strings_and_a_long_url_stay_text(run_cli, tmp_path: Path) -> None:
    count = 65_531
    ids = np.arange(1, count + 1).astype(str)
    urls = np.char.add("http://t.cn/", ids)
    lines = np.char.add(np.char.add(ids, ",2024-05-01,2024-07-02,"), urls).tolist()
    long_url = "http://t.cn/" + "x" * 2_100
    lines[0] = f"1,2024-05-01,2024-07-02,{long_url}"
    path = tmp_path / "urls_2024-07.csv"
    path.write_text("用户ID,注册时间,最近一次活跃时间,备注\n" + "\n".join(lines) + "\n", encoding="utf-8")
    code, _, err = run_cli("tag", path, "--no-history", "-q", "-o", tmp_path / "out.xlsx")
    assert code == 0, err
    with zipfile.ZipFile(tmp_path / "out.xlsx") as archive:
        names = archive.namelist()
        assert not [n for n in names if n.startswith("xl/worksheets/_rels/")
                    and b"hyperlink" in archive.read(n)]
    rows = python_calamine.CalamineWorkbook.from_path(str(tmp_path / "out.xlsx")).get_sheet_by_name("用户明细")
    data = rows.to_python()
    column = data[0].index("备注")
    assert data[1][column] == long_url
    assert [row[column] for row in data[2:]] == urls.tolist()[1:]


def test_sheet_names_from_data_are_valid_unique_and_short() -> None:
    taken: set[str] = set()
    names = [sheet_name(text, taken) for text in
             ["2024/07", "2024\\07", "[休眠]:用户?*", "'引号'", "三十二个字符的名字" * 4, "三十二个字符的名字" * 4,
              "History", "history", "", "a\x08b"]]
    assert names[:4] == ["2024-07", "2024-07 (2)", "-休眠--用户--", "引号"]
    for name in names:
        assert 0 < len(name) <= 31 and not re.search(r"[\[\]:*?/\\]", name)
        assert not name.startswith("'") and not name.endswith("'")
    assert len({n.casefold() for n in names}) == len(names)
    assert names[5].endswith(" (2)") and names[7] == "history (2)" and names[9] == "ab"
