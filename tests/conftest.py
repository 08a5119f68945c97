"""Shared fixtures: the bundled samples, a recording console, and a neutral environment."""

from __future__ import annotations

import importlib.util
import io
import sys
from pathlib import Path
from types import ModuleType

import pytest
from rich.console import Console

from tagger.i18n import set_language

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"


@pytest.fixture(autouse=True)
def neutral_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No colour codes, no stray tagger.toml from the caller's folder, Chinese by default."""
    for name in ("FORCE_COLOR", "NO_COLOR", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    set_language("zh")


@pytest.fixture
def samples() -> Path:
    return SAMPLES


@pytest.fixture(scope="session")
def make_samples() -> ModuleType:
    """The sample generator, loaded by path the way its README says."""
    spec = importlib.util.spec_from_file_location("make_samples", SAMPLES / "make_samples.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_samples", module)
    spec.loader.exec_module(module)
    return module


def recording_console() -> Console:
    return Console(file=io.StringIO(), width=120, color_system=None, record=True, legacy_windows=False)


@pytest.fixture
def run_cli():
    """Run ``tagger`` in-process; returns (exit code, stdout text, stderr text)."""
    from tagger.cli import main

    def runner(*argv: str) -> tuple[int, str, str]:
        out, err = recording_console(), recording_console()
        code = main([str(a) for a in argv], stdout=out, stderr=err)
        return code, out.file.getvalue(), err.file.getvalue()  # type: ignore[attr-defined]

    return runner


@pytest.fixture(scope="session")
def spark():
    """One local Spark session for every Spark test of the run (tests/spark.py)."""
    from tests.spark import session

    yield from session()
