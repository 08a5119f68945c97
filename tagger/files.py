"""Writing output files without ever losing one.

Every file tagger writes goes to a temporary file in the target folder (readable
by the owner only) and is renamed into place only when complete, so a crash or
Ctrl-C leaves the old file untouched. An existing file is first copied to
``backups/<name>.<timestamp><ext>`` beside it, because people edit the workbooks
tagger writes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from tagger.errors import OutputError
from tagger.i18n import Catalog

BACKUP_DIR = "backups"
KEEP_BACKUPS = 10

MESSAGES = Catalog(
    "files",
    {
        "no_folder": {"zh": "输出目录不存在：{folder}", "en": "output folder does not exist: {folder}"},
        "cannot_replace": {
            "zh": "无法替换 {path}（{reason}）；可能正在 Excel/WPS 中打开。新文件已保存为 {kept}",
            "en": "cannot replace {path} ({reason}); it may be open in Excel/WPS. The new file was kept as {kept}",
        },
        "cannot_write": {"zh": "无法写入 {path}：{reason}", "en": "cannot write {path}: {reason}"},
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


def sibling_name(path: Path) -> Path:
    """A free name next to ``path`` for when ``path`` itself cannot be replaced."""
    for i in range(1, 1000):
        candidate = path.with_name(f"{path.stem} (新{'' if i == 1 else i}){path.suffix}")
        if not candidate.exists():
            return candidate
    raise OutputError(MESSAGES("cannot_write", path=path, reason="no free name"))


@contextmanager
def atomic_output(path: Path, *, make_backup: bool = True) -> Iterator[Path]:
    """Yield a temporary path to write; on success back up ``path`` and rename the temp onto it."""
    path = Path(path)
    if not path.parent.is_dir():
        raise OutputError(MESSAGES("no_folder", folder=path.parent))
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(handle)
    temp = Path(temp_name)
    try:
        yield temp
        with temp.open("rb") as written:
            os.fsync(written.fileno())
        if make_backup:
            backup(path)
        try:
            os.replace(temp, path)
        except OSError as exc:
            kept = sibling_name(path)
            os.replace(temp, kept)
            raise OutputError(MESSAGES("cannot_replace", path=path, reason=exc.strerror or exc, kept=kept)) from None
    finally:
        temp.unlink(missing_ok=True)
