"""Decoding the recorder trace's fields that need a type: scalar arguments (by the C++ type
they were added with, or by the kernel parameter that reads them), and the dep clauses the
graph checks name (one positional dep per slot of a C++ call site's deps).
"""

from __future__ import annotations

import struct

import numpy as np

from pto_dsl import ir
from pto_dsl.graph import TaskGraph


def scalar_value(kind: str, size: int, bits: int) -> int | float:
    """A scalar argument's value from its zero-extended bits and C++ type."""
    if kind == "f" and size == 4:
        return float(struct.unpack("<f", struct.pack("<I", bits & 0xFFFFFFFF))[0])
    if kind == "f":
        return float(struct.unpack("<d", struct.pack("<Q", bits))[0])
    if kind == "i":
        width = 8 * size
        bits &= (1 << width) - 1
        return bits - (1 << width) if bits >> (width - 1) else bits
    return bits


_TYPED = {"f32": ("f", 4), "f64": ("f", 8), "i8": ("i", 1), "i16": ("i", 2), "i32": ("i", 4),
          "i64": ("i", 8), "u8": ("u", 1), "u16": ("u", 2), "u32": ("u", 4), "u64": ("u", 8),
          "bool": ("u", 1)}


def typed_value(bits: int, type_name: str) -> int | float:
    """The value a kernel's `type_name` parameter reads from a 64-bit slot."""
    if type_name in ("f16", "bf16"):  # as the cases hold them: the float value
        half = np.array([bits & 0xFFFF], dtype=np.uint16)
        if type_name == "f16":
            return float(half.view(np.float16)[0])
        return float((half.astype(np.uint32) << 16).view(np.float32)[0])
    kind, size = _TYPED[type_name]
    value = scalar_value(kind, size, bits & ((1 << (8 * size)) - 1))
    return int(value != 0) if type_name == "bool" else value


def dep_clauses(program: ir.Program, graph: TaskGraph) -> tuple[ir.Stmt, ...]:
    """A submission per site whose deps are the positions of its C++ deps array, so that the
    checks that name a dep (W302, W303) can: 'explicit dep 0' is the array's first id."""
    counts: dict[int, int] = {}
    for task in graph.tasks():
        if task.dep_items:
            counts[task.site] = max(counts.get(task.site, 0), max(task.dep_items) + 1)
    body: list[ir.Stmt] = []
    for site in program.sites:
        deps = tuple(ir.Dep(ir.Var(f"explicit dep {i}", 0, ir.TaskTy(frozenset(), True),
                                   site.span), None, site.span)
                     for i in range(counts.get(site.id, 0)))
        body.append(ir.Submit(site, (), deps, None, site.span))
    return tuple(body)
