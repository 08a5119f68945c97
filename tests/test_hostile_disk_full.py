"""Disk full and the file-size limit while writing: one line naming the file, exit 2, no temp file left.

The limit is real: the CLI runs in a subprocess under ``RLIMIT_FSIZE`` (SIGXFSZ
ignored), so every write past it fails with EFBIG, as a full disk fails with ENOSPC.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tagger.files import STALE_AFTER, atomic_output, remove_stale_temps
from tests.hostile import error_lines, one_error, write_csv
from tests.test_contacts import RULES
from tests.test_hostile_history_faults import immutable
from tests.test_hostile_history_output import big_csv

ROOT = Path(__file__).resolve().parents[1]
LIMITED = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from tagger.cli import main
sys.exit(main(sys.argv[2:]))
"""


def limited_cli(limit: int, *argv: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``tagger *argv`` in a process that may not write a file larger than ``limit`` bytes."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-c", LIMITED, str(limit), *map(str, argv)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".*.tmp*"))


def test_workbook_past_the_size_limit_is_one_line_and_leaves_the_old_file(tmp_path: Path) -> None:
    export = big_csv(tmp_path / "u_2024-07.csv", 20_000)
    out = tmp_path / "out.xlsx"
    out.write_bytes(b"last week's workbook")
    done = limited_cli(300_000, "tag", export, "--no-history", "-o", out, cwd=tmp_path)
    one_error(done.returncode, done.stderr, "无法写入", str(out), "File too large", "磁盘空间")
    assert "Exception ignored" not in done.stderr and "ZipFile" not in done.stderr
    assert out.read_bytes() == b"last week's workbook"
    assert temps(tmp_path) == [] and not (tmp_path / "backups").exists()


def test_contact_lists_past_the_size_limit_fail_the_same_way(tmp_path: Path, samples: Path) -> None:
    export = tmp_path / "用户明细_2024-07.csv"
    export.write_bytes((samples / "car_app_2024-07.csv").read_bytes())
    (tmp_path / "tagger.toml").write_text(RULES, encoding="utf-8")
    lists = tmp_path / "lists"
    for kind in ("csv", "xlsx"):
        done = limited_cli(200, "contacts", export, "--no-history", "--out-dir", lists, "--date", "2024-07-20",
                           "--format", kind, "--lang", "en", cwd=tmp_path)
        one_error(done.returncode, done.stderr, "cannot write", str(lists), f".{kind}", "File too large")
        assert "Exception ignored" not in done.stderr
        assert temps(tmp_path) == [] and not any(lists.iterdir())


def test_unwritable_output_folder_is_exit_2_naming_the_file(run_cli, tmp_path: Path) -> None:
    export = write_csv(tmp_path / "u_2024-07.csv", "1,2024-05-01,2024-07-02,a\n")
    folder = tmp_path / "out"
    folder.mkdir()
    with immutable(folder):
        code, _, err = run_cli("tag", export, "--no-history", "-o", folder / "july.xlsx")
    one_error(code, err, "无法写入", str(folder / "july.xlsx"))
    assert list(folder.iterdir()) == []


def test_output_equal_to_the_input_is_exit_2(run_cli, tmp_path: Path) -> None:
    export = write_csv(tmp_path / "u_2024-07.csv", "1,2024-05-01,2024-07-02,a\n")
    code, _, err = run_cli("tag", export, "--no-history", "-o", export)
    assert code == 2 and len(error_lines(err)) == 1


KILLED = """
import os, sys, time
from pathlib import Path
from tagger.files import atomic_output
with atomic_output(Path(sys.argv[1])) as temp:
    temp.write_bytes(b"half a workbook")
    print(temp, flush=True)
    time.sleep(600)
"""


def test_temp_file_of_a_killed_run_is_removed_by_the_next_run(run_cli, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    writer = subprocess.Popen([sys.executable, "-c", KILLED, str(tmp_path / "july.xlsx")], env=env,
                              stdout=subprocess.PIPE, text=True)
    left = Path(writer.stdout.readline().strip())  # type: ignore[union-attr]
    assert left.exists()
    assert remove_stale_temps(tmp_path) == []  # the run is alive (and its file new): hands off
    old = time.time() - STALE_AFTER - 5
    os.utime(left, (old, old))
    assert remove_stale_temps(tmp_path) == [] and left.exists()  # still locked by the live run
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    writer.stdout.close()  # type: ignore[union-attr]
    assert left.exists()  # kill -9: no cleanup ran
    export = write_csv(tmp_path / "u_2024-07.csv", "1,2024-05-01,2024-07-02,a\n")
    assert run_cli("tag", export, "--no-history", "-q", "-o", tmp_path / "july.xlsx")[0] == 0
    assert not left.exists() and (tmp_path / "july.xlsx").exists()


def test_only_old_unlocked_temp_files_of_tagger_are_removed(tmp_path: Path) -> None:
    old = time.time() - STALE_AFTER - 5
    stale = tmp_path / ".july.k3j_9x0a.tmp.xlsx"
    fresh = tmp_path / ".june.ab12cd34.tmp.xlsx"
    others = [tmp_path / ".notes.tmp", tmp_path / "budget.tmp.xlsx", tmp_path / ".july.xlsx"]
    for path in (stale, fresh, *others):
        path.write_bytes(b"x")
    for path in (stale, *others):
        os.utime(path, (old, old))
    with atomic_output(tmp_path / "out.csv") as temp:
        temp.write_text("a,b\n", encoding="utf-8")
        assert not stale.exists() and fresh.exists() and all(p.exists() for p in others)
        assert temp.exists()
    assert (tmp_path / "out.csv").read_text(encoding="utf-8") == "a,b\n" and not temp.exists()


ZIP_PAST_LIMIT = """
import resource, secrets, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))
from pathlib import Path
import xlsxwriter
from tagger.errors import OutputError
from tagger.files import atomic_output
try:
    with atomic_output(Path(sys.argv[1])) as temp:
        book = xlsxwriter.Workbook(str(temp), {"constant_memory": True})
        for _ in range(10):  # every sheet fits under the limit; the zip of all ten does not
            sheet = book.add_worksheet()
            for row in range(300):
                sheet.write_string(row, 0, secrets.token_hex(50))
        book.close()
except OutputError as exc:
    print("refused", exc.exit_code, exc, file=sys.stderr)
"""


def test_zip_past_the_limit_while_xlsxwriter_closes_is_an_output_error(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-c", ZIP_PAST_LIMIT, str(tmp_path / "z.xlsx")], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("refused 2 ") and "z.xlsx" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_history_past_the_size_limit_rolls_back_and_keeps_the_stored_months(run_cli, tmp_path: Path) -> None:
    history = tmp_path / "h.db"
    june = write_csv(tmp_path / "u_2024-06.csv", "1,2024-05-01,2024-06-02,a\n")
    assert run_cli("tag", june, "--history", history, "-q", "-o", tmp_path / "june.xlsx")[0] == 0
    july = big_csv(tmp_path / "u_2024-07.csv", 20_000)
    done = limited_cli(300_000, "tag", july, "--history", history, "-o", tmp_path / "july.xlsx", cwd=tmp_path)
    one_error(done.returncode, done.stderr, "无法写入历史库", str(history), "撤销")
    assert not (tmp_path / "july.xlsx").exists()
    from tagger.history import HistoryStore

    with HistoryStore(history) as store:  # opening runs quick_check: the file is sound
        assert [r.month for r in store.imports()] == ["2024-06"]
        assert len(store.users("2024-06")) == 1
