"""A recorder of what the runtime model decides: every submitted task and every fanin
edge with its origins, in submission order ids (as the static task graph numbers tasks).

Edges to producers that had already retired (the runtime skips them, runtime-model.md) are
kept apart. This grows with the run: it is for tests and tools, not the model itself.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Protocol


class Recorder(Protocol):
    """Observes what the runtime decides (for tests and stats; not part of the runtime)."""

    def submitted(self, seq: int, task_id: int, tag: object) -> None: ...

    def edge(self, consumer: int, producer: int, origin: str) -> None: ...

    def skipped(self, consumer: int, producer_id: int, origin: str) -> None: ...


class EdgeRecorder:
    def __init__(self) -> None:
        self.seq_of: dict[int, int] = {}  # raw task id -> submission order
        self.edges: dict[tuple[int, int], set[str]] = defaultdict(set)
        self.skipped_edges: dict[tuple[int, int], set[str]] = defaultdict(set)
        self.tasks = 0

    def submitted(self, seq: int, task_id: int, tag: object) -> None:
        self.seq_of[task_id] = seq
        self.tasks += 1

    def edge(self, consumer: int, producer: int, origin: str) -> None:
        self.edges[(producer, consumer)].add(origin)

    def skipped(self, consumer: int, producer_id: int, origin: str) -> None:
        self.skipped_edges[(self.seq_of[producer_id], consumer)].add(origin)

    def all_edges(self) -> dict[tuple[int, int], set[str]]:
        """Live and skipped edges together: the edges of a runtime whose producers never
        retire, which is what the static task graph describes."""
        merged: dict[tuple[int, int], set[str]] = defaultdict(set)
        for table in (self.edges, self.skipped_edges):
            for key, origins in table.items():
                merged[key] |= origins
        return dict(merged)
