"""The bundled sample months, and a demo project that tags them in sequence.

``tagger demo`` is the first thing a new user runs (README quick start), usually
from an installed wheel, so the samples ship as package data
(``tagger/samples_data``) rather than being read from a checkout's ``samples/``.
Tagging May, June and July into one history database shows the full segments
from the second month on, which is the point of keeping history.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from tagger.config import CONFIG_NAME, HISTORY_NAME
from tagger.files import atomic_output
from tagger.pipeline import Progress, TagOptions, TagResult, run
from tagger.project import init_project

SAMPLE_MONTHS: tuple[str, ...] = ("2024-05", "2024-06", "2024-07")
DEFAULT_FOLDER = Path("tagger-demo")


def sample_names() -> list[str]:
    """File names of the bundled samples, oldest month first."""
    return [f"car_app_{month}.xlsx" for month in SAMPLE_MONTHS]


def sample_bytes(name: str) -> bytes:
    """One bundled sample, read from the installed package (works from a wheel or a checkout)."""
    return (resources.files("tagger") / "samples_data" / name).read_bytes()


@dataclass
class DemoResult:
    folder: Path
    config: Path
    history: Path
    results: list[TagResult] = field(default_factory=list)

    @property
    def final(self) -> Path | None:
        """The last month's workbook: the one to open."""
        return self.results[-1].output if self.results else None


def _copy_samples(folder: Path) -> Iterator[Path]:
    for name in sample_names():
        target = folder / name
        data = sample_bytes(name)
        if not target.is_file() or target.read_bytes() != data:
            with atomic_output(target, make_backup=False) as temp:
                temp.write_bytes(data)
        yield target


ProgressFactory = Callable[[str], AbstractContextManager[Progress | None]]


def run_demo(folder: Path = DEFAULT_FOLDER, *, lang: str | None = None,
             progress: ProgressFactory | None = None) -> DemoResult:
    """Copy the samples into ``folder`` and tag them month by month into one history database.

    ``progress(month)`` returns a context manager giving the progress object for
    that month's run, so a front end can draw one set of bars per month.
    """
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / CONFIG_NAME
    if not config.exists():
        init_project(folder, lang=lang)
    history = folder / HISTORY_NAME
    demo = DemoResult(folder=folder, config=config, history=history)
    for month, export in zip(SAMPLE_MONTHS, list(_copy_samples(folder)), strict=True):
        with (progress(month) if progress else nullcontext(None)) as bars:
            options = TagOptions(export=export, month=month, config=config, history=history, lang=lang,
                                 replace=True)
            demo.results.append(run(options, bars))
    return demo


__all__ = ["DemoResult", "SAMPLE_MONTHS", "run_demo", "sample_names", "sample_bytes"]
