"""Structured program IR: resolved names, typed expressions, kernels bound to calls.

Produced by `lower` from the AST; loops, scopes and data-dependent reads stay as they
are written (the C++ backend lowers this, `instantiate` interprets it on a case).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Union

from pto_dsl import nodes
from pto_dsl.source import Span
from pto_dsl.types import FLOAT_TYPES

# ---- types -------------------------------------------------------------------


@dataclass(frozen=True)
class ScalarTy:
    kind: str  # int / float / bool

    def __str__(self) -> str:
        return self.kind


INT = ScalarTy("int")
FLOAT = ScalarTy("float")
BOOL = ScalarTy("bool")
# The type of an expression that already has an error: compatible with everything, so one
# mistake gives one diagnostic. It never survives a successful lowering.
ERR = ScalarTy("error")


def scalar_ty(type_name: str) -> ScalarTy:
    """The value type of a declared scalar type (f32 -> float, i32 -> int, ...)."""
    if type_name in FLOAT_TYPES:
        return FLOAT
    return BOOL if type_name == "bool" else INT


@dataclass(frozen=True)
class TensorTy:
    dtype: str
    rank: int
    writable: bool  # an `out`/`inout` entry tensor or a runtime-allocated one

    def __str__(self) -> str:
        return f"{self.dtype} tensor of rank {self.rank}"


@dataclass(frozen=True)
class TaskTy:
    """A task value (or `none`): the submission sites it may come from."""

    sites: frozenset[int]
    maybe_none: bool

    def __str__(self) -> str:
        return "task" if self.sites else "none"


@dataclass(frozen=True)
class ListTy:
    length: int

    def __str__(self) -> str:
        return "list"


@dataclass(frozen=True)
class TaskArrayTy:
    """An array of task ids (`tasks[N]`) of a fixed length."""

    length: int

    def __str__(self) -> str:
        return f"an array of {self.length} task ids"


Ty = Union[ScalarTy, TensorTy, TaskTy, ListTy, TaskArrayTy]


class Tag(enum.Enum):
    """How a tensor argument is handed to the runtime (runtime-model.md)."""

    INPUT = "INPUT"
    OUTPUT = "OUTPUT"  # runtime-allocated (`new`)
    OUTPUT_EXISTING = "OUTPUT_EXISTING"
    INOUT = "INOUT"


# ---- declarations ------------------------------------------------------------


@dataclass(eq=False)
class Var:
    name: str
    slot: int
    ty: Ty
    span: Span
    task_var: bool = False  # holds task values / none: may be reassigned
    # an int or a tensor declared by `let`: may be reassigned a value of its type
    mutable: bool = False


@dataclass(frozen=True)
class KTensorParam:
    name: str
    direction: str
    dtype: str | None
    dims: tuple[str | int, ...] | None  # symbols are kernel-local; "_" matches anything
    span: Span


@dataclass(frozen=True)
class KScalarParam:
    name: str
    type: str
    span: Span


KParam = Union[KTensorParam, KScalarParam]


@dataclass(frozen=True)
class Kernel:
    name: str
    core: str  # aic / aiv / mix
    func_ids: tuple[tuple[str, int], ...]
    params: tuple[KParam, ...]
    impl: nodes.StringLit | None
    cost: nodes.Expr | None
    span: Span

    @property
    def tensor_params(self) -> tuple[KTensorParam, ...]:
        return tuple(p for p in self.params if isinstance(p, KTensorParam))

    @property
    def scalar_params(self) -> tuple[KScalarParam, ...]:
        return tuple(p for p in self.params if isinstance(p, KScalarParam))

    @property
    def func_id(self) -> int:
        return self.func_ids[0][1]

    @property
    def shape(self) -> str:
        """The resource shape the runtime dispatches it as: aic, aiv, mix (several slots), or
        dummy (no slot: a dependency-only task)."""
        if not self.func_ids:
            return "dummy"
        if len(self.func_ids) > 1:
            return "mix"
        return "aic" if self.func_ids[0][0] == "aic" else "aiv"


@dataclass(frozen=True)
class EntryTensor:
    name: str
    direction: str
    dtype: str
    dims: tuple[str | int, ...]
    var: Var
    span: Span


@dataclass(frozen=True)
class EntryScalar:
    name: str
    type: str
    var: Var
    span: Span


@dataclass(eq=False)
class ScopeDecl:
    """A lexical `scope` block; `depth` 1 is the outermost user scope (ring 1)."""

    id: int
    manual: bool
    depth: int
    parent: ScopeDecl | None
    span: Span
    infer: bool = False  # `scope manual infer`: deps derived by pto_dsl.infer

    @property
    def mode(self) -> str:
        return "manual" if self.manual else "auto"


@dataclass(eq=False)
class Site:
    """A submission site: one kernel call (or `alloc`) in the program text."""

    id: int
    kernel: Kernel | None  # None for alloc
    outputs: tuple[tuple[str, TensorTy], ...]
    scope: ScopeDecl | None
    loop_vars: tuple[Var, ...]
    span: Span
    # The task variables visible at the submission and the sites whose tasks they may hold
    # there (from the flow-sensitive lowering): which name reaches which earlier task.
    reaching: dict[str, frozenset[int]] = field(default_factory=dict)
    task_vars: dict[str, Var] = field(default_factory=dict)  # those variables by name

    @property
    def label(self) -> str:
        return self.kernel.name if self.kernel else "alloc"


# ---- expressions ---------------------------------------------------------------


@dataclass(frozen=True)
class Const:
    value: int | float | bool | None
    ty: Ty
    span: Span


@dataclass(frozen=True)
class Load:
    var: Var
    ty: Ty
    span: Span


@dataclass(frozen=True)
class Binary:
    op: str  # + - * / % and or == != < <= > >= min max cdiv
    left: Expr
    right: Expr
    ty: Ty
    span: Span


@dataclass(frozen=True)
class UnaryOp:
    op: str  # - not
    operand: Expr
    ty: Ty
    span: Span


@dataclass(frozen=True)
class ElementRead:
    """An orchestration-side read of tensor contents (`get_tensor_data`, runtime-model.md)."""

    tensor: Expr
    indices: tuple[Expr, ...]
    ty: Ty
    span: Span


@dataclass(frozen=True)
class SliceIR:
    lo: Expr | None
    hi: Expr | None
    span: Span


@dataclass(frozen=True)
class View:
    tensor: Expr
    slices: tuple[SliceIR, ...]
    ty: Ty
    span: Span


@dataclass(frozen=True)
class Reshape:
    tensor: Expr
    dims: tuple[Expr, ...]
    ty: Ty
    span: Span


@dataclass(frozen=True)
class ManualDep:
    """`manual_dep(t)`: the runtime's manual_dep=true flag on a tensor view."""

    tensor: Expr
    ty: Ty
    span: Span


