"""AST node classes: what the parser read, with a `Span` on every node.

Produced by `build`, consumed by `lower`. Names are not resolved here and
nothing is typed; words such as core types and dtypes are already validated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from pto_dsl.source import Span


@dataclass(frozen=True)
class Ident:
    name: str
    span: Span


# ---- expressions -----------------------------------------------------------

@dataclass(frozen=True)
class Name:
    name: str
    span: Span


@dataclass(frozen=True)
class IntLit:
    value: int
    span: Span


@dataclass(frozen=True)
class FloatLit:
    value: float
    span: Span


@dataclass(frozen=True)
class BoolLit:
    value: bool
    span: Span


@dataclass(frozen=True)
class NoneLit:
    span: Span


@dataclass(frozen=True)
class BinOp:
    op: str  # + - * / % and or
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True)
class Compare:
    op: str  # == != < <= > >=
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True)
class Unary:
    op: str  # - not
    operand: Expr
    span: Span


@dataclass(frozen=True)
class Call:
    func: Ident
    args: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True)
class DummyArg:
    direction: str  # in / out / inout
    value: Expr
    span: Span


@dataclass(frozen=True)
class Dummy:
    """`dummy(DIR TENSOR, ...)`: a dependency-only task, run on no core."""

    args: tuple[DummyArg, ...]
    span: Span


@dataclass(frozen=True)
class Slice:
    lo: Expr | None
    hi: Expr | None
    span: Span


Subscript = Union["Expr", Slice]


@dataclass(frozen=True)
class Index:
    base: Expr
    subscripts: tuple[Subscript, ...]
    span: Span


@dataclass(frozen=True)
class Attr:
    base: Expr
    attr: Ident
    span: Span


@dataclass(frozen=True)
class NewTensor:
    dtype: str
    dims: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True)
class AllocItem:
    name: Ident
    dtype: str
    dims: tuple[Expr, ...]
    span: Span
    init: Expr | None = None  # `= v`: every element starts as v (set_initial_value)


@dataclass(frozen=True)
class Alloc:
    items: tuple[AllocItem, ...]
    span: Span


@dataclass(frozen=True)
class ListLit:
    items: tuple[Expr, ...]
    span: Span


Expr = Union[Name, IntLit, FloatLit, BoolLit, NoneLit, BinOp, Compare, Unary, Call, Index,
             Attr, NewTensor, Alloc, ListLit, Dummy, "TaskArray"]


# ---- statements ------------------------------------------------------------

@dataclass(frozen=True)
class DepItem:
    name: Ident
    guard: Expr | None
    span: Span
    elements: Expr | Slice | None = None  # `dep ids[i]` / `dep ids[a:b]` of a task-id array


@dataclass(frozen=True)
class Launch:
    """`blocks N [sync]` after a submission: an SPMD launch of N blocks."""

    blocks: Expr
    sync: bool
    span: Span


@dataclass(frozen=True)
class Dispatch:
    """`early` and/or `predicate ELEMENT OP N` after a submission (its dispatch settings)."""

    early: Span | None
    predicate: Expr | None
    span: Span


@dataclass(frozen=True)
class Let:
    name: Ident
    value: Expr
    deps: tuple[DepItem, ...] | None
    span: Span
    launch: Launch | None = None
    dispatch: Dispatch | None = None


@dataclass(frozen=True)
class Assign:
    name: Ident
    value: Expr
    deps: tuple[DepItem, ...] | None
    span: Span
    launch: Launch | None = None
    dispatch: Dispatch | None = None


@dataclass(frozen=True)
class ExprStmt:
    call: Call | Dummy
    deps: tuple[DepItem, ...] | None
    span: Span
    launch: Launch | None = None
    dispatch: Dispatch | None = None


@dataclass(frozen=True)
class For:
    var: Ident
    start: Expr
    stop: Expr
    step: Expr | None
    body: Block
    span: Span


@dataclass(frozen=True)
class If:
    cond: Expr
    then: Block
    orelse: Block | None
    span: Span


@dataclass(frozen=True)
class Scope:
    manual: bool
    body: Block
    span: Span
    infer: bool = False  # `scope manual infer`: the compiler writes the deps


# ---- task-id arrays, fatal reports and element writes ----------------------

@dataclass(frozen=True)
class TaskArray:
    """`tasks[N]`: an array of N task ids (the value of a `let`)."""

    length: Expr
    span: Span


@dataclass(frozen=True)
class ElementAssign:
    """`NAME[i, ...] = v`: submit into one element of a task-id array (`ids[i] = K(...)`),
    or write one element of a tensor (`t[i, j] = v`, set_tensor_data)."""

    name: Ident
    indices: tuple[Expr, ...]
    value: Expr
    deps: tuple[DepItem, ...] | None
    span: Span
    launch: Launch | None = None
    dispatch: Dispatch | None = None

    @property
    def index(self) -> Expr:
        """The one index of a task-id array element (the lowering checks there is one)."""
        return self.indices[0]


@dataclass(frozen=True)
class Fatal:
    """`fatal CODE "message"`: the runtime's fatal report, then the entry returns."""

    code: str
    code_span: Span
    message: str
    span: Span


Stmt = Union[Let, Assign, ExprStmt, For, If, Scope, ElementAssign, Fatal]


@dataclass(frozen=True)
class Block:
    stmts: tuple[Stmt, ...]
    span: Span


# ---- declarations ----------------------------------------------------------

@dataclass(frozen=True)
class TensorType:
    dtype: str | None  # None: any dtype (kernel parameters only)
    dims: tuple[Ident | IntLit, ...] | None  # None: any rank
    span: Span


@dataclass(frozen=True)
class TensorParam:
    direction: str  # in / out / inout
    name: Ident
    type: TensorType | None
    span: Span


@dataclass(frozen=True)
class ScalarParam:
    name: Ident
    type: str
    span: Span


Param = Union[TensorParam, ScalarParam]


@dataclass(frozen=True)
class StringLit:
    value: str
    span: Span


@dataclass(frozen=True)
class Kernel:
    name: Ident
    core: str  # aic / aiv / mix
    func_ids: tuple[tuple[str, int], ...]  # (slot, func_id): aic, aiv0, aiv1
    params: tuple[Param, ...]
    impl: StringLit | None
    cost: Expr | None
    span: Span


@dataclass(frozen=True)
class Entry:
    name: Ident
    params: tuple[Param, ...]
    body: Block
    span: Span
    extern: bool = False  # `extern entry`: a declaration only (the body is C++)


@dataclass(frozen=True)
class CaseItem:
    name: Ident
    value: Expr
    span: Span


@dataclass(frozen=True)
class Case:
    name: Ident
    default: bool
    seed: int | None
    items: tuple[CaseItem, ...]
    generator: str | None
    generator_span: Span | None
    span: Span


@dataclass(frozen=True)
class Program:
    kernels: tuple[Kernel, ...]
    entries: tuple[Entry, ...]
    cases: tuple[Case, ...]
    span: Span


# The orchestrator's fatal codes a `fatal` statement can report (the runtime's PTO2_ERROR_*
# without the prefix, in both dialects: 6 is retired at HEAD), with their numbers.
FATAL_CODES = {"SCOPE_DEADLOCK": 1, "HEAP_RING_DEADLOCK": 2, "FLOW_CONTROL_DEADLOCK": 3,
               "DEP_POOL_OVERFLOW": 4, "INVALID_ARGS": 5,
               "REQUIRE_SYNC_START_INVALID": 7, "TENSOR_WAIT_TIMEOUT": 8,
               "EXPLICIT_ORCH_FATAL": 9}
