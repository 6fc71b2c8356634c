"""Helpers for the large passes (instantiation, graph checks)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

_freeze = False  # a one-shot process: see one_shot()


def one_shot() -> None:
    """Declare this process a one-shot tool run (the console scripts, not the language
    server): the objects a paused burst made are then frozen when it ends (`gc.freeze`),
    so the collector never walks them. Without that, the first collection after a burst
    walks everything the burst made (a fifth of a full check's time), and each later full
    collection again. Refcounting still frees frozen objects; only a cycle among them would
    live until the process ends, which for one run is no loss."""
    global _freeze
    _freeze = True


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause cyclic garbage collection for a burst of allocations that stay alive.

    A task graph is hundreds of thousands of acyclic objects: collector passes over them
    cost a third or more of a large pass and can free nothing. When the burst ends its
    objects go straight to the oldest generation (`gc.freeze` then `gc.unfreeze`, which
    walks nothing), as a one-shot run freezes them: otherwise the first young collection
    after the burst walks all of them (a tenth of a full check) only to promote them.
    Unlike frozen objects, they are still walked by the next full collection, so a
    long-running process (the language server) frees any cycle among them as before.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            if not _freeze:
                gc.unfreeze()  # into the oldest generation: no young collection walks them
            gc.enable()
