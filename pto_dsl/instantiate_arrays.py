"""Instantiation of task-id arrays and fatal reports (part of the instantiation stage).

An array is a list in the frame: None for an element no task was assigned (the runtime's
invalid id), else the task. Bounds and unassigned elements fail here with the case's
values (E172, E185); a fatal report that a case reaches fails it (E186).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

from pto_dsl import ir

if TYPE_CHECKING:
    from pto_dsl.instantiate import Eval, Frame, Instantiator, Run

# (frame) -> [(producer, index of the dep item)]
DepsOf = Callable[["Frame"], list[tuple[int, int]]]


def compile_decl(s: ir.TaskArrayDecl) -> Run:
    slot, length = s.var.slot, s.length

    def declare(f: Frame) -> None:
        f[slot] = [None] * length
    return declare


def compile_copy(inst: Instantiator, s: ir.CopyTaskId) -> Run:
    """`ids[i] = t`: the element holds t's task (None, an invalid id, for `none`). The task
    keeps the element it was submitted into, if any, for messages."""
    slot, name, index, span = s.array.slot, s.array.name, inst.expr(s.index), s.index.span
    value = inst.expr(s.value)

    def copy(f: Frame) -> None:
        i = index(f)
        array = f[slot]
        check_index(inst, name, len(array), i, span)
        array[i] = value(f)
    return copy


def compile_fatal(inst: Instantiator, s: ir.FatalStmt) -> Run:
    def fatal(f: Frame) -> None:
        inst.fail("E186", f"this case reaches a fatal report: the runtime stops with code "
                  f"{s.number} ({s.code}): {s.message}", s.span,
                  help=("the orchestration reports the error and returns; the tasks "
                        "submitted before it have run or are abandoned",))
    return fatal


def element_store(inst: Instantiator, s: ir.Submit,
                  mark: bool = True) -> Callable[[Frame], Callable[[Any], None]]:
    """For `ids[i] = K(...)`: checks the index before the submission and returns the store
    of the new task; with `mark`, the task (a graph Task) records its element for
    messages."""
    assert s.target is not None and s.index is not None
    slot, name, index, span = s.target.slot, s.target.name, inst.expr(s.index), s.index.span

    def at(f: Frame) -> Callable[[Any], None]:
        i = index(f)
        array = f[slot]
        check_index(inst, name, len(array), i, span)

        def store(task: Any) -> None:
            array[i] = task
            if mark:
                task.element = (name, i)
        return store
    return at


def check_index(inst: Instantiator, name: str, length: int, i: int, span: Any) -> None:
    if not 0 <= i < length:
        inst.fail("E172", f"index {i} is out of bounds for '{name}', an array of {length} "
                  f"task ids (0 .. {length - 1})", span)


def elements_of(inst: Instantiator, d: ir.Dep) -> Callable[[Frame], list[tuple[int, Any]]]:
    """The (index, value) pairs a dep item on a task-id array names, bounds checked."""
    slot, name = d.var.slot, d.var.name
    sel = d.elements
    if isinstance(sel, ir.SliceIR):
        lo = inst.expr(sel.lo) if sel.lo is not None else None
        hi = inst.expr(sel.hi) if sel.hi is not None else None
        span = sel.span

        def sliced(f: Frame) -> list[tuple[int, Any]]:
            array = f[slot]
            a = lo(f) if lo is not None else 0
            b = hi(f) if hi is not None else len(array)
            if not 0 <= a <= b <= len(array):
                inst.fail("E172", f"the slice {a}:{b} is out of bounds for '{name}', an "
                          f"array of {len(array)} task ids", span)
            return list(enumerate(array[a:b], a))
        return sliced
    if sel is not None:
        index, ispan = inst.expr(sel), sel.span

        def one(f: Frame) -> list[tuple[int, Any]]:
            array, i = f[slot], index(f)
            check_index(inst, name, len(array), i, ispan)
            return [(i, array[i])]
        return one
    return lambda f: list(enumerate(f[slot]))


def compile_deps(inst: Instantiator, deps: tuple[ir.Dep, ...], task_id: Callable[[Any], int],
                 invalid: Callable[[ir.Dep, int], int] | None = None) -> DepsOf | None:
    """The explicit deps of a clause that names a task-id array (None if none does): every
    element named must hold a task. An element that holds none is E185 (an invalid id
    stops the runtime), or the id `invalid` gives for it (the simulator's runtime model
    stops by itself)."""
    if not any(d.array for d in deps):
        return None
    plan: list[tuple[Eval | None, Callable[[Frame], list[tuple[int, Any]]], ir.Dep]] = []
    for d in deps:
        guard = inst.expr(d.guard) if d.guard is not None else None
        if d.array:
            plan.append((guard, elements_of(inst, d), d))
        else:
            plan.append((guard, _single(d.var.slot), d))

    def explicit(f: Frame) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        for item, (guard, values, d) in enumerate(plan):
            if guard is not None and not guard(f):
                continue
            for i, task in values(f):
                if task is not None:
                    out.append((task_id(task), item))
                elif d.array:
                    if invalid is None:
                        unassigned(inst, d, i)
                    out.append((invalid(d, i), item))
        return out
    return explicit


def _single(slot: int) -> Callable[[Frame], list[tuple[int, Any]]]:
    return lambda f: [(-1, f[slot])]


def unassigned(inst: Instantiator, d: ir.Dep, i: int) -> NoReturn:
    inst.fail("E185", f"dep on element {i} of '{d.var.name}', which no task was assigned "
              "to: the runtime stops with fatal error 5 (INVALID_ARGS), an invalid task id",
              d.span, help=("assign every element the dep names first, or name only the "
                            f"assigned part with a slice ('dep {d.var.name}[:n]')",))
