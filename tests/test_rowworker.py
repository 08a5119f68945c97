"""The second process that builds row blocks: same bytes as one process, and never the only way.

Blocks are kept small here (a few rows) so a sheet of a few hundred rows takes the worker's
path; the worker is a real forked process, and its failures are real ones (an exception, an
exit) raised only in the worker.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tagger.pipeline import TagOptions, run
from tagger.workbook import rowworker, rowxml, write_workbook

pytestmark = pytest.mark.skipif(not rowworker.worker_available(), reason="needs fork and a second core")

ROWS, BLOCK = 400, 7  # 58 blocks


def _rows(n: int = ROWS, make=None, on_block=None) -> rowxml.SheetRows:
    labels = np.array(["活跃用户", "", "a<b&c", None], dtype=object)
    numbers = np.arange(n, dtype=float) / 4
    make = make or (lambda start, stop: [f"u{i}" for i in range(start, stop)])
    columns = [
        rowxml.ColumnCells(0, "text", rowxml.Lazy(n, make)),
        rowxml.ColumnCells(1, "number", numbers),
        rowxml.ColumnCells(2, "auto", rowxml.Coded((np.arange(n) % 4).astype(np.uint8), labels)),
        rowxml.ColumnCells(3, "formula", rowxml.Patched(numbers, np.array([3, n - 1]), ["", "x"]), formula="B2*2"),
    ]
    return rowxml.SheetRows("s", 1, n, columns, on_block=on_block)


def _here(rows: rowxml.SheetRows) -> bytes:
    return b"".join(rowworker.encoded_blocks(rows, BLOCK, min_blocks=10**9))


def _with_worker(rows: rowxml.SheetRows) -> bytes:
    return b"".join(rowworker.encoded_blocks(rows, BLOCK, min_blocks=2))


def test_blocks_from_the_worker_are_the_blocks_built_here() -> None:
    advanced: list[int] = []
    expected = _here(_rows())
    assert _with_worker(_rows(on_block=advanced.append)) == expected
    assert expected.decode() == "".join(_rows().blocks(BLOCK))
    assert sum(advanced) == ROWS and len(advanced) == -(-ROWS // BLOCK)
    assert multiprocessing.active_children() == []


def test_the_worker_builds_some_of_the_blocks_and_this_process_the_rest() -> None:
    parent = os.getpid()
    builders = re.findall(r"<t>by (\d+)</t>",
                          _with_worker(_rows(make=lambda start, stop: [f"by {os.getpid()}"] * (stop - start))).decode())
    assert len(builders) == ROWS
    assert str(parent) in builders
    assert len(set(builders)) == 2  # this process and one worker


def _fails_in_the_worker(parent: int, how: str):
    def make(start: int, stop: int) -> list[str]:
        if os.getpid() != parent and start >= 5 * BLOCK:
            if how == "raise":
                raise MemoryError("only in the worker")
            os._exit(9)  # as if the system killed it
        return [f"u{i}" for i in range(start, stop)]
    return make


@pytest.mark.parametrize("how", ["raise", "exit"])
def test_blocks_the_worker_cannot_deliver_are_built_here(how: str) -> None:
    advanced: list[int] = []
    rows = _rows(make=_fails_in_the_worker(os.getpid(), how), on_block=advanced.append)
    assert _with_worker(rows) == _here(_rows())
    assert sum(advanced) == ROWS
    assert multiprocessing.active_children() == []


def test_a_block_that_fails_everywhere_raises_its_own_error_here() -> None:
    def make(start: int, stop: int) -> list[str]:
        if start >= 20 * BLOCK:
            raise ValueError("a cell that cannot be written")
        return ["x"] * (stop - start)

    with pytest.raises(ValueError, match="cannot be written"):
        _with_worker(_rows(make=make))
    assert multiprocessing.active_children() == []


def test_stopping_early_ends_the_worker() -> None:
    blocks = rowworker.encoded_blocks(_rows(), BLOCK, min_blocks=2)
    first = [next(blocks) for _ in range(3)]
    assert b"".join(first).decode() == "".join(list(_rows().blocks(BLOCK))[:3])
    blocks.close()
    assert multiprocessing.active_children() == []


def test_a_small_sheet_is_built_here_alone() -> None:
    parent = os.getpid()
    rows = _rows(n=3 * BLOCK, make=lambda start, stop: [f"by {os.getpid()}"] * (stop - start))
    text = b"".join(rowworker.encoded_blocks(rows, BLOCK, min_blocks=4)).decode()
    assert set(re.findall(r"<t>by (\d+)</t>", text)) == {str(parent)}


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as package:
        assert package.testzip() is None  # every member's CRC checks
        return {info.filename: package.read(info) for info in package.infolist()
                if not info.filename.startswith("docProps/")}


def test_a_workbook_written_with_the_worker_is_the_one_written_without(samples: Path, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(TagOptions(export=samples / "car_app_2024-07.xlsx", output=tmp_path / "first.xlsx",
                            history=tmp_path / "h.sqlite"))
    monkeypatch.setattr(rowxml, "BLOCK_ROWS", 3)  # every streamed sheet has many blocks
    monkeypatch.setattr(rowworker, "MIN_BLOCKS", 10**9)
    write_workbook(result, tmp_path / "alone.xlsx")
    monkeypatch.setattr(rowworker, "MIN_BLOCKS", 2)
    write_workbook(result, tmp_path / "worker.xlsx")
    alone, worker = _parts(tmp_path / "alone.xlsx"), _parts(tmp_path / "worker.xlsx")
    assert worker.keys() == alone.keys()
    differing = [name for name in alone if worker[name] != alone[name]]
    assert differing == []
    users = max(alone.values(), key=len).decode()
    assert users.count("<row ") > 20
