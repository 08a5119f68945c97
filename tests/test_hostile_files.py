"""Hostile files and wrong containers: bombs, XML entities, fake .xls, encrypted and lock files.

Every case is refused before a parser sees it (tagger.preflight) with one line naming
the file and what to do, exit code 2, quickly, and with the process alive. The cell
bomb runs in a subprocess: if the pre-check ever let it through, python-calamine would
abort the process, which must not take the test session with it.
"""

from __future__ import annotations


import os
import random
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import xlsxwriter

from tagger import preflight
from tagger.errors import InputError
from tagger.i18n import placeholders
from tagger.preflight import check_archive
from tests.hostile import one_error, rewrite_zip, sub, write_xlsx

ROOT = Path(__file__).resolve().parents[1]
SHEET = "xl/worksheets/sheet1.xml"
SST = "xl/sharedStrings.xml"


def cli(*args: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "tagger", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=120)


def cell_bomb(path: Path) -> Path:
    """The catalogue's 5 KB file: cells only at A1 and XFD1048576 (a 17-billion-cell range)."""
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("用户明细")
    ws.write(0, 0, "id")
    ws.write(1048575, 16383, "x")
    book.close()
    return path


@pytest.mark.parametrize("command", ["tag", "check"])
def test_cell_bomb_is_refused_and_the_process_survives(tmp_path: Path, command: str) -> None:
    path = cell_bomb(tmp_path / "cell_bomb_2024-07.xlsx")
    assert path.stat().st_size < 10_000
    proc = cli(command, path, "--no-history" if command == "tag" else "--quiet")
    assert proc.returncode == 2, proc.stderr  # not -6 (SIGABRT): calamine never saw the file
    one_error(proc.returncode, proc.stderr, "cell_bomb_2024-07.xlsx", "sheet '用户明细'", "A1:XFD1048576",
              "单元格炸弹", "删除数据以外的行和列")
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_cell_bomb_is_refused_by_the_archive_check_itself(tmp_path: Path) -> None:
    """The preflight alone refuses it (timing belongs in benchmarks, not in tests)."""
    path = cell_bomb(tmp_path / "b.xlsx")
    with pytest.raises(InputError, match="A1:XFD1048576"):
        check_archive(path)


@pytest.mark.parametrize(
    ("reference", "shown"),
    [(b'r="XFE2"', "XFE2"), (b'r="D1048577"', "D1048577"), (b'r="D123456789"', "D123456789")],
)
def test_cell_beyond_excel_limits_is_refused(run_cli, tmp_path: Path, reference: bytes, shown: str) -> None:
    base = write_xlsx(tmp_path / "base.xlsx")
    path = rewrite_zip(base, tmp_path / "beyond.xlsx", {SHEET: sub(rb'r="D2"', reference)})
    code, _, err = run_cli("check", path)
    one_error(code, err, "beyond.xlsx", "sheet '用户明细'", shown[:10], "超出 Excel 上限")


def test_lowercase_single_quoted_reference_does_not_slip_through(run_cli, tmp_path: Path) -> None:
    base = write_xlsx(tmp_path / "base.xlsx")
    path = rewrite_zip(base, tmp_path / "sneaky.xlsx", {SHEET: sub(rb' r="D3"', b"\n r='xfd1048576'")})
    code, _, err = run_cli("tag", path, "--no-history", "--lang", "en")
    one_error(code, err, "sneaky.xlsx", "A1:XFD1048576", "cell bomb")


def test_dimension_beyond_limits_is_refused(run_cli, tmp_path: Path) -> None:
    base = write_xlsx(tmp_path / "base.xlsx")
    path = rewrite_zip(base, tmp_path / "dim.xlsx", {SHEET: sub(rb'<dimension ref="[^"]*"/>',
                                                               b'<dimension ref="A1:XFE1048577"/>')})
    code, _, err = run_cli("check", path)
    one_error(code, err, "dim.xlsx", "XFE1048577", "超出 Excel 上限")


def test_a_stale_but_valid_dimension_is_fine(run_cli, tmp_path: Path) -> None:
    """calamine ignores <dimension>; a tool that wrote A1:XFD1048576 over two rows is not refused."""
    base = write_xlsx(tmp_path / "base.xlsx")
    path = rewrite_zip(base, tmp_path / "stale_2024-07.xlsx", {SHEET: sub(rb'<dimension ref="[^"]*"/>',
                                                                         b'<dimension ref="A1:XFD1048576"/>')})
    code, out, err = run_cli("check", path)
    assert code == 0, err


def _stream_member(zout: zipfile.ZipFile, name: str, parts: list[bytes], filler: bytes, count: int) -> None:
    with zout.open(name, "w", force_zip64=True) as handle:
        handle.write(parts[0])
        for _ in range(count):
            handle.write(filler)
        handle.write(parts[1])


