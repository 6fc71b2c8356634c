"""The view model of one generated orchestration file: every name, C++ type and statement
resolved, in order. Built by `cpp_lower`; the templates only lay it out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from .dialect_table import CppDialect


@dataclass(frozen=True)
class Code:
    """Plain statements: declarations of values, views, task ids, assignments."""

    origin: str  # "file.pto:LINE" of the statement they come from
    lines: tuple[str, ...]
    kind: str = "code"


@dataclass(frozen=True)
class TensorAdd:
    method: str  # add_input / add_output / add_inout
    value: str


@dataclass(frozen=True)
class DepView:
    task_id: str
    condition: str | None  # the `when` guard and/or the validity check; None: always
    inferred: bool = False  # derived by `scope manual infer`, not written in the program
    # all or a slice of a task-id array: (start pointer, count, first, stop, loop variable)
    run: tuple[str, str, str, str, str] | None = None
    capacity: int = 1  # the most task ids it adds


@dataclass(frozen=True)
class SubmitView:
    origin: str
    setup: tuple[str, ...]  # views and create-infos the arguments need, declared first
    args_name: str
    tensors: tuple[TensorAdd, ...]
    deps: tuple[DepView, ...]
    deps_name: str  # caller-owned dependency array (current dialect)
    deps_count_name: str
    scalars: tuple[str, ...]
    kernels_name: str | None  # a MixedKernels variable for mix kernels
    kernel_slots: tuple[tuple[str, str], ...]  # (MixedKernels field, kernel constant)
    call: str
    # "let": TaskOutputTensors target; "declare" (or "declare_unused", never read): a
    # PTO2TaskId target; "assign": target = id; "none"
    binding: str
    target: str | None
    kind: str = "submit"
    launch: tuple[str, ...] = ()  # launch_spec calls (SPMD block count, sync start)

    @property
    def conditional_deps(self) -> bool:
        return any(d.condition is not None or d.run is not None for d in self.deps)

    @property
    def single_run(self) -> DepView | None:
        """The one unguarded dep on all or a slice of a task-id array, passed as it is."""
        if len(self.deps) == 1 and self.deps[0].run is not None \
                and self.deps[0].condition is None:
            return self.deps[0]
        return None

    @property
    def deps_capacity(self) -> int:
        return sum(d.capacity for d in self.deps)

    @property
    def inferred_deps(self) -> int:
        return sum(d.inferred for d in self.deps)


@dataclass(frozen=True)
class LoopView:
    var: str
    start: str
    bounds: tuple[tuple[str, str], ...]  # (name, value): bounds computed once, at the start
    stop: str
    step: str | None  # None: 1


@dataclass(frozen=True)
class BlockView:
    """A `for`, `if` or `scope` block."""

    kind: str  # for / if / scope
    origin: str
    setup: tuple[str, ...]
    loop: LoopView | None  # for
    condition: str  # if
    scope_mode: str  # scope: "" (AUTO) or "PTO2ScopeMode::MANUAL"
    body: tuple[Node, ...]
    orelse: tuple[Node, ...]
    else_if: bool  # the else branch is one `if` written as `else if`


Node = Union[Code, SubmitView, BlockView]


@dataclass(frozen=True)
class KernelConst:
    name: str  # C++ constant holding the func_id
    func_id: int
    comment: str


@dataclass(frozen=True)
class FileView:
    banner: tuple[str, ...]
    dialect: CppDialect
    api_header: str
    kernels: tuple[KernelConst, ...]
    # generator helpers the body uses: cdiv, div, mod, read, scalar_bits
    helpers: frozenset[str]
    expected_arg_count: int
    args_name: str
    prologue: tuple[Node, ...]
    body: tuple[Node, ...]
