"""How a long step reports its progress, without knowing who draws it.

The pipeline, the workbook writer and the refresh all report through a
:class:`Progress`; the terminal draws bars (``tagger.commands.common``), tests and
scripts pass nothing. It lives apart from :mod:`tagger.pipeline` so the workbook
writer, which the pipeline calls, need not import the pipeline back.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """What a front end implements to show progress; every method is optional to honour."""

    def step(self, name: str, total: int | None = None) -> None: ...

    def advance(self, amount: int = 1) -> None: ...


class SilentProgress:
    """The progress of a run nobody watches."""

    def step(self, name: str, total: int | None = None) -> None:
        pass

    def advance(self, amount: int = 1) -> None:
        pass


__all__ = ["Progress", "SilentProgress"]
