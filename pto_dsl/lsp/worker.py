"""Runs `analysis.analyze` in a child process that can be stopped: at a time limit, when a
newer version of the document supersedes it, or when it exceeds its memory limit.

Children fork from a server process that has already imported the pipeline and built the
parser, so starting one costs milliseconds. A child's standard output is closed off: the
language server's own standard output is the protocol channel.
"""

from __future__ import annotations

import enum
import multiprocessing
import os
import resource
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

from pto_dsl.lsp.analysis import Request, Result, analyze

POLL = 0.02  # seconds between looks at the cancel flag while a child runs


class Outcome(enum.Enum):
    DONE = "done"
    CANCELLED = "cancelled"  # a newer request replaced this one
    TIMEOUT = "timeout"
    MEMORY = "memory"  # the child ran out of its memory limit
    DIED = "died"  # the child ended without finishing (killed from outside, crashed)


class Checker:
    """Starts one child per request; `run` blocks (call it from a thread)."""

    def __init__(self, time_limit: float = 10.0, memory_mib: int = 4096) -> None:
        self.time_limit = time_limit
        self.memory_mib = memory_mib
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(["pto_dsl.lsp.warm"])

    def warm(self) -> None:
        """Start the fork server (it imports the pipeline and builds the parser once)."""
        self.run(Request("warm:", 0, "warm.pto", ""), lambda _: None, threading.Event())

    def run(self, req: Request, on_result: Callable[[Result], None],
            cancel: threading.Event) -> Outcome:
        receive, send = self._ctx.Pipe(duplex=False)
        child = self._ctx.Process(target=_child, args=(send, req, self.memory_mib), daemon=True)
        child.start()
        send.close()
        try:
            return self._wait(receive, on_result, cancel, time.monotonic() + self.time_limit)
        finally:
            receive.close()
            if child.is_alive():
                child.kill()
            child.join()

    def _wait(self, receive: Connection, on_result: Callable[[Result], None],
              cancel: threading.Event, deadline: float) -> Outcome:
        while True:
            if cancel.is_set():
                return Outcome.CANCELLED
            left = deadline - time.monotonic()
            if left <= 0:
                return Outcome.TIMEOUT
            if not receive.poll(min(POLL, left)):
                continue
            try:
                message = receive.recv()
            except (EOFError, OSError):
                return Outcome.DIED
            if message is None:
                return Outcome.DONE
            if message == Outcome.MEMORY.value:
                return Outcome.MEMORY
            on_result(message)


def _child(send: Connection, req: Request, memory_mib: int) -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # nothing a check prints may reach the protocol channel
    if memory_mib > 0:
        limit = memory_mib << 20
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (limit if hard < 0 else min(limit, hard), hard))
    try:
        for result in analyze(req):
            send.send(result)
        send.send(None)
    except MemoryError:
        send.send(Outcome.MEMORY.value)
    finally:
        send.close()
