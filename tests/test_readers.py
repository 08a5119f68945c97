"""Tests for tagger.readers on real files built in tmp_path (xlsxwriter, openpyxl, plain bytes)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter

from tagger.errors import InputError
from tagger.i18n import placeholders, set_language
from tagger.readers import text as text_reader
from tagger.readers import TEXT as MESSAGES, SheetInfo, list_sheets, read_export

HEADER = ["用户ID", "昵称", "注册时间", "最近一次活跃时间"]
ALLOWED = (str, int, float, bool, dt.datetime, dt.date, dt.time, dt.timedelta, type(None))


@pytest.fixture(autouse=True)
def chinese() -> Iterator[None]:
    """Messages are process-wide; every test starts and ends in Chinese."""
    set_language("zh")
    yield
    set_language("zh")


SheetWriter = Callable[[Any, Any], None]


def make_xlsx(path: Path, sheets: dict[str, SheetWriter], hidden: Sequence[str] = ()) -> Path:
    """An xlsx with one sheet per entry; each writer gets (workbook, worksheet)."""
    book = xlsxwriter.Workbook(path, {"strings_to_numbers": False, "strings_to_formulas": False})
    shown = [name for name in sheets if name not in hidden]
    for name, write in sheets.items():
        sheet = book.add_worksheet(name)
        write(book, sheet)
        if name in hidden:
            sheet.hide()
        elif name == shown[0]:
            sheet.activate()
    book.close()
    return path


def rows_writer(rows: Sequence[Sequence[object]], first_row: int = 0) -> SheetWriter:
    """Write text as text, numbers as numbers, dates with a date format."""

    def write(book: Any, sheet: Any) -> None:
        date_format = book.add_format({"num_format": "yyyy-mm-dd"})
        stamp_format = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        for r, row in enumerate(rows, start=first_row):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, str):
                    sheet.write_string(r, c, value)
                elif isinstance(value, dt.datetime):
                    sheet.write_datetime(r, c, value, stamp_format)
                elif isinstance(value, dt.date):
                    sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_format)
                else:
                    sheet.write(r, c, value)

    return write


def user_rows(count: int = 2) -> list[list[object]]:
    return [
        [f"10{i:02d}", f"用户{i}", dt.date(2024, 7, 1 + i), dt.datetime(2024, 7, 20, 9, i)] for i in range(count)
    ]


def error_text(excinfo: pytest.ExceptionInfo[InputError]) -> str:
    return str(excinfo.value)


# --------------------------------------------------------------------------- xlsx: headers and sheets


def test_header_under_merged_title_row(tmp_path: Path) -> None:
    def write(book: Any, sheet: Any) -> None:
        sheet.merge_range("A1:D1", "2024年7月用户明细（导出时间 2024-08-01）")
        rows_writer([HEADER, *user_rows()], first_row=2)(book, sheet)

    table = read_export(make_xlsx(tmp_path / "title.xlsx", {"明细": write}))
    assert table.sheet == "明细"
    assert table.header_row == 3
    assert list(table.frame.columns) == HEADER
    assert list(table.frame.index) == [4, 5]
    assert table.letters == {"用户ID": "A", "昵称": "B", "注册时间": "C", "最近一次活跃时间": "D"}
    assert table.excel_row(1) == 5
    assert table.encoding is None and table.delimiter is None


def test_two_level_merged_header_uses_the_matching_row(tmp_path: Path) -> None:
    def write(book: Any, sheet: Any) -> None:
        sheet.merge_range("A1:F1", "用户明细")
        sheet.merge_range("A2:A3", "用户ID")  # merged down: matches on both header rows
        sheet.merge_range("B2:B3", "昵称")
        sheet.merge_range("C2:D2", "时间")  # group over two real headers
        sheet.merge_range("E2:F2", "联系方式")
        sheet.write_row(2, 2, ["注册时间", "最近一次活跃时间", "手机号", "邮箱"])
        sheet.write_row(3, 0, ["1001", "张三", "2024-07-01", "2024-07-20", "13800138000", "a@b.c"])

    table = read_export(make_xlsx(tmp_path / "two_level.xlsx", {"明细": write}))
    assert table.header_row == 3
    assert list(table.frame.columns) == ["用户ID", "昵称", "注册时间", "最近一次活跃时间", "手机号", "邮箱"]
    assert table.frame.loc[4, "用户ID"] == "1001"
    assert table.letters["手机号"] == "E"


def test_two_level_header_with_group_row_only_above_dates(tmp_path: Path) -> None:
    def write(book: Any, sheet: Any) -> None:
        sheet.merge_range("C1:D1", "时间")
        sheet.write_row(1, 0, HEADER)
        sheet.write_row(2, 0, ["1001", "张三", "2024-07-01", "2024-07-20"])

    table = read_export(make_xlsx(tmp_path / "group.xlsx", {"明细": write}))
    assert table.header_row == 2
    assert list(table.frame.index) == [3]


def test_hidden_first_sheet_is_skipped(tmp_path: Path) -> None:
    config = rows_writer([HEADER, ["配置", "x", "y", "z"]])
    data = rows_writer([HEADER, *user_rows()])
    path = make_xlsx(tmp_path / "hidden_first.xlsx", {"配置": config, "明细": data}, hidden=["配置"])
    table = read_export(path)
    assert table.sheet == "明细"
    assert table.warnings == []
    assert list_sheets(path) == [SheetInfo("配置", False, 2), SheetInfo("明细", True, 3)]


def test_hidden_sheet_can_be_named_explicitly(tmp_path: Path) -> None:
    config = rows_writer([HEADER, ["9", "隐藏", "x", "y"]])
    data = rows_writer([HEADER, *user_rows()])
    path = make_xlsx(tmp_path / "hidden.xlsx", {"配置": config, "明细": data}, hidden=["配置"])
    assert read_export(path, sheet="配置").frame.loc[2, "昵称"] == "隐藏"


def test_two_visible_sheets_use_first_and_warn(tmp_path: Path) -> None:
    readme = rows_writer([["说明：本文件由 BI 导出"]])
    path = make_xlsx(
        tmp_path / "two.xlsx",
        {
            "说明": readme,
            "7月": rows_writer([HEADER, *user_rows(1)]),
            "7月(备份)": rows_writer([HEADER, *user_rows(3)]),
        },
    )
    table = read_export(path)
    assert table.sheet == "7月"
    assert len(table.frame) == 1
    assert len(table.warnings) == 1
    assert "'7月(备份)'" in table.warnings[0] and "'7月'" in table.warnings[0]


def test_named_sheet_missing_lists_sheets(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "named.xlsx", {"明细": rows_writer([HEADER])})
    with pytest.raises(InputError) as excinfo:
        read_export(path, sheet="Sheet1")
    assert "named.xlsx" in error_text(excinfo)
    assert "'Sheet1'" in error_text(excinfo) and "'明细'（可见）" in error_text(excinfo)


def test_duplicate_headers_name_both_letters(tmp_path: Path) -> None:
    rows = [["用户ID", "注册时间", "手机号", "手机号 ", "最近一次活跃时间"],
            ["1", "2024-07-01", "a", "b", "2024-07-02"]]
    path = make_xlsx(tmp_path / "dup_headers.xlsx", {"明细": rows_writer(rows)})
    with pytest.raises(InputError) as excinfo:
        read_export(path)
    text = error_text(excinfo)
    assert "dup_headers.xlsx" in text and "明细" in text
    assert "列 C 和 D 的表头都是 '手机号'（第 1 行）" in text


def test_duplicate_headers_in_english(tmp_path: Path) -> None:
    rows = [["用户ID", "注册时间", "最近一次活跃时间", "手机号", "手机号"], ["1", "x", "y", "a", "b"]]
    path = make_xlsx(tmp_path / "dup.xlsx", {"明细": rows_writer(rows)})
    set_language("en")
    with pytest.raises(InputError, match=r"columns D and E both have the header '手机号'"):
        read_export(path)


def test_missing_required_column_lists_what_was_seen(tmp_path: Path) -> None:
    rows = [["用户明细"], ["用户ID", "昵称", "注册日期", "手机号"], ["1", "张三", "2024-07-01", "138"]]
    path = make_xlsx(tmp_path / "missing.xlsx", {"明细": rows_writer(rows), "备注": rows_writer([["无"]])})
    with pytest.raises(InputError) as excinfo:
        read_export(path)
    text = error_text(excinfo)
    assert "missing.xlsx" in text
    assert "'明细'（可见）" in text and "'备注'（可见）" in text
    assert "第 2 行" in text and "A '用户ID'" in text and "D '手机号'" in text
    assert "缺少必需列：最近一次活跃时间" in text


def test_missing_required_column_in_english(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "missing.xlsx", {"明细": rows_writer([["用户ID", "昵称"], ["1", "x"]])})
    set_language("en")
    with pytest.raises(InputError) as excinfo:
        read_export(path)
    assert "missing required columns: registration date, last active date" in error_text(excinfo)
    assert "A '用户ID', B '昵称'" in error_text(excinfo)


def test_header_only_in_hidden_sheet_says_so(tmp_path: Path) -> None:
    path = make_xlsx(
        tmp_path / "only_hidden.xlsx",
        {"数据": rows_writer([HEADER, *user_rows()]), "封面": rows_writer([["封面"]])},
        hidden=["数据"],
    )
    with pytest.raises(InputError) as excinfo:
        read_export(path)
    text = error_text(excinfo)
    assert "'数据'（隐藏）" in text and "隐藏的工作表 '数据' 有表头" in text


def test_custom_aliases_find_the_header(tmp_path: Path) -> None:
    rows = [["会员号", "开户日", "末次登录"], ["A1", "2024-07-01", "2024-07-02"]]
    path = make_xlsx(tmp_path / "aliases.xlsx", {"S": rows_writer(rows)})
    aliases = {"user_id": ["会员号"], "register_date": ["开户日"], "last_active_date": ["末次登录"]}
    assert read_export(path, aliases=aliases).frame.loc[2, "会员号"] == "A1"


# --------------------------------------------------------------------------- xlsx: cell values


def test_cell_value_contract_from_xlsx(tmp_path: Path) -> None:
    def write(book: Any, sheet: Any) -> None:
        sheet.write_row(0, 0, [*HEADER, "次数", "是否开车", "时长"])
        sheet.write_string(1, 0, "110101199003071234")
        sheet.write_string(1, 1, "NA")
        sheet.write_datetime(1, 2, dt.datetime(2024, 7, 1), book.add_format({"num_format": "yyyy-mm-dd"}))
        stamp = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        sheet.write_datetime(1, 3, dt.datetime(2024, 7, 20, 9, 30), stamp)
        sheet.write_number(1, 4, 3)
        sheet.write_boolean(1, 5, True)
        sheet.write_datetime(1, 6, dt.time(1, 30), book.add_format({"num_format": "hh:mm"}))
        sheet.write_number(2, 0, 110101199003071234)  # an ID typed as a number: must stay a number
        sheet.write_string(2, 1, "null")
        sheet.write_string(2, 2, "2024年7月1日")  # a text date stays text for the date parser to judge
        sheet.write_string(3, 0, "1003")
        sheet.write_string(3, 1, "None")
        sheet.write_string(3, 3, " 2024-07-02 ")

    table = read_export(make_xlsx(tmp_path / "values.xlsx", {"明细": write}))
    frame = table.frame
    assert frame.loc[2, "用户ID"] == "110101199003071234"
    assert isinstance(frame.loc[3, "用户ID"], float)
    assert [frame.loc[row, "昵称"] for row in (2, 3, 4)] == ["NA", "null", "None"]
    assert frame.loc[2, "注册时间"] == dt.date(2024, 7, 1)
    assert isinstance(frame.loc[2, "注册时间"], dt.date)
    assert frame.loc[2, "最近一次活跃时间"] == dt.datetime(2024, 7, 20, 9, 30)
    assert frame.loc[3, "注册时间"] == "2024年7月1日"
    assert frame.loc[4, "最近一次活跃时间"] == " 2024-07-02 "  # not stripped
    assert frame.loc[2, "次数"] == 3
    assert frame.loc[2, "是否开车"] is True
    assert frame.loc[2, "时长"] == dt.time(1, 30)
    assert frame.loc[4, "注册时间"] is None and frame.loc[3, "次数"] is None
    assert all(dtype == "object" for dtype in frame.dtypes)
    assert all(isinstance(value, ALLOWED) for value in frame.to_numpy().ravel())


def test_openpyxl_written_dates_come_back_as_datetime(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "明细"
    sheet.append(HEADER)
    sheet.append(["1001", "NA", dt.datetime(2024, 7, 1, 8, 0), dt.datetime(2024, 7, 31, 23, 59)])
    book.save(tmp_path / "openpyxl.xlsx")
    frame = read_export(tmp_path / "openpyxl.xlsx").frame
    assert frame.loc[2, "注册时间"] == dt.datetime(2024, 7, 1, 8, 0)
    assert frame.loc[2, "最近一次活跃时间"] == dt.datetime(2024, 7, 31, 23, 59)
    assert frame.loc[2, "昵称"] == "NA"


def test_empty_rows_dropped_row_numbers_kept(tmp_path: Path) -> None:
    rows: list[Sequence[object]] = [HEADER, ["1", "a", "x", "y"], [], ["3", "c", "x", "y"], [], [],
                                    ["6", "f", "x", "y"]]

    def write(book: Any, sheet: Any) -> None:
        rows_writer(rows)(book, sheet)
        blank = book.add_format({"bg_color": "#FFFF00"})
        for row in range(7, 57):  # formatted but empty trailing rows
            sheet.write_blank(row, 0, None, blank)

    table = read_export(make_xlsx(tmp_path / "gaps.xlsx", {"明细": write}))
    assert list(table.frame.index) == [2, 4, 7]
    assert list(table.frame["用户ID"]) == ["1", "3", "6"]
    assert table.excel_row(2) == 7
    assert table.warnings == ["删除了 3 个空行（第 3、5、6 行）"]


def test_unnamed_column_with_data_gets_a_name_and_empty_columns_go(tmp_path: Path) -> None:
    rows = [["", "用户ID", "注册时间", "最近一次活跃时间", "", "", "备注"], ["", "1", "x", "y", "", "补充", ""]]
    table = read_export(make_xlsx(tmp_path / "unnamed.xlsx", {"明细": rows_writer(rows)}))
    assert list(table.frame.columns) == ["用户ID", "注册时间", "最近一次活跃时间", "列F", "备注"]
    assert table.letters["列F"] == "F" and table.letters["用户ID"] == "B"
    assert table.frame.loc[2, "列F"] == "补充" and table.frame.loc[2, "备注"] is None
    assert table.warnings == ["列 F 没有表头但有数据，已命名为 '列F'"]


def test_header_without_data_rows_warns(tmp_path: Path) -> None:
    table = read_export(make_xlsx(tmp_path / "empty.xlsx", {"明细": rows_writer([HEADER])}))
    assert table.frame.empty and list(table.frame.columns) == HEADER
    assert table.warnings == ["表头（第 1 行）下面没有数据行"]


def test_xlsx_named_xls_is_read_with_a_warning(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "real.xlsx", {"明细": rows_writer([HEADER, *user_rows(1)])})
    renamed = path.rename(tmp_path / "export.xls")
    table = read_export(renamed)
    assert len(table.frame) == 1
    assert table.warnings == ["扩展名是 .xls，但内容是 Excel 工作簿，已按 Excel 工作簿读取"]


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice converts xlsx to xls/ods")
@pytest.mark.parametrize("fmt", ["xls", "ods"])
def test_xls_and_ods_files(tmp_path: Path, fmt: str) -> None:
    def write(book: Any, sheet: Any) -> None:
        sheet.merge_range("A1:D1", "2024年7月用户明细")
        rows_writer([HEADER, ["110101199003071234", "NA", dt.date(2024, 7, 1), None], [], ["2", "b", None, None]], 1)(
            book, sheet
        )

    source = make_xlsx(tmp_path / "export.xlsx", {"配置": rows_writer([["x"]]), "明细": write}, hidden=["配置"])
    profile = (tmp_path / "lo-profile").as_uri()
    out = str(tmp_path / "out")
    subprocess.run(
        ["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", fmt, "--outdir", out,
         str(source)],
        check=True,
        capture_output=True,
        timeout=180,
    )
    table = read_export(tmp_path / "out" / f"export.{fmt}")
    assert table.sheet == "明细" and table.header_row == 2
    assert list(table.frame.loc[3]) == ["110101199003071234", "NA", dt.date(2024, 7, 1), None]
    assert list(table.frame.index) == [3, 5]
    assert table.warnings == ["删除了 1 个空行（第 4 行）"]


# --------------------------------------------------------------------------- wrong containers


@pytest.mark.parametrize(
    "content",
    [
        b"<html><body><table><tr><td>\xe7\x94\xa8\xe6\x88\xb7ID</td></tr></table></body></html>",
        b"\xef\xbb\xbf\r\n  <table><tr><td>1</td></tr></table>",
        "<TABLE><tr><td>用户ID</td></tr></TABLE>".encode("utf-16"),
    ],
)
def test_html_saved_as_xls_is_named(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "BI导出.xls"
    path.write_bytes(content)
    with pytest.raises(InputError) as excinfo:
        read_export(path)
    text = error_text(excinfo)
    assert text.startswith("BI导出.xls: 这个文件实际是 HTML 表格") and "另存为 xlsx" in text


def test_html_message_in_english(tmp_path: Path) -> None:
    (tmp_path / "x.xls").write_bytes(b"<html><table></table></html>")
    set_language("en")
    with pytest.raises(InputError, match=r"^x\.xls: this file is actually an HTML table .* save it as xlsx"):
        read_export(tmp_path / "x.xls")


def test_xml_spreadsheet_2003_is_named(tmp_path: Path) -> None:
    (tmp_path / "x.xls").write_bytes(
        b'<?xml version="1.0"?>\n<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"></Workbook>'
    )
    with pytest.raises(InputError, match="XML 电子表格 2003"):
        read_export(tmp_path / "x.xls")


def test_excel_lock_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "~$users.xlsx"
    path.write_bytes(b"\x08zhangsan" + b" " * 100)
    with pytest.raises(InputError) as excinfo:
        read_export(path)
    text = error_text(excinfo)
    assert "锁定文件" in text and "'users.xlsx'" in text and "~$users.xlsx" in text


def test_encrypted_workbook_is_named(tmp_path: Path) -> None:
    # An OLE2 container whose directory names the EncryptedPackage stream, as Excel's
    # password-protected xlsx files do (the rest of the container is irrelevant here).
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    path = tmp_path / "secret.xlsx"
    path.write_bytes(header + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 512)
    with pytest.raises(InputError, match="加密"):
        read_export(path)


def test_corrupt_zip_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    with pytest.raises(InputError, match="无法作为 Excel 工作簿读取"):
        read_export(path)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [("missing.csv", None, "找不到这个文件"), ("empty.csv", b"", "文件是空的"),
     ("blob.bin", b"\x00\x01\x02", "既不是")],
)
def test_unusable_files(tmp_path: Path, name: str, content: bytes | None, expected: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=expected) as excinfo:
        read_export(path)
    assert name in error_text(excinfo)


# --------------------------------------------------------------------------- text files

CSV_TEXT = ("用户ID,昵称,性别,注册时间,最近一次活跃时间\n110101199003071234,NA,男,2024-07-01,2024-07-20\n"
            "013912345678,null,女,,2024-07-21\n")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "users.csv"
    path.write_bytes(CSV_TEXT.encode(encoding))
    table = read_export(path)
    assert table.encoding == encoding
    assert table.delimiter == ","
    assert list(table.frame.columns) == ["用户ID", "昵称", "性别", "注册时间", "最近一次活跃时间"]
    assert list(table.frame.loc[2]) == ["110101199003071234", "NA", "男", "2024-07-01", "2024-07-20"]
    assert list(table.frame.loc[3]) == ["013912345678", "null", "女", None, "2024-07-21"]
    assert table.sheet is None and table.header_row == 1 and table.letters["性别"] == "C"


def test_short_gbk_sample_is_not_mistaken_for_big5(tmp_path: Path) -> None:
    path = tmp_path / "gbk_short.csv"
    path.write_bytes("用户ID,注册时间,最近一次活跃时间,性别\n1,2024-07-01,2024-07-02,男\n".encode("gbk"))
    table = read_export(path)
    assert table.encoding == "gb18030"
    assert table.frame.loc[2, "性别"] == "男"


def test_utf16_unicode_text_is_tab_separated(tmp_path: Path) -> None:
    path = tmp_path / "unicode.txt"
    text = ("用户ID\t昵称\t注册时间\t最近一次活跃时间\r\n1001\tNone\t2024/7/1\t2024/7/20\r\n"
            "1002\t\"a\tb\"\t2024/7/2\t2024/7/21\r\n")
    path.write_bytes(text.encode("utf-16"))  # BOM FF FE + little endian, as Excel writes it
    table = read_export(path)
    assert table.encoding == "utf-16" and table.delimiter == "\t"
    assert list(table.frame.loc[2]) == ["1001", "None", "2024/7/1", "2024/7/20"]
    assert table.frame.loc[3, "昵称"] == "a\tb"


def test_utf16_big_endian(tmp_path: Path) -> None:
    path = tmp_path / "be.txt"
    path.write_bytes(b"\xfe\xff" + "用户ID\t注册时间\t最近一次活跃时间\n1\tx\ty\n".encode("utf-16-be"))
    assert read_export(path).frame.loc[2, "用户ID"] == "1"


@pytest.mark.parametrize(("name", "delimiter"), [("semi.csv", ";"), ("tabs.tsv", "\t"), ("pipe.txt", "|")])
def test_delimiters_are_sniffed(tmp_path: Path, name: str, delimiter: str) -> None:
    path = tmp_path / name
    rows = [["用户ID", "昵称", "注册时间", "最近一次活跃时间"], ["1001", "a,b", "2024-07-01", "2024-07-20"]]
    path.write_text("\n".join(delimiter.join(row) for row in rows) + "\n", encoding="utf-8")
    table = read_export(path)
    assert table.delimiter == delimiter
    assert table.frame.loc[2, "昵称"] == "a,b"


def test_gb18030_pipe_delimited(tmp_path: Path) -> None:
    # In GBK, 0x7C ('|') can be a trail byte: the field count must not be fooled by it.
    path = tmp_path / "pipe_gbk.txt"
    path.write_bytes("用户ID|注册时间|最近一次活跃时间|昵称\n1|x|y|億倈\n".encode("gb18030"))
    table = read_export(path)
    assert table.encoding == "gb18030"
    assert table.frame.loc[2, "昵称"] == "億倈"


def test_csv_sentinels_ids_and_phones_stay_exact(tmp_path: Path) -> None:
    path = tmp_path / "dirty.csv"
    path.write_text(
        "用户ID,昵称,手机号,注册时间,最近一次活跃时间\n"
        "110101199003071234,NA,013912345678,2024-07-01,2024-07-02\n"
        ",null,+8613800138000,2024-07-01,2024-07-02\n"
        "3,None,138 0013 8000,,\n"
        "4,nan,N/A,-,--\n",
        encoding="utf-8",
    )
    frame = read_export(path).frame
    assert frame["用户ID"].tolist() == ["110101199003071234", None, "3", "4"]
    assert frame["昵称"].tolist() == ["NA", "null", "None", "nan"]
    assert frame["手机号"].tolist() == ["013912345678", "+8613800138000", "138 0013 8000", "N/A"]
    assert frame.loc[5, "注册时间"] == "-"
    assert all(isinstance(value, (str, type(None))) for value in frame.to_numpy().ravel())


def test_csv_title_rows_blank_lines_and_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "titled.csv"
    path.write_text(
        "2024年7月用户明细\n\n用户ID,昵称,注册时间,最近一次活跃时间\n1,a,x,y\n\n,,,\n5,\"多行\n昵称\",x,y\n6,f,x,y\n,,,\n\n",
        encoding="utf-8",
    )
    table = read_export(path)
    assert table.header_row == 3
    assert list(table.frame.index) == [4, 7, 8]  # records: a quoted line break stays inside its row
    assert table.frame.loc[7, "昵称"] == "多行\n昵称"
    assert table.warnings == ["删除了 2 个空行（第 5、6 行）"]


def test_crlf_csv(tmp_path: Path) -> None:
    path = tmp_path / "crlf.csv"
    path.write_bytes("用户ID,注册时间,最近一次活跃时间\r\n1,x,y\r\n\r\n2,x,y\r\n".encode())
    table = read_export(path)
    assert list(table.frame.index) == [2, 4]
    assert table.frame.loc[4, "最近一次活跃时间"] == "y"


@pytest.mark.parametrize(
    ("body", "row", "found"),
    [
        ("1,a,x,y\n2,b,x,y,extra\n", 3, 5),  # too many fields
        ("1,a,x,y\n2,张\n三,x,y\n", 3, 2),  # a nickname broke the line: pandas would pad this silently
        ('1,a,x,y\n"2",b,x\n', 3, 3),  # short row in a file with quotes (csv-module path)
    ],
)
def test_ragged_rows_name_the_row(tmp_path: Path, body: str, row: int, found: int) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("用户ID,昵称,注册时间,最近一次活跃时间\n" + body, encoding="utf-8")
    with pytest.raises(InputError) as excinfo:
        read_export(path)
    text = error_text(excinfo)
    assert "ragged.csv" in text
    assert f"第 {row} 行有 {found} 个字段" in text and "表头（第 1 行）有 4 个" in text
    assert excinfo.value.where is not None and excinfo.value.where.row == row


def test_unclosed_quote_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "quote.csv"
    path.write_text('用户ID,昵称,注册时间,最近一次活跃时间\n1,a,x,y\n2,"b,x,y\n3,c,x,y\n', encoding="utf-8")
    with pytest.raises(InputError) as excinfo:
        read_export(path)
    assert "第 3 行的引号没有正确闭合" in error_text(excinfo)


def test_decode_errors_across_chunk_boundaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The chunk boundary falls inside 四, right before the bad byte: the decoder holds
    # part of 四 when it fails, and the reported offset must allow for that.
    prefix = "用户ID,注册时间,最近一次活跃时间\n1,张三丰李".encode()
    path = tmp_path / "chunks.csv"
    path.write_bytes(prefix + "四".encode() + b"\xff,y\n")
    monkeypatch.setattr(text_reader, "_CHUNK", len(prefix) + 1)
    with pytest.raises(InputError) as excinfo:
        read_export(path)
    where = excinfo.value.where
    assert where is not None and where.row == 2
    assert f"字节 {len(prefix) + 3}" in error_text(excinfo)


def test_undecodable_bytes_name_the_row(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    good = "用户ID,注册时间,最近一次活跃时间\n".encode("gb18030")
    path.write_bytes(good + b"1,x,y\n2,\x81\x20,y\n")  # 0x81 0x20 is neither UTF-8 nor GB18030
    with pytest.raises(InputError) as excinfo:
        read_export(path)
    text = error_text(excinfo)
    assert "bad.csv" in text and "第 3 行" in text and "GB18030" in text


def test_damaged_utf8_is_not_read_as_gb18030(tmp_path: Path) -> None:
    path = tmp_path / "damaged.csv"
    head = "用户ID,注册时间,最近一次活跃时间,昵称\n1,x,y,张三丰\n2,x,y,李四\n".encode()
    path.write_bytes(head + b"3,x,y,\xed\xa0\x80\n")  # an encoded surrogate: invalid UTF-8
    with pytest.raises(InputError) as excinfo:
        read_export(path)
    assert "UTF-8" in error_text(excinfo) and "第 4 行" in error_text(excinfo)


def test_missing_header_in_csv(tmp_path: Path) -> None:
    path = tmp_path / "nohead.csv"
    path.write_text("uid;昵称;注册时间\n1;a;x\n", encoding="utf-8")
    with pytest.raises(InputError) as excinfo:
        read_export(path)
    text = error_text(excinfo)
    assert "nohead.csv" in text and "A 'uid'、B '昵称'、C '注册时间'" in text
    assert "缺少必需列：最近一次活跃时间" in text


def test_gbk_csv_saved_as_xls_is_read_as_text(tmp_path: Path) -> None:
    path = tmp_path / "fake_csv.xls"
    path.write_bytes(CSV_TEXT.encode("gbk"))
    table = read_export(path)
    assert table.encoding == "gb18030" and table.frame.loc[2, "性别"] == "男"
    assert table.warnings == ["扩展名是 .xls，但内容是文本（CSV），已按文本（CSV）读取"]


def test_sheet_argument_on_text_file_warns(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_text(CSV_TEXT, encoding="utf-8")
    assert read_export(path, sheet="明细").warnings == ["文本文件没有工作表，已忽略指定的工作表 '明细'"]


def test_list_sheets_on_text_file(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_text(CSV_TEXT, encoding="utf-8")
    assert list_sheets(path) == [SheetInfo("u.csv", True, 3)]


# --------------------------------------------------------------------------- messages


def test_every_message_has_both_languages_with_the_same_placeholders() -> None:
    for key, texts in MESSAGES.texts.items():
        assert set(texts) == {"zh", "en"}, key
        assert placeholders(texts["zh"]) == placeholders(texts["en"]), key
