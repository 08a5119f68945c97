"""Recalculate generated workbooks in headless LibreOffice: every formula must give the value tagger cached.

This is the proof that the Excel formulas (tagger.formulas, tagger.forecast, the summary sheets) compute
exactly what Python computed. CI sets ``TAGGER_REQUIRE_LIBREOFFICE=1``, so there a missing or broken
LibreOffice fails the run instead of skipping it.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import pytest
import xlsxwriter

from tagger.i18n import set_language
from tagger.workbook import write_workbook

from . import libreoffice as lo
from .workbook_cases import LAYERS_QUANTILE_TOML, edge, labelled, layers, quarter, sessions, three_months

REQUIRED = bool(os.environ.get("TAGGER_REQUIRE_LIBREOFFICE"))
if lo.soffice() is None and not REQUIRED:
    pytest.skip("LibreOffice (soffice) is not installed; set TAGGER_REQUIRE_LIBREOFFICE=1 to make this an error",
                allow_module_level=True)


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """name -> (written workbook, LibreOffice's recalculated copy), converted in one LibreOffice start."""
    assert lo.soffice(), "TAGGER_REQUIRE_LIBREOFFICE is set but soffice is not on PATH"
    root = tmp_path_factory.mktemp("recalc")
    set_language("zh")
    cases: dict[str, Path] = {}
    cases["july_history"] = three_months(root / "zh").output
    cases["may_no_history"] = (root / "zh" / "july_05.xlsx")
    cases["july_history_en"] = three_months(root / "en", lang="en").output
    (root / "edge").mkdir()
    cases["edge"] = edge(root / "edge").output
    config = root / "edge" / "tagger.toml"
    config.write_text("[lifecycle]\nchurn_after_months = 3\n[preferences]\nthreshold = 0.25\n"
                      "[project]\ntarget_active_rate = 0.6\n", encoding="utf-8")
    cases["edge_k3"] = edge(root / "edge", config=config, name="edge_k3.xlsx").output
    config.write_text("[lifecycle]\nchurn_after_months = 1\n", encoding="utf-8")
    cases["edge_k1_en"] = edge(root / "edge", config=config, lang="en", name="edge_k1_en.xlsx").output
    (root / "labels").mkdir()
    cases["labelled"] = labelled(root / "labels")
    (root / "quarter").mkdir()
    runs = quarter(root / "quarter", users=300)  # target period, rate_basis best6, 过往半年 rows
    cases["quarter_june"] = runs["2024-06"].output
    cases["quarter_august"] = runs["2024-08"].output
    for name, month, period in (("quarter_bridge", "2024-06", ("2024-09", "2024-10")),
                                ("quarter_past", "2024-08", ("2024-01", "2024-02", "2024-03"))):
        run = runs[month]
        named = dataclasses.replace(run, config=dataclasses.replace(run.config, target_months=period))
        cases[name] = write_workbook(named, root / "quarter" / f"{name}.xlsx")
    cases["sessions"] = sessions(root / "sessions").output  # share_of = "sessions" over a window from history
    cases["layers"] = layers(root / "layers").output  # [value_layers] thresholds, recency and frequency
    cases["layers_quantile_en"] = layers(root / "layers", toml=LAYERS_QUANTILE_TOML, lang="en",
                                         name="layers_quantile_en.xlsx").output
    cases["wrong_on_purpose"] = _wrong_cache(root / "wrong_on_purpose.xlsx")
    set_language("zh")

    flat = root / "in"
    flat.mkdir()
    for name, path in cases.items():
        shutil.copy(path, flat / f"{name}.xlsx")
    out = root / "out"
    lo.convert_many(sorted(flat.glob("*.xlsx")), out, "xlsx", root / "profile")
    return {name: (flat / f"{name}.xlsx", out / f"{name}.xlsx") for name in cases}


def _wrong_cache(path: Path) -> Path:
    """A formula whose cached value is wrong: proves LibreOffice really recalculates."""
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet()
    ws.write_number(0, 0, 3)
    ws.write_formula(0, 1, "=A1*2", None, 999)
    book.close()
    return path


def test_libreoffice_recalculates(recalculated) -> None:
    count, bad = lo.mismatches(*recalculated["wrong_on_purpose"])
    assert count == 1 and len(bad) == 1 and bad[0][4] == 6


@pytest.mark.parametrize("case", ["july_history", "may_no_history", "july_history_en", "edge", "edge_k3", "labelled",
                                  "edge_k1_en", "quarter_june", "quarter_august",
                                  "quarter_bridge", "quarter_past", "sessions", "layers", "layers_quantile_en"])
def test_every_formula_recalculates_to_its_cached_value(recalculated, case: str) -> None:
    count, bad = lo.mismatches(*recalculated[case])
    small = case.startswith(("sessions", "layers"))  # a handful of users: mostly Users-sheet formulas
    assert count > 1000 if case.startswith(("july", "may")) else count > 100 if small else count > 300
    assert not bad, f"{len(bad)} of {count} formula cells differ, e.g. {bad[:5]}"
