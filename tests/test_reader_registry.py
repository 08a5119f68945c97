"""The reader registry of tagger.readers: one reader per format, chosen by the sniffed format, shared by the wizard."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import xlsxwriter

from tagger import refresh, wizard
from tagger.columns import column_letter
from tagger.errors import InputError
from tagger.i18n import set_language
from tagger.readers import (
    EXPORT_SUFFIXES,
    READERS,
    Request,
    SheetInfo,
    Table,
    head_rows,
    list_sheets,
    read_export,
    sniff,
)
from tagger.wizard import raw_columns

HEADER = ["用户ID", "昵称", "注册时间", "最近一次活跃时间"]


@pytest.fixture(autouse=True)
def chinese() -> Iterator[None]:
    set_language("zh")
    yield
    set_language("zh")


def test_one_suffix_list_for_every_picker() -> None:
    assert set(EXPORT_SUFFIXES) == {".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".tsv", ".txt"}
    assert wizard.EXPORT_SUFFIXES is EXPORT_SUFFIXES
    assert refresh.EXPORT_SUFFIXES is EXPORT_SUFFIXES
    assert list(READERS) == ["zip", "ole", "text", "parquet", "duckdb"]


def test_the_format_is_sniffed_from_the_bytes(tmp_path: Path) -> None:
    book = xlsxwriter.Workbook(tmp_path / "real.xlsx")
    book.add_worksheet("用户").write_row(0, 0, HEADER)
    book.close()
    renamed = (tmp_path / "real.xlsx").rename(tmp_path / "export.csv")
    text = tmp_path / "export.xls"
    text.write_text(",".join(HEADER) + "\n1,a,2024-07-01,2024-07-02\n", encoding="utf-8")
    assert sniff(renamed) == "zip"
    assert sniff(text) == "text"
    assert sniff(tmp_path / "snapshot.parquet") == "parquet"  # chosen by extension, before the bytes
    binary = tmp_path / "blob.csv"
    binary.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(InputError, match="既不是 Excel 工作簿，也不是文本"):
        sniff(binary)


class JsonLinesReader:
    """A format added in one class: one JSON object per line, keys as headers."""

    name = "jsonl"
    suffixes = frozenset({".jsonl"})
    offered: tuple[str, ...] = (".jsonl",)
    by_suffix = True

    def recognise(self, path: Path, head: bytes) -> bool:
        return path.suffix.lower() in self.suffixes

    def extension_warnings(self, path: Path) -> list[str]:
        return []

    def sheets(self, path: Path) -> list[SheetInfo]:
        return [SheetInfo(path.name, True, len(self._records(path)))]

    def read(self, path: Path, request: Request) -> Table:
        frame = pd.DataFrame(self._records(path), dtype=object)
        frame.index = pd.RangeIndex(2, len(frame) + 2)
        letters = {str(name): column_letter(i) for i, name in enumerate(frame.columns)}
        return Table(frame, path, None, 1, letters)

    def head(self, path: Path, sheet: str | None, rows: int, aliases: Mapping[str, Sequence[str]]) -> list[list[str]]:
        records = self._records(path)
        return [list(records[0])] + [[str(v) for v in r.values()] for r in records[: rows - 1]]

    @staticmethod
    def _records(path: Path) -> list[dict[str, object]]:
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_a_new_format_is_one_registry_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(READERS, "jsonl", JsonLinesReader())
    path = tmp_path / "users.jsonl"
    rows = [{"用户ID": "0139", "注册时间": "2024-07-01", "最近一次活跃时间": "2024-07-20"},
            {"用户ID": "0140", "注册时间": "2024-06-01", "最近一次活跃时间": "2024-06-20"}]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    table = read_export(path)
    assert table.frame.loc[2].tolist() == ["0139", "2024-07-01", "2024-07-20"]
    assert table.letters["最近一次活跃时间"] == "C"
    assert list_sheets(path) == [SheetInfo("users.jsonl", True, 2)]
    assert head_rows(path)[0] == ["用户ID", "注册时间", "最近一次活跃时间"]


def test_head_rows_fill_merged_headers_like_the_reader(tmp_path: Path) -> None:
    path = tmp_path / "merged.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("明细")
    sheet.merge_range(0, 0, 0, 1, "时间")
    sheet.write_row(1, 0, ["开户日", "最后一次打开"])
    sheet.write_row(2, 0, ["2024-07-01", 2024.0])
    book.close()
    assert head_rows(path) == [["时间", "时间"], ["开户日", "最后一次打开"], ["2024-07-01", "2024"]]
    assert head_rows(path, "明细", rows=1) == [["时间", "时间"]]
    with pytest.raises(InputError, match="没有名为 '其他' 的工作表。工作表有：'明细'（可见）"):
        head_rows(path, "其他")


def test_head_rows_of_text_use_the_readers_encoding_and_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "members.csv"
    path.write_text("会员号;开户日;最后一次打开\n7;2024-07-01;2024-07-02\n", encoding="gb18030")
    assert head_rows(path) == [["会员号", "开户日", "最后一次打开"], ["7", "2024-07-01", "2024-07-02"]]
    unicode_text = tmp_path / "unicode.txt"
    unicode_text.write_text("会员号\t开户日\n7\t2024-07-01\n", encoding="utf-16")
    assert head_rows(unicode_text)[0] == ["会员号", "开户日"]


def test_wizard_previews_through_the_reader(tmp_path: Path) -> None:
    export = tmp_path / "members.csv"
    export.write_text("会员号;开户日;最后一次打开\n7;2024-07-01;2024-07-02\n", encoding="gb18030")
    columns = raw_columns(export, None)
    assert columns.headers == ["会员号", "开户日", "最后一次打开"]
    assert columns.samples["最后一次打开"] == ["2024-07-02"]
    broken = tmp_path / "broken.csv"
    broken.write_bytes("会员号,开户日\n".encode() * 20 + b"\xff\xfe\xfa,x\n")
    assert raw_columns(broken, None).headers == []  # the reader's own decoding error is what the wizard shows


def test_snapshots_list_their_tables(tmp_path: Path) -> None:
    frame = pd.DataFrame({"user_id": ["1", "2", "3"], "register_date": [dt.date(2024, 7, 1)] * 3})
    parquet = tmp_path / "snapshot.parquet"
    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as con:
        con.register("frame", frame)
        con.execute(f"COPY (SELECT * FROM frame) TO '{parquet}' (FORMAT parquet)")
        con.execute("CREATE TABLE users AS SELECT * FROM frame")
        con.execute("CREATE TABLE july AS SELECT * FROM frame LIMIT 2")
    assert list_sheets(parquet) == [SheetInfo("snapshot.parquet", True, 3)]
    assert sorted(list_sheets(database), key=lambda s: s.name) == [SheetInfo("july", True, 2),
                                                                    SheetInfo("users", True, 3)]
    head = head_rows(parquet, rows=2)  # headers renamed to the ones tagger knows, as the snapshot is read
    assert head[0] == ["用户ID", "注册时间"] and len(head) == 2 and head[1][0] == "1"