def test_shared_string_bomb_is_refused_before_parsing(run_cli, tmp_path: Path) -> None:
    """One 300,000,000-character shared string in a ~300 KB file (1.5-1.8 GB to parse)."""
    base = write_xlsx(tmp_path / "base.xlsx")
    path = tmp_path / "sst_bomb.xlsx"
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename == SST:
                head = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.' \
                       b'openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>'
                _stream_member(zout, SST, [head, b"</t></si></sst>"], b"a" * (1 << 20), 300)
            else:
                zout.writestr(info.filename, zin.read(info.filename))
    assert path.stat().st_size < 1_000_000
    code, _, err = run_cli("tag", path, "--no-history")
    one_error(code, err, "sst_bomb.xlsx", "xl/sharedStrings.xml", "压缩炸弹", "另存为 xlsx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["base.xlsx", "sst_bomb.xlsx"]  # nothing written


def test_one_huge_incompressible_string_is_refused(run_cli, tmp_path: Path) -> None:
    base = write_xlsx(tmp_path / "base.xlsx")
    rng = random.Random(4)
    text = "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=3_000_000)).encode()
    path = rewrite_zip(base, tmp_path / "long.xlsx", {SST: sub(rb"<t>", b"<t>" + text)})
    code, _, err = run_cli("check", path, "--lang", "en")
    one_error(code, err, "long.xlsx", "xl/sharedStrings.xml", "2.9 MB", "32,767 characters")


def test_zip_bomb_sheet_is_refused(run_cli, tmp_path: Path) -> None:
    """A sheet padded with 200 MB of whitespace between rows: valid XML, 1000:1 compression."""
    base = write_xlsx(tmp_path / "base.xlsx")
    path = tmp_path / "zip_bomb.xlsx"
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == SHEET:
                cut = data.index(b"<row ")
                _stream_member(zout, SHEET, [data[:cut], data[cut:]], b" " * (1 << 20), 200)
            else:
                zout.writestr(info.filename, data)
    code, _, err = run_cli("tag", path, "--no-history", "--lang", "en")
    one_error(code, err, "zip_bomb.xlsx", "xl/worksheets/sheet1.xml", "zip bomb", "limit 100:1")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["base.xlsx", "zip_bomb.xlsx"]  # nothing written


def test_too_many_parts_is_refused(run_cli, tmp_path: Path) -> None:
    base = write_xlsx(tmp_path / "base.xlsx")
    extra = {f"xl/media/blob{i}.bin": b"x" for i in range(preflight.MAX_MEMBERS)}
    path = rewrite_zip(base, tmp_path / "parts.xlsx", extra=extra)
    code, _, err = run_cli("check", path)
    one_error(code, err, "parts.xlsx", "1010 个部件", "上限 1000")


def test_declared_sizes_that_lie_are_caught(tmp_path: Path) -> None:
    """A directory claiming a small sheet whose data inflates further fails zipfile's size/CRC check."""
    base = write_xlsx(tmp_path / "base.xlsx")
    data = bytearray(base.read_bytes())
    with zipfile.ZipFile(base) as archive:
        info = archive.getinfo(SHEET)
    # Shrink the declared size in the central directory (the local header is not read by zipfile).
    central = data.rfind(b"PK\x01\x02", 0, data.rfind(SHEET.encode()) + 1)
    size_at = central + 24
    assert int.from_bytes(data[size_at : size_at + 4], "little") == info.file_size
    data[size_at : size_at + 4] = (info.file_size // 2).to_bytes(4, "little")
    path = tmp_path / "liar.xlsx"
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="无法作为 Excel 工作簿读取"):
        check_archive(path)


LOL = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
       + b"".join(b' <!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                  for i in range(1, 10))
       + b']>\n<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
         b"<si><t>&lol9;</t></si></sst>")
XXE = b'<!DOCTYPE foo [<!ENTITY e SYSTEM "file:///etc/hostname">]>'


@pytest.mark.parametrize("command", ["tag", "check"])
def test_billion_laughs_is_refused(run_cli, tmp_path: Path, command: str) -> None:
    base = write_xlsx(tmp_path / "base.xlsx")
    path = rewrite_zip(base, tmp_path / "lol.xlsx", {SST: LOL})
    code, _, err = run_cli(command, path, "--no-history" if command == "tag" else "--quiet")
    one_error(code, err, "lol.xlsx", "xl/sharedStrings.xml", "<!DOCTYPE", "XML 实体攻击", "另存为 xlsx")


def test_external_entity_is_refused(run_cli, tmp_path: Path) -> None:
    base = write_xlsx(tmp_path / "base.xlsx")
    path = rewrite_zip(base, tmp_path / "xxe.xlsx",
                       {SHEET: sub(rb"(<\?xml[^>]*\?>)", rb"\1" + XXE)})
    code, _, err = run_cli("check", path, "--lang", "en")
    one_error(code, err, "xxe.xlsx", SHEET, "entity declaration", "external-entity")


def test_entity_in_a_part_no_parser_reads_is_still_refused(tmp_path: Path) -> None:
    base = write_xlsx(tmp_path / "base.xlsx")
    path = rewrite_zip(base, tmp_path / "props.xlsx", {"docProps/app.xml": sub(rb"(<\?xml[^>]*\?>)", rb"\1" + XXE)})
    with pytest.raises(InputError, match="docProps/app.xml"):
        check_archive(path)


@pytest.mark.parametrize("bangs", [3, 5_000])
def test_entity_after_many_exclamation_marks_is_still_refused(tmp_path: Path, bangs: int) -> None:
    """The scan skips from "!" to "!"; past a thousand in a chunk it searches the chunk whole: found either way."""
    base = write_xlsx(tmp_path / "base.xlsx", [["1001", "好!" * bangs, "2024-07-01"]])
    clean = check_archive(base)  # text full of "!" and no declaration: nothing to refuse
    assert clean.scanned_bytes > 0
    path = rewrite_zip(base, tmp_path / "bang.xlsx", {SST: sub(rb"(</sst>)", XXE + rb"\1")})  # after the text
    with pytest.raises(InputError, match="<!DOCTYPE"):
        check_archive(path)


def test_corrupt_zip_names_the_damage(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "cut.xlsx"
    path.write_bytes(write_xlsx(tmp_path / "base.xlsx").read_bytes()[:1500])
    code, _, err = run_cli("check", path)
    one_error(code, err, "cut.xlsx", "已损坏", "重新导出")


def test_normal_workbooks_pass_and_report_rows(samples: Path) -> None:
    report = check_archive(samples / "car_app_2024-07.xlsx")
    assert report.max_rows == {"用户明细": 2002}
    assert report.members < 20 and report.scanned_bytes > 100_000


def test_openpyxl_written_workbook_passes(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["用户ID", "注册时间", "最近一次活跃时间"])
    ws.append(["1", "2024-07-01", "2024-07-02"])
    ws["AB70"] = "far but fine"
    book.save(tmp_path / "o.xlsx")
    assert check_archive(tmp_path / "o.xlsx").max_rows == {"Sheet": 70}


# --------------------------------------------------------------------------- wrong containers


@pytest.mark.parametrize("command", ["tag", "check"])
def test_html_table_saved_as_xls(run_cli, tmp_path: Path, command: str) -> None:
    path = tmp_path / "fake_html.xls"
    path.write_text("<html><body><table><tr><td>用户ID</td></tr></table></body></html>", encoding="utf-8")
    code, _, err = run_cli(command, path)
    one_error(code, err, "fake_html.xls", "实际是 HTML 表格", "另存为 xlsx")


def test_gbk_csv_saved_as_xls_is_read_as_text(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "fake_csv_2024-07.xls"
    path.write_bytes("用户ID,注册时间,最近一次活跃时间,昵称\n1001,2024-07-01,2024-07-20,张三\n".encode("gbk"))
    code, out, err = run_cli("check", path)
    assert code == 0, err
    assert "扩展名是 .xls，但内容是文本（CSV），已按文本（CSV）读取" in out


def test_encrypted_workbook(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "secret.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "EncryptedPackage".encode("utf-16-le")
                     + b"\x00" * 512)
    code, _, err = run_cli("tag", path, "--no-history")
    one_error(code, err, "secret.xlsx", "加密", "清空密码")


def test_excel_lock_file(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "~$用户明细.xlsx"
    path.write_bytes(b"\x08zhangsan" + b" " * 150)
    code, _, err = run_cli("check", path)
    one_error(code, err, "~$用户明细.xlsx", "锁定文件", "'用户明细.xlsx'")


def test_every_preflight_message_has_both_languages() -> None:
    for key, texts in preflight.TEXT.texts.items():
        assert set(texts) == {"zh", "en"}, key
        assert placeholders(texts["zh"]) == placeholders(texts["en"]), key


def test_refresh_never_parses_a_hostile_last_workbook(run_cli, samples: Path, tmp_path: Path) -> None:
    """Last week's workbook gets the same pre-check; one it cannot use stops the refresh, writing nothing."""
    base = write_xlsx(tmp_path / "base.xlsx")
    last = rewrite_zip(base, tmp_path / "LAST.xlsx", {SST: LOL})
    before = last.read_bytes()
    code, out, err = run_cli("refresh", samples / "car_app_2024-07.csv", "--workbook", last,
                             "-o", tmp_path / "OUT.xlsx", "--no-history", "--json")
    one_error(code, err, "LAST.xlsx", "xl/sharedStrings.xml", "<!DOCTYPE")
    assert out == ""
    assert last.read_bytes() == before and not (tmp_path / "OUT.xlsx").exists()
