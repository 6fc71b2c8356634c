"""Progress of long stages on standard error, shared by every tool.

On a terminal a progress bar (stage, count, rate, ETA when the total is known) drawn by
tqdm, shown only once a stage has run for a second; when standard error is not a terminal
a plain line when a stage turns long and one when it ends; nothing with --quiet. Quick
stages print nothing in any mode, so short runs (and the documented transcripts) stay quiet.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Literal, TextIO

Mode = Literal["bar", "lines", "off"]
Update = Callable[[int], None]  # called with the count done so far
LONG_S = 1.0  # a stage that runs longer than this is shown
REFRESH_S = 0.25  # the bar is redrawn at most this often


def choose(quiet: bool, stream: TextIO | None = None) -> Mode:
    """The mode for a tool run: off with --quiet, a bar on a terminal, lines otherwise."""
    if quiet:
        return "off"
    stream = stream or sys.stderr
    return "bar" if stream.isatty() else "lines"


class Progress:
    def __init__(self, prog: str, mode: Mode, stream: TextIO | None = None) -> None:
        self.prog, self.mode = prog, mode
        self.stream = stream

    @contextlib.contextmanager
    def stage(self, name: str, total: int | None = None,
              unit: str = "task") -> Iterator[Update]:
        """A stage of the run; the body calls the yielded function with its count."""
        stream = self.stream or sys.stderr
        if self.mode == "off":
            yield _ignore
        elif self.mode == "bar":
            with _bar(f"{self.prog}: {name}", total, unit, stream) as update:
                yield update
        else:
            lines = _Lines(f"{self.prog}: {name}", total, unit, stream)
            yield lines.update
            lines.end()


QUIET = Progress("", "off")


def _ignore(done: int) -> None:
    pass


@contextlib.contextmanager
def _bar(desc: str, total: int | None, unit: str, stream: TextIO) -> Iterator[Update]:
    from tqdm import tqdm  # imported only when a bar may be drawn

    sized = _width(stream) > 0  # a terminal that reports no size (a bare pty) gets 80
    bar = tqdm(total=total, desc=desc, unit=f" {unit}s", leave=False, file=stream,
               delay=LONG_S, mininterval=REFRESH_S, miniters=1, dynamic_ncols=sized,
               ncols=None if sized else 80, nrows=None if sized else 24)

    def update(done: int) -> None:
        bar.update(done - bar.n)
    try:
        yield update
    finally:
        bar.close()


def _width(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError, io.UnsupportedOperation):
        return 0


class _Lines:
    """A line when the stage turns long, and one when it ends (only if it was long)."""

    def __init__(self, desc: str, total: int | None, unit: str, stream: TextIO) -> None:
        self.desc, self.total, self.unit, self.stream = desc, total, unit, stream
        self.started = time.perf_counter()
        self.done = 0
        self.shown = False

    def update(self, done: int) -> None:
        self.done = done
        if not self.shown and time.perf_counter() - self.started > LONG_S:
            self.shown = True
            of = f" of {self.total}" if self.total is not None else ""
            self._say(f"{self.desc}: {done}{of} {self.unit}s so far...")

    def end(self) -> None:
        if self.shown or time.perf_counter() - self.started > LONG_S:
            elapsed = time.perf_counter() - self.started
            rate = f", {self.done / elapsed:,.0f} {self.unit}s/s" if elapsed > 0 else ""
            self._say(f"{self.desc}: {self.done} {self.unit}s in {elapsed:.1f} s{rate}")

    def _say(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()
