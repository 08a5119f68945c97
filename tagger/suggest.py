"""Near misses: the file names a person probably meant when the path they typed does not exist.

A wrong export path is usually a typo or last month's name (``用户明细_2024-7.xlsx`` for
``用户明细_2024-07.xlsx``); naming the nearest files of that folder makes the fix a copy.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from tagger.i18n import Catalog, get_language

TEXT = Catalog(
    "suggest",
    {
        "did_you_mean": {"zh": "；同一文件夹中名字相近的有：{names}", "en": "; similar names in that folder: {names}"},
        "exports_here": {"zh": "；该文件夹中的导出文件有：{names}", "en": "; the exports in that folder are: {names}"},
        "no_folder": {"zh": "；文件夹 {folder} 也不存在", "en": "; the folder {folder} does not exist either"},
    },
)

EXPORT_LIKE = (".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".tsv", ".txt", ".parquet", ".duckdb")
LIMIT = 3


def _join(names: list[str]) -> str:
    quoted = [f"'{name}'" for name in names]
    return ("、" if get_language() == "zh" else ", ").join(quoted)


def nearby_files(path: Path) -> str:
    """What to add to "file not found" for ``path``: the closest export names beside it, else the exports there.

    Workbooks tagger wrote (``*_tagged.xlsx``) are left out: they are not exports.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "用户明细_2024-07.xlsx").write_bytes(b"x")
    >>> nearby_files(folder / "用户明细_2024-7.xlsx")
    "；同一文件夹中名字相近的有：'用户明细_2024-07.xlsx'"
    """
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        return TEXT("no_folder", folder=folder)
    try:
        files = sorted((p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "~$"))),
                       key=lambda p: (-p.stat().st_mtime, p.name))
    except OSError:
        return ""
    exports = [p.name for p in files if p.suffix.lower() in EXPORT_LIKE and not p.stem.endswith("_tagged")]
    close = difflib.get_close_matches(path.name, exports, n=LIMIT, cutoff=0.6)
    if close:
        return TEXT("did_you_mean", names=_join(close))
    return TEXT("exports_here", names=_join(exports[:LIMIT])) if exports else ""


__all__ = ["nearby_files"]