@dataclass(frozen=True)
class OutputOf:
    task: Expr
    name: str
    ty: Ty
    span: Span


@dataclass(frozen=True)
class CoreCount:
    """`available_cluster_count()` / `available_aiv_count()`: a core count of the machine
    the program runs on (the current runtime's rt_available_*_count)."""

    kind: str  # "cluster" or "aiv"
    ty: Ty
    span: Span


Expr = Union[Const, Load, Binary, UnaryOp, ElementRead, View, Reshape, ManualDep, OutputOf,
             CoreCount]


# ---- statements ----------------------------------------------------------------


@dataclass(frozen=True)
class TensorArg:
    param: KTensorParam
    tag: Tag
    tensor: Expr
    span: Span


@dataclass(frozen=True)
class NewArg:
    param: KTensorParam
    dtype: str
    dims: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True)
class ScalarArg:
    param: KScalarParam
    value: Expr
    span: Span


Arg = Union[TensorArg, NewArg, ScalarArg]


@dataclass(frozen=True)
class Dep:
    var: Var
    guard: Expr | None
    span: Span
    inferred: bool = False  # written by pto_dsl.infer, not by the user
    # of a task-id array: one element (an index), a slice, or None for all of them
    elements: Expr | SliceIR | None = None

    @property
    def array(self) -> bool:
        return isinstance(self.var.ty, TaskArrayTy)

    @property
    def most_ids(self) -> int:
        """The most task ids the item can add: 1, or what its slice of the array can hold."""
        ty = self.var.ty
        if not isinstance(ty, TaskArrayTy):
            return 1
        sel = self.elements
        if sel is None:
            return ty.length
        if not isinstance(sel, SliceIR):
            return 1
        lo, hi = _const_int(sel.lo, 0), _const_int(sel.hi, ty.length)
        if lo is not None and hi is not None:
            return max(0, min(hi, ty.length) - max(lo, 0))
        return ty.length - max(lo or 0, 0) if hi is None else min(hi, ty.length)

    @property
    def label(self) -> str:
        """The dep as written, without its guard: `prev`, `ids`, `ids[i]`, `ids[:n]`."""
        if self.elements is None:
            return self.var.name
        text = self.span.source.text[self.span.start:self.span.end]
        return re.split(r"\bwhen\b", text)[0].strip()


@dataclass(frozen=True)
class Launch:
    """An SPMD launch: the block count (an integer expression) and require_sync_start."""

    blocks: Expr
    sync: bool
    span: Span


@dataclass(frozen=True)
class Submit:
    site: Site
    args: tuple[Arg, ...]
    deps: tuple[Dep, ...]
    target: Var | None
    span: Span
    launch: Launch | None = None  # None: one block, no sync start
    index: Expr | None = None  # `target[index] = ...`: the element of a task-id array
    early: Span | None = None  # set_allow_early_resolve (the word's span): consumers may
    # be staged on cores while it runs
    predicate: Predicate | None = None  # set_predicate: dispatched only if it holds


@dataclass(frozen=True)
class AllocItemIR:
    name: str
    dtype: str
    dims: tuple[Expr, ...]
    span: Span
    init: Expr | None = None  # the initial value of every element (set_initial_value)


@dataclass(frozen=True)
class AllocStmt:
    site: Site
    items: tuple[AllocItemIR, ...]
    target: Var | None
    span: Span


@dataclass(frozen=True)
class LetStmt:
    var: Var
    value: Expr
    span: Span


