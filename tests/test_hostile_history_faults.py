"""A damaged, truncated or read-only history: refused with one line naming it and its backup, never written."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tagger.history import HistoryStore
from tests.hostile import one_error, write_csv
from tests.test_hostile_history_output import big_csv


def two_months(folder: Path) -> tuple[Path, Path]:
    """A history holding 2024-05 and 2024-06 of 3,000 users, and the July export to tag next."""
    from tagger.cli import main

    history = folder / "h.db"
    for month in ("2024-05", "2024-06"):
        export = big_csv(folder / f"u_{month}.csv", 3000)
        assert main(["tag", str(export), "--month", month, "--history", str(history), "-q",
                     "-o", str(folder / "out.xlsx")]) == 0
    return history, big_csv(folder / "u_2024-07.csv", 3000)


def damaged(good: bytes, how: str) -> bytes:
    """Real damage: random bytes over the header, a page start, the middle, a quarter; or the file cut short."""
    size = len(good)
    spots = {"header": (100, 64), "page 3": (3 * 4096, 16), "middle": (size // 2, 64),
             "quarter": (size // 4, 512), "three quarters": (3 * size // 4, 512)}
    if how == "truncated":
        return good[:size // 2]
    if how == "first page only":
        return good[:4096]
    offset, length = spots[how]
    return good[:offset] + os.urandom(length) + good[offset + length:]


@pytest.mark.parametrize("how", ["header", "page 3", "middle", "quarter", "three quarters", "truncated",
                                 "first page only"])
def test_damaged_history_is_refused_by_tag_and_check_and_left_untouched(run_cli, tmp_path: Path, how: str) -> None:
    history, july = two_months(tmp_path)
    backups = sorted((tmp_path / "backups").glob("h.*.db"))
    assert backups, "the month written over an existing history was backed up first"
    data = damaged(history.read_bytes(), how)
    history.write_bytes(data)
    code, _, err = run_cli("tag", july, "--history", history, "-o", tmp_path / "july.xlsx")
    line = one_error(code, err, str(history), "已损坏", str(backups[-1]), "改名留存")
    assert "内部错误" not in line and "删除" not in line
    assert history.read_bytes() == data and not (tmp_path / "july.xlsx").exists()
    code, out, err = run_cli("check", july, "--history", history, "--lang", "en")
    assert code == 2 and "damaged" in out + err and str(history) in " ".join((out + err).split())
    assert history.read_bytes() == data


def test_backup_is_a_verified_copy_that_restores_every_month(run_cli, tmp_path: Path) -> None:
    history, july = two_months(tmp_path)
    backup = sorted((tmp_path / "backups").glob("h.*.db"))[-1]
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    with sqlite3.connect(backup) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert [m for (m,) in conn.execute("SELECT month FROM imports")] == ["2024-05"]  # taken before June
    history.write_bytes(damaged(history.read_bytes(), "middle"))
    shutil.move(history, tmp_path / "h.damaged.db")
    shutil.copy(backup, history)
    assert run_cli("tag", july, "--history", history, "-q", "-o", tmp_path / "july.xlsx")[0] == 0
    with HistoryStore(history) as store:
        assert [r.month for r in store.imports()] == ["2024-05", "2024-07"]


def test_only_the_newest_backups_are_kept(tmp_path: Path) -> None:
    history, _ = two_months(tmp_path)
    with HistoryStore(history) as store:
        made = [store.backup(keep=3) for _ in range(5)]
        assert store.backups() == made[-3:]


def test_history_and_its_wal_are_owner_only(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    store = HistoryStore(db)
    try:
        store.conn.execute("INSERT INTO meta VALUES ('x', 'y')")
        for path in (db, tmp_path / "h.db-wal", tmp_path / "h.db-shm"):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    finally:
        store.close()


def test_check_reads_months_still_in_the_wal_and_writes_nothing(run_cli, tmp_path: Path) -> None:
    history = tmp_path / "h.db"
    june = write_csv(tmp_path / "u_2024-06.csv", "1,2024-05-01,2024-06-02,a\n")
    july = write_csv(tmp_path / "u_2024-07.csv", "1,2024-05-01,2024-07-02,a\n")
    writer = HistoryStore(history)  # another run holding the database open: June sits in its WAL
    try:
        writer.conn.execute("PRAGMA wal_autocheckpoint=0")
        assert run_cli("tag", june, "--history", history, "-q", "-o", tmp_path / "june.xlsx")[0] == 0
        assert (tmp_path / "h.db-wal").stat().st_size > 0
        before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
        code, out, _ = run_cli("check", july, "--history", history, "--json")
        assert code == 0 and "2024-06" in out and "history" in out.lower()
        with sqlite3.connect(f"{history.as_uri()}?mode=ro&immutable=1", uri=True) as stale:
            tables = {name for (name,) in stale.execute("SELECT name FROM sqlite_master")}
            assert "imports" not in tables  # what the immutable=1 connection of before saw: no June
        after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file() and p.name != "h.db-shm"}
        assert after == {k: v for k, v in before.items() if k != "h.db-shm"}
    finally:
        writer.close()


def test_check_on_a_closed_history_leaves_no_wal_behind(run_cli, tmp_path: Path) -> None:
    history, july = two_months(tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert run_cli("check", july, "--history", history)[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == names


@contextmanager
def immutable(path: Path) -> Iterator[None]:
    """Make ``path`` unwritable even for root (``chattr +i``), as chmod 0444 is for everyone else."""
    if os.geteuid() != 0:
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(0o755 if path.is_dir() else 0o644)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)]).returncode != 0:
        pytest.skip("cannot make a file read-only for root here")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@pytest.mark.parametrize("what", ["file", "folder"])
def test_read_only_history_says_so_and_how_to_fix_it(run_cli, tmp_path: Path, what: str) -> None:
    folder = tmp_path / "hist"
    folder.mkdir()
    history = folder / "h.db"
    june = write_csv(tmp_path / "u_2024-06.csv", "1,2024-05-01,2024-06-02,a\n")
    july = write_csv(tmp_path / "u_2024-07.csv", "1,2024-05-01,2024-07-02,a\n")
    assert run_cli("tag", june, "--history", history, "-q", "-o", tmp_path / "june.xlsx")[0] == 0
    names = sorted(p.name for p in folder.iterdir())
    with immutable(history if what == "file" else folder):
        code, _, err = run_cli("tag", july, "--history", history, "-o", tmp_path / "july.xlsx", "--lang", "en")
        line = one_error(code, err, str(history), "read-only", "writable")
        assert "Rename it" not in line
        if what == "folder":  # nor can a new history be created there
            code, _, err = run_cli("tag", july, "--history", folder / "new.db", "-o", tmp_path / "july.xlsx")
            one_error(code, err, "只读", "new.db")
    assert sorted(p.name for p in folder.iterdir()) == names


def test_refresh_and_contacts_refuse_a_damaged_history_too(run_cli, tmp_path: Path) -> None:
    history, july = two_months(tmp_path)
    data = damaged(history.read_bytes(), "middle")
    history.write_bytes(data)
    workbook = tmp_path / "out.xlsx"
    before = workbook.read_bytes()
    code, _, err = run_cli("refresh", july, "--workbook", workbook, "--history", history, "-o", workbook)
    one_error(code, err, str(history), "已损坏")
    code, _, err = run_cli("contacts", july, "--history", history, "--out-dir", tmp_path / "lists")
    one_error(code, err, str(history), "已损坏")
    assert history.read_bytes() == data and workbook.read_bytes() == before
    assert not (tmp_path / "lists").exists()
