"""A pool of forked worker processes that survives its workers.

multiprocessing.Pool loses the task of a worker that dies (the OOM killer, a
signal) and then waits for it forever, and it cannot stop a task that runs
too long.  Here each worker takes one item at a time over its own pipe; the
parent watches every worker's pipe and process sentinel.  A worker that dies,
or that keeps an item past its time limit (it is killed), yields `lost(item,
why)` for that item and is replaced; the other items go on.
"""
from __future__ import annotations

import multiprocessing
import os
import resource
import signal
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any, Generic, TypeVar

from .. import codes
from ..codes import Code

Item = TypeVar("Item")
Result = TypeVar("Result")

GRACE = 10.0
"""Seconds a worker gets past the time limit to report the timeout itself."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Lost:
    """Why a worker gave no result for an item."""
    code: Code           # UNIT_TIMEOUT, WORKER_DIED or INTERNAL_ERROR
    detail: str


@dataclass(frozen=True, slots=True)
class _Raised:
    detail: str


@dataclass
class _Worker(Generic[Item]):
    process: BaseProcess
    conn: Connection
    item: Item | None = None
    started: float = 0.0


class Supervised(Generic[Item, Result]):
    """work(item) for every item in `jobs` forked processes, started at once;
    results() gives the results in the order they finish.  `timeout` (seconds,
    0 for none) is the parent's limit per item, after GRACE more; `memory`
    caps each worker's address space, so running out of memory is a
    MemoryError in the worker, not the OOM killer."""

    def __init__(self, work: Callable[[Item], Result], items: list[Item], jobs: int, timeout: float,
                 lost: Callable[[Item, Lost], Result], memory: int | None = None) -> None:
        self._work, self._timeout, self._lost, self._memory = work, timeout, lost, memory
        self._fork = multiprocessing.get_context("fork")
        self._pending = deque(items)
        self._workers: list[_Worker[Item]] = []
        try:
            self._workers.extend(self._start() for _ in range(min(jobs, len(items))))
            self._assign()
        except BaseException:
            self.close()
            raise

    def _start(self) -> _Worker[Item]:
        parent_end, child_end = self._fork.Pipe()
        process = self._fork.Process(target=_serve, args=(self._work, child_end, parent_end, self._memory),
                                     daemon=True)
        process.start()
        child_end.close()
        return _Worker(process=process, conn=parent_end)

    def _assign(self) -> None:
        for worker in self._workers:
            if worker.item is None and self._pending:
                worker.item, worker.started = self._pending.popleft(), time.monotonic()
                try:
                    worker.conn.send(worker.item)
                except OSError:
                    pass         # it died meanwhile: its sentinel says so

    def results(self) -> Iterator[Result]:
        try:
            while True:
                self._assign()
                busy = [w for w in self._workers if w.item is not None]
                if not busy:
                    return
                limit = None
                if self._timeout > 0:
                    oldest = min(w.started for w in busy)
                    limit = max(0.0, oldest + self._timeout + GRACE - time.monotonic())
                wait([w.conn for w in busy] + [w.process.sentinel for w in busy], limit)
                for index, worker in enumerate(self._workers):
                    item = worker.item
                    if item is None:
                        continue
                    outcome: tuple[Result] | Lost | None = _collect(worker, self._timeout)
                    if outcome is None:
                        continue
                    worker.item = None
                    if isinstance(outcome, Lost):
                        _stop(worker)
                        if self._pending:
                            self._workers[index] = self._start()
                        yield self._lost(item, outcome)
                    else:
                        yield outcome[0]
        finally:
            self.close()

    def close(self) -> None:
        for worker in self._workers:
            _stop(worker)
        self._workers = []


def _collect(worker: _Worker[Item], timeout: float) -> tuple[Any] | Lost | None:
    """The worker's result when it sent one, Lost when it died or is past its
    time, None while it is still working."""
    try:
        if worker.conn.poll():
            result = worker.conn.recv()
            if isinstance(result, _Raised):
                return Lost(code=codes.INTERNAL_ERROR, detail=result.detail)
            return (result,)
    except (EOFError, OSError):
        pass
    if not worker.process.is_alive() or worker.conn.closed:
        worker.process.join(1)
        return Lost(code=codes.WORKER_DIED, detail=_death(worker.process.exitcode))
    if timeout > 0 and time.monotonic() - worker.started > timeout + GRACE:
        return Lost(code=codes.UNIT_TIMEOUT, detail=f"the worker was stopped after {timeout + GRACE:g} s")
    return None


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        why = " (the OOM killer, or a kill -9)" if -exitcode == signal.SIGKILL else ""
        return f"the worker process was killed by {name}{why}"
    return f"the worker process exited with status {exitcode}"


def _stop(worker: _Worker[Item]) -> None:
    if worker.process.is_alive():
        try:
            worker.conn.send(None)
        except OSError:
            pass
        worker.process.join(0.5 if worker.item is None else 0)
    if worker.process.is_alive():
        worker.process.kill()
        worker.process.join()
    worker.conn.close()


def _serve(work: Callable[[Item], Result], conn: Connection, parent_end: Connection, memory: int | None) -> None:
    """A worker's loop: an item in, its result out, until None."""
    parent_end.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)      # the parent handles ^C and stops the workers
    if memory:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or hard > memory:
            resource.setrlimit(resource.RLIMIT_AS, (memory, hard))
    while True:
        try:
            item = conn.recv()
        except (EOFError, OSError):
            break
        if item is None:
            break
        try:
            result: object = work(item)
        except Exception as exc:     # work should not raise; if it does, the item is lost, said in one line
            result = _Raised(detail=f"{type(exc).__name__}: {exc}")
        try:
            conn.send(result)
        except Exception:       # the parent is gone, or the result does not pickle: the parent sees us exit
            break
    conn.close()
    os._exit(0)        # no atexit handlers or finalizers inherited from the parent