@dataclass(frozen=True)
class AssignStmt:
    var: Var
    value: Expr
    span: Span


@dataclass(frozen=True)
class ForStmt:
    var: Var
    start: Expr
    stop: Expr
    step: Expr | None
    body: tuple[Stmt, ...]
    span: Span


@dataclass(frozen=True)
class IfStmt:
    cond: Expr
    then: tuple[Stmt, ...]
    orelse: tuple[Stmt, ...]
    span: Span


@dataclass(frozen=True)
class ScopeStmt:
    scope: ScopeDecl
    body: tuple[Stmt, ...]
    span: Span


@dataclass(frozen=True)
class SetElement:
    """`t[i, ...] = v`: an orchestration-side write of one element (`set_tensor_data`,
    runtime-model.md); `value` has the element's value type."""

    tensor: Expr
    indices: tuple[Expr, ...]
    value: Expr
    span: Span


@dataclass(frozen=True)
class TaskArrayDecl:
    """`let ids = tasks[N]`: N task ids, none assigned yet (invalid ids)."""

    var: Var
    length: int
    span: Span


@dataclass(frozen=True)
class FatalStmt:
    """`fatal CODE "message"`: the runtime's fatal report; the entry returns."""

    code: str
    number: int
    message: str
    span: Span


@dataclass(frozen=True)
class Predicate:
    """A dispatch predicate: one element of a tensor (`tensor[indices]`, read by the
    scheduler when the task is ready, never by the orchestration) compared with an
    integer; the op is one of == != > < >= <=."""

    tensor: Expr
    indices: tuple[Expr, ...]
    op: str
    target: Expr
    span: Span


@dataclass(frozen=True)
class CopyTaskId:
    """`ids[i] = t`: element i of a task-id array takes the task t holds (or none)."""

    array: Var
    index: Expr
    value: Expr  # a Load of a task variable, or Const(None)
    span: Span


Stmt = Union[LetStmt, AssignStmt, Submit, AllocStmt, ForStmt, IfStmt, ScopeStmt,
             TaskArrayDecl, FatalStmt, SetElement, CopyTaskId]



def walk_stmts(stmts: tuple[Stmt, ...]) -> Iterator[Stmt]:
    """Every statement of a body, nested ones after the statement that holds them."""
    for s in stmts:
        yield s
        if isinstance(s, (ForStmt, ScopeStmt)):
            yield from walk_stmts(s.body)
        elif isinstance(s, IfStmt):
            yield from walk_stmts(s.then)
            yield from walk_stmts(s.orelse)


def own_exprs(s: Stmt, inferred_guards: bool = True) -> Iterator[Expr]:
    """The expressions a statement evaluates itself, not those of nested statements; for a
    submission its arguments, block count and dep guards (the guards of inferred deps only
    with `inferred_guards`; the deps' task variables are the caller's business)."""
    if isinstance(s, (LetStmt, AssignStmt)):
        yield s.value
    elif isinstance(s, Submit):
        for a in s.args:
            if isinstance(a, TensorArg):
                yield a.tensor
            elif isinstance(a, NewArg):
                yield from a.dims
            else:
                yield a.value
        if s.launch is not None:
            yield s.launch.blocks
        if s.index is not None:
            yield s.index
        if s.predicate is not None:
            yield s.predicate.tensor
            yield from s.predicate.indices
            yield s.predicate.target
        yield from (d.guard for d in s.deps
                    if d.guard is not None and (inferred_guards or not d.inferred))
        yield from dep_element_exprs(s.deps)
    elif isinstance(s, AllocStmt):
        for item in s.items:
            yield from item.dims
            if item.init is not None:
                yield item.init
    elif isinstance(s, ForStmt):
        yield from (e for e in (s.start, s.stop, s.step) if e is not None)
    elif isinstance(s, IfStmt):
        yield s.cond
    elif isinstance(s, SetElement):
        yield s.tensor
        yield from s.indices
        yield s.value
    elif isinstance(s, CopyTaskId):
        yield s.index
        yield s.value


def _const_int(e: Expr | None, default: int) -> int | None:
    if e is None:
        return default
    if isinstance(e, Const) and type(e.value) is int:
        return e.value
    return None


def dep_element_exprs(deps: tuple[Dep, ...]) -> Iterator[Expr]:
    """The index and slice bounds that task-id array deps evaluate."""
    for d in deps:
        if isinstance(d.elements, SliceIR):
            yield from (e for e in (d.elements.lo, d.elements.hi) if e is not None)
        elif d.elements is not None:
            yield d.elements


@dataclass
class Program:
    name: str
    kernels: dict[str, Kernel]
    tensors: tuple[EntryTensor, ...]
    scalars: tuple[EntryScalar, ...]
    symbols: dict[str, Var]
    body: tuple[Stmt, ...]
    cases: tuple[nodes.Case, ...]
    sites: list[Site] = field(default_factory=list)
    scopes: list[ScopeDecl] = field(default_factory=list)
    slot_count: int = 0
    span: Span | None = None
    extern: bool = False  # an `extern entry`: declared here, its body is C++
