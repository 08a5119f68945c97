"""A second process that builds blocks of a big sheet's row XML beside this one.

Building ``<c>`` strings is Python holding the interpreter lock: at a million users it is
most of the write, on one core, while the other core only deflates. On a machine with a
second core, a forked copy of the process (it inherits the plan's arrays: nothing is
pickled) builds blocks too and sends them back encoded through a pipe.

Both sides take the next unbuilt block whenever they are free — the worker is handed its next
one the moment a block arrives from it, this process builds whatever is next while the block
it must hand on is still on its way — and the blocks leave strictly in order. So the split
follows whichever side is faster, and no more than :data:`LIMIT` finished blocks (~4 MB
each) wait here.

The worker is a helper, never the only way: if it cannot start, fails on a block, dies or
goes quiet for :data:`QUIET_SECONDS`, this process builds what it was handed, so a block's
error surfaces here with its own type. It ignores Ctrl-C (this process stops it) and never
touches the output file.
"""

from __future__ import annotations

import collections
import contextlib
import fcntl
import gc
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Generator
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tagger.workbook.rowxml import SheetRows

MIN_BLOCKS = 4  # a sheet of fewer blocks is built here: starting the worker would cost more than it saves
AHEAD = 2  # blocks handed to the worker at a time: one it builds, one it starts on without a round trip
LIMIT = 8  # finished blocks, built or received, waiting here for their turn
QUIET_SECONDS = 60.0  # a worker that sends nothing for this long is given up (a block takes well under a second)
PIPE_BYTES = 1 << 20  # a block (~4 MB) crosses in four reads instead of sixty-four
_FAILED = b""  # what the worker sends instead of a block it could not build (a block is never empty)


def worker_available() -> bool:
    """Whether a forked worker can help: Linux (fork is safe for this use there) with a second core."""
    if not sys.platform.startswith("linux") or "fork" not in multiprocessing.get_all_start_methods():
        return False
    return len(os.sched_getaffinity(0)) > 1


def encoded_blocks(rows: SheetRows, block_rows: int, min_blocks: int | None = None) -> Generator[bytes, None, None]:
    """The UTF-8 XML of ``rows``, ``block_rows`` rows at a time, in order.

    Blocks come from the worker as well when the sheet has ``min_blocks`` blocks or more (default
    :data:`MIN_BLOCKS`) and :func:`worker_available`; ``rows.on_block`` is called here, in this
    thread, for every block either way.
    """
    count = rows.block_count(block_rows)
    if count < max(MIN_BLOCKS if min_blocks is None else min_blocks, 2) or not worker_available():
        for index in range(count):
            yield _built(rows, index, block_rows)
        return
    split = _Split(rows, block_rows, count)
    try:
        for index in range(count):
            yield split.take(index)
    finally:
        split.stop()


def _built(rows: SheetRows, index: int, block_rows: int) -> bytes:
    data = rows.block(index, block_rows).encode("utf-8")
    _advance(rows, index, block_rows)
    return data


def _advance(rows: SheetRows, index: int, block_rows: int) -> None:
    if rows.on_block is not None:
        rows.on_block(rows.block_size(index, block_rows))


