"""Helpers for the large passes (instantiation, graph checks)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause cyclic garbage collection for a burst of allocations that stay alive.

    A task graph is hundreds of thousands of acyclic objects: collector passes over them
    cost a third or more of a large pass and can free nothing.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
