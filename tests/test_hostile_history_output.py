"""History and output safety: repeated and conflicting months, a real kill mid-import, masking, file modes."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import python_calamine

from tagger.history import HistoryStore
from tests.hostile import one_error, write_csv

ROOT = Path(__file__).resolve().parents[1]
PII_HEADER = ["用户ID", "注册时间", "最近一次活跃时间", "昵称", "手机号", "身份证号", "备注"]


def big_csv(path: Path, rows: int) -> Path:
    """A month of ``rows`` users, generated with numpy in well under a second."""
    ids = np.arange(10**17, 10**17 + rows).astype(str)
    days = np.random.default_rng(7).integers(1, 28, rows).astype(str)
    lines = np.char.add(np.char.add(ids, ",2023-05-01,2024-07-"), np.char.zfill(days, 2))
    path.write_text("用户ID,注册时间,最近一次活跃时间\n" + "\n".join(lines.tolist()) + "\n", encoding="utf-8")
    return path


def test_same_month_twice_is_a_no_op_and_another_file_needs_replace(run_cli, tmp_path: Path) -> None:
    history = tmp_path / "h.sqlite"
    july = write_csv(tmp_path / "u_2024-07.csv", "1,2024-05-01,2024-07-02,a\n")
    assert run_cli("tag", july, "--history", history, "-q")[0] == 0
    code, out, _ = run_cli("tag", july, "--history", history)
    assert code == 0 and "同一文件已在历史库中" in " ".join(out.split())
    # Same cut-off (2024-07-02), different file: needs --replace (a later cut-off would supersede).
    other = write_csv(tmp_path / "v_2024-07.csv", "1,2024-05-01,2024-07-02,a\n2,2024-07-01,2024-07-01,b\n")
    code, _, err = run_cli("tag", other, "--history", history)
    one_error(code, err, "2024-07", "u_2024-07.csv", "--replace")
    assert run_cli("tag", other, "--history", history, "--replace", "-q")[0] == 0
    with HistoryStore(history) as store:
        assert len(store.users("2024-07")) == 2


def test_history_is_wal_and_writes_take_the_lock_up_front(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    HistoryStore(db).close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    source = (ROOT / "tagger" / "history.py").read_text(encoding="utf-8")
    assert 'execute("BEGIN IMMEDIATE")' in source


def test_second_run_while_history_is_locked_fails_clearly(run_cli, tmp_path: Path, monkeypatch) -> None:
    import tagger.history as history_module

    db = tmp_path / "h.sqlite"
    HistoryStore(db).close()
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    real_init = history_module.HistoryStore.__init__
    monkeypatch.setattr(history_module.HistoryStore, "__init__",
                        lambda self, path, timeout=30.0: real_init(self, path, timeout=0.3))
    try:
        path = write_csv(tmp_path / "u_2024-07.csv", "1,2024-05-01,2024-07-02,a\n")
        code, _, err = run_cli("tag", path, "--history", db)
        one_error(code, err, "h.sqlite", "正被另一个 tagger 进程写入")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert not (tmp_path / "u_2024-07_tagged.xlsx").exists()


def test_sigkill_during_a_large_import_leaves_no_partial_month(tmp_path: Path) -> None:
    """A real ``kill -9`` of ``tagger tag`` while it writes 300,000 users into history."""
    export = big_csv(tmp_path / "big_2024-07.csv", 300_000)
    db = tmp_path / "h.sqlite"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "tagger", "tag", export, "--history", db, "-q"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wal = Path(f"{db}-wal")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if wal.exists() and wal.stat().st_size > 2_000_000:  # rows of the month are being written
            break
        time.sleep(0.005)
    assert proc.poll() is None, "the import finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    with HistoryStore(db) as store:
        assert store.imports() == []
        assert store.users("2024-07").empty
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert not (tmp_path / "big_2024-07_tagged.xlsx").exists()


def test_output_never_overwrites_the_input(run_cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "u_2024-07.csv", "1,2024-05-01,2024-07-02,a\n")
    before = path.read_bytes()
    code, _, err = run_cli("tag", path, "--no-history", "-o", path)
    assert code != 0 and "输出文件不能是输入文件本身" in err
    assert path.read_bytes() == before


def test_outputs_and_backups_are_owner_only(run_cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "u_2024-07.csv", "1,2024-05-01,2024-07-02,a\n")
    out = tmp_path / "out.xlsx"
    out.write_bytes(b"old workbook")
    out.chmod(0o644)
    assert run_cli("tag", path, "--no-history", "-o", out, "-q")[0] == 0
    backups = list((tmp_path / "backups").iterdir())
    assert len(backups) == 1 and backups[0].read_bytes() == b"old workbook"
    for written in (out, backups[0]):
        assert stat.S_IMODE(written.stat().st_mode) == 0o600, written


def test_mask_pii_masks_every_output_but_the_key(run_cli, tmp_path: Path) -> None:
    body = ("13800138000,2024-05-01,2024-07-02,张三,13800138000,110101199003071234,回访 +86 139 1234 5678\n"
            "1002,2024-05-01,2024-07-02,李四,+8613912345678,11010119900307123X,\n")
    path = write_csv(tmp_path / "pii_2024-07.csv", body, PII_HEADER)
    code, out, err = run_cli("tag", path, "--no-history", "--mask-pii", "-o", tmp_path / "out.xlsx")
    assert code == 0, err
    rows = python_calamine.CalamineWorkbook.from_path(str(tmp_path / "out.xlsx")).get_sheet_by_name("用户明细")
    data = rows.to_python()
    assert data[1][4:7] == ["138****8000", "110101********1234", "回访 +86 139****5678"]
    assert data[2][4:6] == ["+86139****5678", "110101********123X"]
    texts = [str(cell) for row in data for cell in row]
    assert "138****8000" in texts and "110101********1234" in texts and "110101********123X" in texts
    assert "+86139****5678" in texts and "回访 +86 139****5678" in texts
    assert not any("110101199003071234" in t or "13912345678" in t for t in texts)
    assert data[1][0] == "13800138000"  # the user-ID key is never masked


def test_mask_pii_masks_error_messages(run_cli, tmp_path: Path) -> None:
    body = "110101199003071234,2024-05-01,2024-07-02,a\n110101199003071234,2024-05-01,2024-07-02,b\n"
    path = write_csv(tmp_path / "dup_2024-07.csv", body)
    code, _, err = run_cli("tag", path, "--no-history", "--mask-pii")
    line = one_error(code, err, "dup_2024-07.csv", "110101********1234", "row 2")
    assert "110101199003071234" not in line
