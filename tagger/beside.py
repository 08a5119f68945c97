"""A call run beside the caller, on a daemon thread, for work that lets the interpreter lock go.

Reading a zip part (inflate), scanning bytes with numpy and parsing in Rust all release the
lock, so two of them overlap on two cores. The thread is a daemon: Ctrl-C never waits for it.
Its outcome is only ever taken by :meth:`Beside.result`, so the caller decides whose error
is shown when both fail.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Beside(Generic[T]):
    """``call`` started on a daemon thread; ``result()`` returns or raises what it did."""

    def __init__(self, call: Callable[[], T], name: str) -> None:
        self._call = call
        self._outcome: tuple[T] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._outcome = (self._call(),)
        except BaseException as error:  # noqa: BLE001 - handed to the caller's thread by result()
            self._error = error

    def result(self) -> T:
        """Wait for the call; its value, or its exception raised here."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._outcome is not None
        return self._outcome[0]


__all__ = ["Beside"]
