"""Recalculate a workbook in headless LibreOffice and compare every formula's value with the cached one.

Used by ``test_recalc.py`` and the rendering check. LibreOffice keeps cached values of
xlsx files unless told otherwise, so a private profile sets "recalculate on load: always"
(``OOXMLRecalcMode = 0``); the profile also keeps the test away from a person's own.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from pathlib import Path

import openpyxl

PROFILE_SETTINGS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
</oor:items>
"""


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(source: Path, outdir: Path, fmt: str, profile: Path, timeout: int = 300) -> Path:
    """``soffice --headless --convert-to fmt``; returns the converted file."""
    user = profile / "user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "registrymodifications.xcu").write_text(PROFILE_SETTINGS, encoding="utf-8")
    outdir.mkdir(parents=True, exist_ok=True)
    command = [soffice() or "soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
               "--convert-to", fmt, "--outdir", str(outdir), str(source)]
    env = {**os.environ, "HOME": str(profile)}
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    target = outdir / f"{source.stem}.{fmt.split(':')[0]}"
    if done.returncode != 0 or not target.exists():
        raise RuntimeError(f"LibreOffice failed ({done.returncode}): {done.stdout} {done.stderr}")
    return target


def convert_many(sources: list[Path], outdir: Path, fmt: str, profile: Path, timeout: int = 600) -> list[Path]:
    """Convert several files in one LibreOffice start (each start costs seconds)."""
    user = profile / "user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "registrymodifications.xcu").write_text(PROFILE_SETTINGS, encoding="utf-8")
    outdir.mkdir(parents=True, exist_ok=True)
    command = [soffice() or "soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
               "--convert-to", fmt, "--outdir", str(outdir), *map(str, sources)]
    env = {**os.environ, "HOME": str(profile)}
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    targets = [outdir / f"{s.stem}.{fmt.split(':')[0]}" for s in sources]
    missing = [t.name for t in targets if not t.exists()]
    if done.returncode != 0 or missing:
        raise RuntimeError(f"LibreOffice failed ({done.returncode}), missing {missing}: {done.stdout} {done.stderr}")
    return targets


def formula_cells(path: Path) -> dict[tuple[str, str], str]:
    """(sheet, cell) → formula text of every formula cell."""
    book = openpyxl.load_workbook(path, read_only=True)
    found = {}
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("=") and cell.data_type == "f":
                    found[(ws.title, cell.coordinate)] = cell.value
    book.close()
    return found


def values(path: Path, cells: set[tuple[str, str]]) -> dict[tuple[str, str], object]:
    """Cached values of ``cells``."""
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    out: dict[tuple[str, str], object] = {}
    by_sheet: dict[str, set[str]] = {}
    for sheet, coord in cells:
        by_sheet.setdefault(sheet, set()).add(coord)
    for ws in book.worksheets:
        wanted = by_sheet.get(ws.title)
        if not wanted:
            continue
        for row in ws.iter_rows():
            for cell in row:
                if getattr(cell, "coordinate", None) in wanted:
                    out[(ws.title, cell.coordinate)] = cell.value
    book.close()
    return out


def same(cached: object, recalculated: object) -> bool:
    """Equal as a spreadsheet shows them: "" and empty agree, numbers to 1e-9 relative."""
    if cached in (None, "") and recalculated in (None, ""):
        return True
    if isinstance(cached, bool) or isinstance(recalculated, bool):
        return bool(cached) == bool(recalculated) and type(cached) is type(recalculated)
    if isinstance(cached, (int, float)) and isinstance(recalculated, (int, float)):
        return math.isclose(cached, recalculated, rel_tol=1e-9, abs_tol=1e-12)
    return cached == recalculated


def mismatches(original: Path, recalculated: Path) -> tuple[int, list[tuple[str, str, str, object, object]]]:
    """(number of formula cells, [(sheet, cell, formula, cached, recalculated)] that differ)."""
    formulas = formula_cells(original)
    keys = set(formulas)
    before = values(original, keys)
    after = values(recalculated, keys)
    bad = [(s, c, formulas[(s, c)], before.get((s, c)), after.get((s, c)))
           for (s, c) in sorted(keys) if not same(before.get((s, c)), after.get((s, c)))]
    return len(formulas), bad
