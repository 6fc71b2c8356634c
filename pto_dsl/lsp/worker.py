"""Runs `analysis.analyze` in child processes that can be stopped: at a time limit, when a
newer version of the document supersedes the running check, or at a memory limit.

Each document gets its own long-lived child (so a check costs no process start), forked
from a server process that has already imported the pipeline and built the parser. A child
that must be stopped is killed and replaced by a fresh fork on the next request. A child's
standard output is closed off: the language server's own standard output is its protocol
channel.
"""

from __future__ import annotations

import enum
import gc
import multiprocessing
import os
import resource
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from pto_dsl.lsp.analysis import Front, Request, Result, analyze

POLL = 0.02  # seconds between looks at the cancel flag while a child works
_PAGE = os.sysconf("SC_PAGE_SIZE")
GRACE = 0.25  # seconds a cancelled check may take to finish before its child is killed
WARM = Request("warm:", 0, "warm.pto", "kernel K aiv 0 (inout x: f32[N])\n"
               "entry e(inout a: f32[N]) { scope manual { let t = K(a)\n K(a) dep t } }\n"
               "case c { N = 4 }\n")
DONE = "done"
MEMORY = "memory"


class Outcome(enum.Enum):
    DONE = "done"
    CANCELLED = "cancelled"  # a newer request replaced this one
    TIMEOUT = "timeout"
    MEMORY = "memory"  # the child ran out of its memory limit
    DIED = "died"  # the child ended without finishing (killed from outside, crashed)


@dataclass
class _Child:
    process: BaseProcess
    requests: Connection
    results: Connection
    unread: int = 0  # requests sent whose results nobody waits for (skipped before the next)

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.requests.close()
        self.results.close()


class Checker:
    """One child per key (a document); `run` blocks, so call it from a thread."""

    def __init__(self, time_limit: float = 10.0, memory_mib: int = 4096) -> None:
        self.time_limit = time_limit
        self.memory_mib = memory_mib
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(["pto_dsl.lsp.warm"])
        self._children: dict[str, _Child] = {}
        self._spare: _Child | None = None  # a child already warm, for the next document
        self._lock = threading.Lock()  # guards _children and _spare
        self._busy: dict[str, threading.Lock] = {}

    def configure(self, time_limit: float, memory_mib: int) -> None:
        """New limits; children forked under another memory limit are replaced."""
        self.time_limit = time_limit
        if memory_mib != self.memory_mib:
            self.memory_mib = memory_mib
            with self._lock:
                stale = list(self._children.values()) + ([self._spare] if self._spare else [])
                self._children.clear()
                self._spare = None
            for child in stale:
                child.stop()

    def warm(self) -> None:
        """Start the fork server (it imports the pipeline and builds the parser once) and
        a spare child that has run a small check (its first run pays for the fork)."""
        with self._lock:
            if self._spare is None:
                self._spare = self._fork()

    def run(self, req: Request, on_result: Callable[[Result], None],
            cancel: threading.Event) -> Outcome:
        with self._lock:
            busy = self._busy.setdefault(req.uri, threading.Lock())
        with busy:  # the superseded check of this document stops first
            if cancel.is_set():
                return Outcome.CANCELLED
            child = self._child(req.uri)
            deadline = time.monotonic() + self.time_limit
            child.requests.send(req)
            outcome, reusable = _wait(child, on_result, cancel, deadline, self.memory_mib)
            if not reusable:
                self.close(req.uri)
            return outcome

    def close(self, key: str) -> None:
        """Stop the child of a document (closed, or its check must stop)."""
        with self._lock:
            child = self._children.pop(key, None)
        if child is not None:
            child.stop()

    def _child(self, key: str) -> _Child:
        with self._lock:
            child = self._children.get(key)
            if child is None or not child.process.is_alive():
                spare, self._spare = self._spare, None
                child = spare if spare is not None and spare.process.is_alive() else self._fork()
                self._children[key] = child
                self._spare = self._fork()
            return child

    def _fork(self) -> _Child:
        requests_r, requests_w = self._ctx.Pipe(duplex=False)
        results_r, results_w = self._ctx.Pipe(duplex=False)
        process = self._ctx.Process(target=_serve, args=(requests_r, results_w,
                                                         self.memory_mib), daemon=True)
        process.start()
        requests_r.close()
        results_w.close()
        child = _Child(process, requests_w, results_r)
        child.requests.send(WARM)
        child.unread = 1
        return child


def _wait(child: _Child, on_result: Callable[[Result], None], cancel: threading.Event,
          deadline: float, memory_mib: int) -> tuple[Outcome, bool]:
    """The outcome of the request just sent, and whether the child can take another. A
    cancelled check gets GRACE seconds to finish (a fresh child costs more than that)."""
    cancelled: float | None = None
    while True:
        now = time.monotonic()
        if cancelled is None and cancel.is_set():
            cancelled = now
        if cancelled is not None and now - cancelled > GRACE:
            return Outcome.CANCELLED, False
        if now >= deadline:
            return Outcome.TIMEOUT, False
        if memory_mib > 0 and _resident_mib(child.process.pid) > memory_mib:
            return Outcome.MEMORY, False
        if not child.results.poll(min(POLL, deadline - now)):
            continue
        try:
            message = child.results.recv()
        except (EOFError, OSError):
            return Outcome.DIED, False
        if message == MEMORY:
            return Outcome.MEMORY, False
        if child.unread:  # the results of a request nobody waits for
            child.unread -= message == DONE
        elif message == DONE:
            return (Outcome.DONE if cancelled is None else Outcome.CANCELLED), True
        elif cancelled is None:
            on_result(message)


def _resident_mib(pid: int | None) -> float:
    """The resident memory of a process (0 where /proc cannot tell)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE / (1 << 20)
    except (OSError, ValueError, IndexError):
        return 0.0


def _serve(requests: Connection, results: Connection, memory_mib: int) -> None:
    """The child: analyse each request, sending each result as soon as it exists."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # nothing a check prints may reach the protocol channel
    if memory_mib > 0:
        # the parent stops the child when its resident memory passes the limit; this cap on
        # its address space (a GiB above: Python and NumPy map far more than they touch)
        # makes a runaway allocation fail in the child first
        limit = (memory_mib + 1024) << 20
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (limit if hard < 0 else min(limit, hard), hard))
    while True:
        try:
            req = requests.recv()
        except EOFError:
            return
        if not _answer(req, results):
            return


def _answer(req: Request, results: Connection) -> bool:
    """Send the results of one request; False when memory ran out (the child must end)."""
    try:
        for result in analyze(req):
            if isinstance(result, Front) and result.ast is not None:
                results.send(result.ahead())
            results.send(result)
        results.send(DONE)
        return True
    except MemoryError:
        pass  # leave the handler first: its traceback still holds what filled the memory
    gc.collect()
    results.send(MEMORY)
    return False
