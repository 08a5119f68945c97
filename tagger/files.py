"""Writing output files without ever losing one.

Every file tagger writes goes to a temporary file in the target folder (readable
by the owner only) and is renamed into place only when complete, so a crash or
Ctrl-C leaves the old file untouched. An existing file is first copied to
``backups/<name>.<timestamp><ext>`` beside it, because people edit the workbooks
tagger writes. A write the disk or the file-size limit refuses ends in one
:class:`OutputError` naming the file, with no temporary file left; the temporary
files of a run that was killed are removed by the next run in that folder.
"""

from __future__ import annotations

import gc
import os
import re
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks, age alone decides
    fcntl = None  # type: ignore[assignment]

from tagger.errors import OutputError, TaggerError
from tagger.i18n import Catalog

BACKUP_DIR = "backups"
KEEP_BACKUPS = 10
# The names atomic_output gives its temporary files: ".<stem>.<8 random chars>.tmp<ext>".
TEMP_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp(\.[A-Za-z0-9]+)?$")
STALE_AFTER = 60.0  # seconds; a temp file younger than this may belong to a run that just started

TEXT = Catalog(
    "files",
    {
        "no_folder": {"zh": "输出目录不存在：{folder}", "en": "output folder does not exist: {folder}"},
        "cannot_replace": {
            "zh": "无法替换 {path}（{reason}）；可能正在 Excel/WPS 中打开。新文件已保存为 {kept}",
            "en": "cannot replace {path} ({reason}); it may be open in Excel/WPS. The new file was kept as {kept}",
        },
        "cannot_write": {"zh": "无法写入 {path}：{reason}", "en": "cannot write {path}: {reason}"},
        "write_failed": {
            "zh": "无法写入 {path}：{reason}。已有文件未改动；请腾出磁盘空间或检查文件大小限制与权限后重试",
            "en": "cannot write {path}: {reason}. Any existing file is untouched; free disk space or check the "
                  "file-size limit and permissions, then run again",
        },
    },
)


def backup(path: Path, keep: int = KEEP_BACKUPS) -> Path | None:
    """Copy ``path`` into ``backups/`` beside it (keeping the newest ``keep``); None if absent."""
    if not path.exists():
        return None
    folder = path.parent / BACKUP_DIR
    folder.mkdir(exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = folder / f"{path.stem}.{stamp}{path.suffix}"
    shutil.copy2(path, target)
    os.chmod(target, 0o600)  # backups hold the same personal data as the workbook: owner only
    olds = sorted(folder.glob(f"{path.stem}.*{path.suffix}"))
    for old in olds[:-keep] if keep else []:
        old.unlink(missing_ok=True)
    return target


# What sibling_name puts after the stem ("报告 (新).xlsx", "报告 (新2).xlsx"); refresh knows its outputs by it.
SIBLING_MARK = " (新"


def sibling_name(path: Path) -> Path:
    """A free name next to ``path`` for when ``path`` itself cannot be replaced."""
    for i in range(1, 1000):
        candidate = path.with_name(f"{path.stem}{SIBLING_MARK}{'' if i == 1 else i}){path.suffix}")
        if not candidate.exists():
            return candidate
    raise OutputError(TEXT("cannot_write", path=path, reason="no free name"))


@contextmanager
def atomic_output(path: Path, *, make_backup: bool = True) -> Iterator[Path]:
    """Yield a temporary path to write; on success back up ``path`` and rename the temp onto it.

    The temp file stays locked (``flock``) while it is written, so that another run
    in the folder can tell a live temp file from one a killed run left behind.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise OutputError(TEXT("no_folder", folder=path.parent))
    remove_stale_temps(path.parent)
    try:
        handle, temp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}",
                                             dir=path.parent)
    except OSError as exc:
        raise _write_failed(path, exc) from None
    temp = Path(temp_name)
    if not _lock(handle):  # nothing to hold it open for (and Windows cannot rename an open file)
        os.close(handle)
        handle = -1
    try:
        try:
            yield temp
            with temp.open("rb") as written:
                os.fsync(written.fileno())
            if make_backup:
                backup(path)
        except Exception as exc:
            cause = None if isinstance(exc, TaggerError) else _os_error(exc)
            if cause is None:
                raise
            _release(exc)
            raise _write_failed(path, cause) from None
        try:
            os.replace(temp, path)
        except OSError as exc:
            kept = sibling_name(path)
            os.replace(temp, kept)
            raise OutputError(TEXT("cannot_replace", path=path, reason=exc.strerror or exc, kept=kept)) from None
    finally:
        if handle >= 0:
            os.close(handle)
        temp.unlink(missing_ok=True)


def remove_stale_temps(folder: Path) -> list[Path]:
    """Remove the temp files of killed runs in ``folder``: tagger's own names, unlocked and not new.

    Returns what was removed. Anything else (another program's files, a temp file
    a live run holds locked) is left alone.
    """
    removed = []
    for candidate in folder.glob(".*.tmp*"):
        if not TEMP_NAME.match(candidate.name) or not candidate.is_file() or _in_use(candidate):
            continue
        try:
            candidate.unlink()
        except OSError:
            continue  # not ours to remove after all (permissions): leave it
        removed.append(candidate)
    return removed


def _in_use(temp: Path) -> bool:
    """Whether a live run may still be writing ``temp``: it is young or someone holds its lock."""
    try:
        if time.time() - temp.stat().st_mtime < STALE_AFTER:
            return True
        if fcntl is None:
            return False
        with temp.open("rb") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # BlockingIOError: locked by a live run; others: cannot tell, so keep it
        return True
    return False


def _lock(handle: int) -> bool:
    """Mark the temp file as in use; False where locks are unsupported (Windows, some network drives).

    Without a lock, age alone (:data:`STALE_AFTER`) protects a live run's temp file.
    """
    if fcntl is None:
        return False
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _os_error(exc: BaseException) -> OSError | None:
    """The OSError behind ``exc`` (xlsxwriter wraps one in FileCreateError), if any."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError):
            return seen
        wrapped = next((a for a in seen.args if isinstance(a, OSError)), None)
        if wrapped is not None:
            return wrapped
        seen = seen.__cause__ or seen.__context__
    return None


def _release(exc: BaseException) -> None:
    """Drop what the failed write still holds open, now and silently.

    xlsxwriter's ZipFile stays referenced by the traceback; collected later, its
    ``__del__`` retries the write, fails again and prints a traceback after our
    one-line error. Clearing the frames here closes it while the failure is known.
    """
    hook = sys.unraisablehook
    sys.unraisablehook = lambda _: None
    try:
        seen: BaseException | None = exc
        while seen is not None:
            traceback.clear_frames(seen.__traceback__)
            seen = seen.__cause__ or seen.__context__
        gc.collect()
    finally:
        sys.unraisablehook = hook


def _write_failed(path: Path, exc: OSError) -> OutputError:
    return OutputError(TEXT("write_failed", path=path, reason=exc.strerror or exc))