class _Split:
    """Who builds which block of one sheet, and the finished blocks waiting for their turn.

    Everything below ``_cond`` is shared between the thread handing blocks on (:meth:`take`)
    and the thread receiving the worker's (:meth:`_receive_all`).
    """

    def __init__(self, rows: SheetRows, block_rows: int, count: int) -> None:
        self._rows, self._block_rows, self._count = rows, block_rows, count
        self._cond = threading.Condition()
        self._next = 0  # the first block nobody has taken
        self._owed: collections.deque[int] = collections.deque()  # handed to the worker, in order
        self._ready: dict[int, bytes] = {}  # finished, waiting for their turn
        self._received: set[int] = set()  # of those, the ones the worker built
        self._heard = time.monotonic()  # when the worker last sent something
        self._worker: _Worker | None = _Worker(rows, block_rows)
        self._drain: threading.Thread | None = None
        if self._worker.start():
            with self._cond:
                self._feed()
            self._drain = threading.Thread(target=self._receive_all, args=(self._worker,), daemon=True,
                                           name="tagger-rows-pipe")
            self._drain.start()
        else:  # no memory or process left to fork: this process builds every block
            self._worker = None

    def take(self, index: int) -> bytes:
        """Block ``index``, once it is built here or has arrived from the worker."""
        while True:
            with self._cond:
                if index in self._ready:
                    data = self._ready.pop(index)
                    received = index in self._received
                    self._received.discard(index)
                    self._feed()
                    break
                job = self._job(index)
                if job is None:
                    self._cond.wait(timeout=1.0)
                    if time.monotonic() - self._heard > QUIET_SECONDS:
                        self._give_up()
                    continue
            built = _built(self._rows, job, self._block_rows)  # outside the lock: the worker's blocks keep arriving
            with self._cond:
                self._ready[job] = built
        if received:
            _advance(self._rows, index, self._block_rows)
        return data

    def _job(self, index: int) -> int | None:
        """The block to build here now for ``index`` to be handed on, or None to wait for the worker's."""
        if index in self._owed:
            if self._worker is None:  # the worker is gone: what it owed is built here, in turn
                self._owed.remove(index)
                return index
            if len(self._ready) + len(self._owed) < LIMIT:
                return self._claim()  # build ahead while the worker finishes ``index``
            return None
        claimed = self._claim()  # nobody has it: it is the next free block, and ours
        assert claimed == index
        return claimed

    def _claim(self) -> int | None:
        if self._next >= self._count:
            return None
        self._next += 1
        return self._next - 1

    def _feed(self) -> None:
        """Keep the worker :data:`AHEAD` blocks ahead, within :data:`LIMIT` (under the lock)."""
        while (self._worker is not None and len(self._owed) < AHEAD
               and len(self._ready) + len(self._owed) < LIMIT and self._next < self._count):
            index = self._claim()
            assert index is not None
            self._owed.append(index)
            if not self._worker.hand(index):
                self._give_up()

    def _receive_all(self, worker: _Worker) -> None:
        """The draining thread: every block the worker sends, until it ends, fails or dies."""
        while (data := worker.receive()) != _FAILED:
            with self._cond:
                if self._worker is not worker:  # given up meanwhile: what it owed is being built here
                    break
                index = self._owed.popleft()
                self._ready[index], self._heard = data, time.monotonic()
                self._received.add(index)
                self._feed()
                self._cond.notify()
        with self._cond:
            self._give_up()
            self._cond.notify()

    def _give_up(self) -> None:
        """No more blocks from the worker (under the lock): the ones it owes are built here."""
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.kill()

    def stop(self) -> None:
        """End the worker and the draining thread (done, failed or no longer wanted)."""
        with self._cond:
            self._give_up()
        if self._drain is not None:
            self._drain.join()


class _Worker:
    """The forked process, the pipe that hands it block numbers and the pipe its blocks come back on."""

    def __init__(self, rows: SheetRows, block_rows: int) -> None:
        context = multiprocessing.get_context("fork")
        self._orders_in, self._orders = context.Pipe(duplex=False)  # the worker reads, this process writes
        self._blocks, self._sending = context.Pipe(duplex=False)
        with contextlib.suppress(OSError):  # a smaller pipe only costs more reads
            fcntl.fcntl(self._sending.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        args = (rows, block_rows, self._orders_in, self._sending, (self._orders, self._blocks))
        self._process: Any = context.Process(target=_serve, args=args, name="tagger-rows", daemon=True)

    def start(self) -> bool:
        """Fork the worker; False if the system has no process or memory left for it."""
        try:
            self._process.start()
        except OSError:
            self._blocks.close()
            return False
        finally:
            self._orders_in.close()  # the worker holds the only other ends: its exit ends both pipes
            self._sending.close()
        return True

    def hand(self, index: int) -> bool:
        """Ask the worker for block ``index``; False if it is gone."""
        try:
            self._orders.send_bytes(index.to_bytes(8, "little"))
        except OSError:
            return False
        return True

    def receive(self) -> bytes:
        """The worker's next block, or :data:`_FAILED` once it failed or ended (the pipe is then closed)."""
        try:
            data = self._blocks.recv_bytes()
        except (EOFError, OSError):
            data = _FAILED
        if data == _FAILED:
            self._blocks.close()
        return data

    def kill(self) -> None:
        """End the worker now: it holds nothing to clean up (its blocks are only ever sent here)."""
        self._orders.close()
        self._process.kill()
        self._process.join()
        self._process.close()


def _serve(rows: SheetRows, block_rows: int, orders: Connection, blocks: Connection,
           parent_ends: tuple[Connection, ...]) -> None:
    """The worker's whole life: build each block it is handed and send it, until the orders end."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    for end in parent_ends:  # inherited copies: holding the orders' writing end would hide their end
        end.close()
    gc.disable()  # collections would write to every inherited object's header: pages copied for nothing
    try:
        while True:
            try:
                index = int.from_bytes(orders.recv_bytes(), "little")
            except EOFError:
                return
            blocks.send_bytes(rows.block(index, block_rows).encode("utf-8"))
    except BrokenPipeError:  # the parent stopped listening: nothing to tell
        return
    except BaseException:  # the parent builds this block itself and meets the error with its own type
        with contextlib.suppress(OSError):
            blocks.send_bytes(_FAILED)


__all__ = ["MIN_BLOCKS", "encoded_blocks", "worker_available"]
