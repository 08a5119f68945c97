"""Builders for the hostile and messy inputs of tests/test_hostile_*.py.

Each test makes its file in ``tmp_path`` from code (xlsxwriter, openpyxl, zipfile or
raw bytes), so nothing binary lives in the repository and every case says exactly
what it contains.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import xlsxwriter

HEADER = ["用户ID", "注册时间", "最近一次活跃时间", "昵称"]
ROWS = [["1001", "2024-07-01", "2024-07-20", "张三"], ["1002", "2024-05-03", "2024-07-02", "李四"]]


def write_xlsx(path: Path, rows: Sequence[Sequence[object]] = (), header: Sequence[str] = HEADER, *,
               sheet: str = "用户明细", shared_strings: bool = True) -> Path:
    """A plain workbook: header in row 1, ``rows`` below, every str written as a string."""
    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
               "constant_memory": not shared_strings}
    book = xlsxwriter.Workbook(str(path), options)
    ws = book.add_worksheet(sheet)
    ws.write_row(0, 0, header)
    for r, row in enumerate(rows or ROWS, start=1):
        for c, value in enumerate(row):
            if isinstance(value, str):
                ws.write_string(r, c, value)
            elif value is not None:
                ws.write(r, c, value)
    book.close()
    return path


def write_csv(path: Path, body: str, header: Sequence[str] = HEADER, *, encoding: str = "utf-8") -> Path:
    path.write_bytes((",".join(header) + "\n" + body).encode(encoding))
    return path


Edit = bytes | Callable[[bytes], bytes]


def rewrite_zip(source: Path, target: Path, edits: Mapping[str, Edit] = {}, extra: Mapping[str, bytes] = {}) -> Path:
    """Copy an xlsx member by member, replacing or transforming some and adding others."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            edit = edits.get(info.filename)
            if edit is not None:
                data = edit(data) if callable(edit) else edit
            zout.writestr(info.filename, data)
        for name, data in extra.items():
            zout.writestr(name, data)
    return target


def sub(pattern: bytes, replacement: bytes) -> Callable[[bytes], bytes]:
    return lambda data: re.sub(pattern, replacement, data, count=1)


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith(("错误", "Error"))]


def one_error(code: int, err: str, *parts: str) -> str:
    """Assert exit 2, exactly one error line, no traceback, and every part in that line."""
    lines = error_lines(err)
    assert code == 2, err
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for part in parts:
        assert part in lines[0], (part, lines[0])
    return lines[0]


def sheet_xml(path: Path) -> dict[str, str]:
    """Every worksheet part of a written workbook, as text."""
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()
                if name.startswith("xl/worksheets/") and name.endswith(".xml")}
