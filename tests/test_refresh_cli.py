"""``tagger refresh`` on the command line, ``--auto`` and ``scripts/weekly_refresh.sh`` (log, lock, exit codes)."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

SCRIPT = ROOT / "scripts" / "weekly_refresh.sh"


@pytest.fixture
def folder(tmp_path: Path, samples: Path) -> Path:
    """An export drop folder holding a 300-user July export."""
    drop = tmp_path / "drop"
    drop.mkdir()
    lines = (samples / "car_app_2024-07.csv").read_text(encoding="utf-8-sig").splitlines(keepends=True)
    (drop / "用户明细_2024-07.csv").write_text("".join(lines[:301]), encoding="utf-8-sig")
    return drop


def test_refresh_command(tmp_path: Path, folder: Path, run_cli) -> None:
    export = folder / "用户明细_2024-07.csv"
    code, out, err = run_cli("refresh", export, "-o", folder / "first.xlsx", "--history", tmp_path / "h.sqlite")
    assert code == 0, err
    code, out, err = run_cli("refresh", export, "--workbook", folder / "first.xlsx", "-o", folder / "second.xlsx",
                             "--history", tmp_path / "h.sqlite", "--lang", "en")
    assert code == 0, err
    assert "backed up" in out and (folder / "second.xlsx").exists()
    assert len(list((folder / "backups").glob("first.*.xlsx"))) == 1


def test_refresh_needs_an_export_or_auto(run_cli) -> None:
    code, out, err = run_cli("refresh", "--lang", "en")
    assert code == 2 and "--auto" in err


def test_auto_mode_writes_a_log_and_refuses_a_second_run(tmp_path: Path, folder: Path, run_cli) -> None:
    code, out, err = run_cli("refresh", "--auto", folder, "--history", tmp_path / "h.sqlite", "-q")
    assert code == 0, err
    assert (folder / "用户明细_2024-07_tagged.xlsx").exists()
    log = (folder / "tagger-refresh.log").read_text(encoding="utf-8")
    assert "用户明细_2024-07.csv" in log and " OK " in log

    with (folder / ".tagger-refresh.lock").open("a") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        code, out, err = run_cli("refresh", "--auto", folder, "--history", tmp_path / "h.sqlite", "--lang", "en")
    assert code == 3
    assert "another tagger refresh is running" in err
    assert "ERROR another tagger refresh is running" in (folder / "tagger-refresh.log").read_text(encoding="utf-8")


def _script(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TAGGER": f"{sys.executable} -m tagger", "PYTHONPATH": str(ROOT)}
    return subprocess.run(["bash", str(SCRIPT), str(folder), *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_weekly_script_runs_and_never_twice_at_once(tmp_path: Path, folder: Path) -> None:
    done = _script(folder, "--history", str(tmp_path / "h.sqlite"))
    assert done.returncode == 0, done.stderr
    assert "".join(done.stdout.split()).endswith("用户明细_2024-07_tagged.xlsx")  # rich may wrap the path

    with (folder / ".tagger-refresh.lock").open("a") as held:  # a first run still going
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        second = _script(folder, "--history", str(tmp_path / "h.sqlite"), "--lang", "en")
    assert second.returncode == 3
    assert "another tagger refresh is running" in second.stderr

    missing = _script(tmp_path / "nowhere")
    assert missing.returncode == 2 and "folder not found" in missing.stderr


def test_weekly_script_fails_when_the_folder_has_no_export(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "~$locked.xlsx").write_bytes(b"owner")
    done = _script(empty, "--no-history", "--lang", "en")
    assert done.returncode == 2 and "holds no export" in done.stderr
    assert "ERROR" in (empty / "tagger-refresh.log").read_text(encoding="utf-8")


def test_manual_refresh_refuses_to_overlap_the_cron_job(tmp_path: Path, folder: Path, run_cli) -> None:
    with (folder / ".tagger-refresh.lock").open("a") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        code, out, err = run_cli("refresh", folder / "用户明细_2024-07.csv", "--no-history", "--lang", "en")
    assert code == 3 and "another tagger refresh is running" in err
    assert not (folder / "用户明细_2024-07_tagged.xlsx").exists()


def test_unusable_or_older_workbook_is_one_error_line(tmp_path: Path, folder: Path, run_cli) -> None:
    from tests.hostile import one_error

    export, history = folder / "用户明细_2024-07.csv", tmp_path / "h.sqlite"
    base = ("--history", history, "--lang", "en")
    assert run_cli("refresh", export, "-o", folder / "A_tagged.xlsx", *base)[0] == 0
    assert run_cli("refresh", export, "-w", folder / "A_tagged.xlsx", "-o", folder / "B_tagged.xlsx", *base)[0] == 0

    code, out, err = run_cli("refresh", export, "-w", folder / "A_tagged.xlsx", "-o", folder / "C.xlsx", *base)
    one_error(code, err, "A_tagged.xlsx", "B_tagged.xlsx", "--force")
    assert not (folder / "C.xlsx").exists()
    code, out, err = run_cli("refresh", export, "-w", folder / "A_tagged.xlsx", "-o", folder / "C.xlsx", "--force",
                             *base)
    assert code == 0 and (folder / "C.xlsx").exists(), err

    locked = folder / "locked.xlsx"
    locked.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "EncryptedPackage".encode("utf-16-le")
                       + b"\x00" * 512)
    code, out, err = run_cli("refresh", export, "-w", locked, "-o", folder / "D.xlsx", *base)
    one_error(code, err, "locked.xlsx", "encrypted")
    code, out, err = run_cli("refresh", export, "-w", folder / "gone.xlsx", "-o", folder / "D.xlsx", *base)
    one_error(code, err, "gone.xlsx", "does not exist")
    assert not (folder / "D.xlsx").exists()


def test_refresh_with_an_earlier_export_keeps_the_stored_month(tmp_path: Path, samples: Path, run_cli) -> None:
    """A refresh stores the month like ``tagger tag``: only a later cut-off supersedes without --replace."""
    import sqlite3

    lines = (samples / "car_app_2024-07.csv").read_text(encoding="utf-8-sig").splitlines(keepends=True)
    header = lines[0].rstrip("\r\n").split(",")
    last = header.index("最近一次活跃时间")
    full = tmp_path / "用户明细_2024-07.csv"
    full.write_text("".join(lines), encoding="utf-8-sig")
    # The mid-month export: the same users, nobody active after the 15th yet.
    early = tmp_path / "用户明细_2024-07_mid.csv"
    rows = [line.rstrip("\r\n").split(",") for line in lines[1:]]
    for row in rows:
        if row[last][:10] > "2024-07-15":
            row[last] = "2024-07-15"
    early.write_text(lines[0] + "".join(",".join(row) + "\n" for row in rows), encoding="utf-8-sig")
    history = tmp_path / "h.sqlite"
    code, _, err = run_cli("refresh", full, "-o", tmp_path / "A.xlsx", "--history", history)
    assert code == 0, err
    stored = sqlite3.connect(history).execute("SELECT source, metrics FROM imports").fetchall()

    code, _, err = run_cli("refresh", early, "-w", tmp_path / "A.xlsx", "-o", tmp_path / "B.xlsx", "--history", history)
    assert code == 2 and "--replace" in err and "Traceback" not in err
    assert sqlite3.connect(history).execute("SELECT source, metrics FROM imports").fetchall() == stored
    assert not (tmp_path / "B.xlsx").exists()

    code, _, err = run_cli("refresh", early, "-w", tmp_path / "A.xlsx", "-o", tmp_path / "B.xlsx", "--history", history,
                           "--replace")
    assert code == 0, err
    assert sqlite3.connect(history).execute("SELECT source FROM imports").fetchall() == [(early.name,)]
