"""Run-time values of instantiation: tensor descriptors and fanin bookkeeping."""

from __future__ import annotations

from typing import NamedTuple, Protocol

from pto_dsl.graph import Buffer, Origin, Origins, add_origin
from pto_dsl.regions import Region


class Tensor(Protocol):
    """What a tensor value offers: a runtime descriptor's buffer, region and manual_dep.

    A task output is used as it is (its `Access`), other values are `TensorVal`s.
    """

    @property
    def buffer(self) -> Buffer: ...

    @property
    def region(self) -> Region: ...

    @property
    def manual_dep(self) -> bool: ...


class TensorVal(NamedTuple):
    """A tensor descriptor: a buffer, the box of it seen (in some layout), manual_dep."""

    buffer: Buffer
    region: Region
    manual_dep: bool


def add_fanin(fanin: dict[int, Origins], producer: int, origin: Origin) -> None:
    """Record one more reason for an edge; the runtime keeps one edge per producer."""
    fanin[producer] = add_origin(fanin.get(producer, ()), origin)
