"""Expressions of the structured program as C++ text (part of the C++ backend).

Scalars become `int64_t` / `double` / `bool` expressions; tensor expressions become named
descriptor variables (views and reshapes need lvalues and named shape arrays), declared
in the `setup` lines of the statement that uses them. Nothing here knows about statements.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pto_dsl import ir
from pto_dsl.diagnostics import Diagnostic, Stage, error
from pto_dsl.source import Span
from pto_dsl.types import DTYPE_INFO

from .cpp_fold import static_compare
from .dialect_table import CppDialect

# C++ types of kernel and entry scalar parameters; f16/bf16 have none in C++17 (E401).
SCALAR_CPP = {"f32": "float", "f64": "double", "i8": "int8_t", "i16": "int16_t",
              "i32": "int32_t", "i64": "int64_t", "u8": "uint8_t", "u16": "uint16_t",
              "u32": "uint32_t", "u64": "uint64_t", "bool": "bool"}
# The type `get_tensor_data<T>` reinterprets an element as (runtime-model.md); bool
# elements are one byte.
ELEMENT_CPP = {**{k: v for k, v in SCALAR_CPP.items() if k in DTYPE_INFO}, "bool": "uint8_t"}
VALUE_CPP = {"int": "int64_t", "float": "double", "bool": "bool"}

_OPS = {"and": "&&", "or": "||"}


def _words(text: str) -> list[str]:
    return text.split()


_KEYWORDS = frozenset(_words("""
alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t
char16_t char32_t class compl concept const consteval constexpr constinit const_cast
continue co_await co_return co_yield decltype default delete do double dynamic_cast else
enum explicit export extern false float for friend goto if inline int long mutable
namespace new noexcept not not_eq nullptr operator or or_eq private protected public
register reinterpret_cast requires return short signed sizeof static static_assert
static_cast struct switch template this thread_local throw true try typedef typeid
typename union unsigned using virtual void volatile wchar_t while xor xor_eq"""))
# Names the generated file or the runtime's header use at namespace scope.
_API_NAMES = frozenset(_words("""
Arg CoreTaskArgs ChipTensor Tensor TensorCreateInfo TaskOutputTensors PTO2TaskId
PTO2ScopeMode PTO2ScopeGuard MixedKernels DataType ContinuousTensor ChipStorageTaskArgs
ChipTaskArgs PTO2OrchestrationConfig alloc_tensors make_tensor_external get_tensor_data
set_tensor_data std orch_args config main pto_cdiv pto_read pto_write pto_scalar_bits int8_t
int16_t int32_t int64_t uint8_t uint16_t uint32_t uint64_t size_t"""))


class Namer:
    """C++ names: user names kept where legal, generated names made unique by counters."""

    def __init__(self, user_names: set[str]) -> None:
        self.used = set(user_names) | _KEYWORDS | _API_NAMES
        self.of_var: dict[int, str] = {}

    def var(self, var: ir.Var) -> str:
        name = self.of_var.get(id(var))
        if name is None:
            legal = var.name not in _KEYWORDS and var.name not in _API_NAMES \
                and "__" not in var.name and not var.name.startswith("_")
            name = var.name if legal else self.fresh(var.name.strip("_") + "_v")
            self.of_var[id(var)] = name
        return name

    def fresh(self, base: str) -> str:
        name, n = base, 1
        while name in self.used:
            n += 1
            name = f"{base}_{n}"
        self.used.add(name)
        return name


@dataclass
class TensorInfo:
    name: str
    dims: tuple[str, ...]


@dataclass
class TaskInfo:
    name: str
    result: bool  # a TaskOutputTensors (single submission) rather than a PTO2TaskId
    site: ir.Site | None = None
    maybe_none: bool = False


@dataclass
class Ctx:
    """State shared by the expression and statement lowering of one program."""

    dialect: CppDialect
    namer: Namer
    file: str
    tensors: dict[int, TensorInfo] = field(default_factory=dict)
    tasks: dict[int, TaskInfo] = field(default_factory=dict)
    outputs: dict[tuple[int, str], tuple[int, tuple[str, ...]]] = field(default_factory=dict)
    setup: list[str] = field(default_factory=list)
    helpers: set[str] = field(default_factory=set)
    errors: list[Diagnostic] = field(default_factory=list)

    def origin(self, span: Span) -> str:
        return f"{self.file}:{span.line}"

    def take_setup(self) -> tuple[str, ...]:
        lines, self.setup = tuple(self.setup), []
        return lines

    def fail(self, code: str, message: str, span: Span, hint: str) -> str:
        self.errors.append(error(code, message, span, help=(hint,), stage=Stage.UNSUPPORTED))
        return "0"


# ---- scalars -------------------------------------------------------------------------


def scalar(ctx: Ctx, e: ir.Expr) -> str:
    """A C++ expression for a scalar value, without outer parentheses."""
    text = _scalar(ctx, e)
    return text[1:-1] if text.startswith("(") and _balanced(text[1:-1]) else text


def _scalar(ctx: Ctx, e: ir.Expr) -> str:
    if isinstance(e, ir.Const):
        return _const(e)
    if isinstance(e, ir.Load):
        return ctx.namer.var(e.var)
    if isinstance(e, ir.UnaryOp):
        return f"({'!' if e.op == 'not' else '-'}{_scalar(ctx, e.operand)})"
    if isinstance(e, ir.Binary):
        return _binary(ctx, e)
    if isinstance(e, ir.ElementRead):
        return _read(ctx, e)
    if isinstance(e, ir.CoreCount):
        return _core_count(ctx, e)
    raise AssertionError(f"not a scalar expression: {type(e).__name__}")


def _const(e: ir.Const) -> str:
    if isinstance(e.value, bool):
        return "true" if e.value else "false"
    if isinstance(e.value, float):
        text = repr(e.value)
        return text if any(c in text for c in ".en") else text + ".0"
    return str(e.value)


def _binary(ctx: Ctx, e: ir.Binary) -> str:
    folded = static_compare(e)
    if folded is not None:
        return "true" if folded else "false"
    left, right = _scalar(ctx, e.left), _scalar(ctx, e.right)
    if e.op in ("min", "max"):
        return f"std::{e.op}<{VALUE_CPP[str(e.ty)]}>({_strip(left)}, {_strip(right)})"
    if e.op == "cdiv":
        ctx.helpers.add("cdiv")
        return f"pto_cdiv({_strip(left)}, {_strip(right)})"
    if e.op in ("/", "%") and _integers(e) and not _nonzero_literal(right):
        # A divisor the compiler may fold to zero (`n - 2` with `let n = 2`) in a branch
        # that never runs must not warn (-Wdiv-by-zero): divide in a helper instead.
        helper = "div" if e.op == "/" else "mod"
        ctx.helpers.add(helper)
        return f"pto_{helper}({_strip(left)}, {_strip(right)})"
    # `/` and `%` on two int64_t truncate toward zero like the language's integers; with a
    # float operand C++ divides exactly, as the language does.
    return f"({left} {_OPS.get(e.op, e.op)} {right})"


def _integers(e: ir.Binary) -> bool:
    return e.left.ty == ir.INT and e.right.ty == ir.INT


def _nonzero_literal(text: str) -> bool:
    return text.isdigit() and int(text) != 0


def _read(ctx: Ctx, e: ir.ElementRead) -> str:
    assert isinstance(e.tensor.ty, ir.TensorTy)
    dtype = e.tensor.ty.dtype
    element = ELEMENT_CPP.get(dtype)
    if element is None:
        return ctx.fail("E403", f"pto-compile cannot read a {dtype} element in the "
                        "orchestration", e.span, "C++17 has no type for this dtype; read an "
                        "integer or f32 tensor, or pass the value as an entry scalar")
    ctx.helpers.add("read")
    t = tensor(ctx, e.tensor, "read")
    indices = ", ".join(scalar(ctx, i) for i in e.indices)
    value = "double" if e.ty == ir.FLOAT else "int64_t"
    # converted inside the helper: a compiler that sees the element type's range warns on
    # comparisons with values outside it (-Wtype-limits)
    return f"pto_read<{value}, {element}>({t.name}, {indices})"


def _core_count(ctx: Ctx, e: ir.CoreCount) -> str:
    form = ctx.dialect.core_count
    if form is None:
        return ctx.fail("E406", f"the {ctx.dialect.name} runtime API cannot tell the "
                        f"available {e.kind} count", e.span,
                        "rt_available_cluster_count() and rt_available_aiv_count() are in "
                        "the current dialect only; in v0, pass the count as an entry scalar")
    return f"static_cast<int64_t>({form.format(kind=e.kind)})"


def write(ctx: Ctx, s: ir.SetElement) -> str:
    """`set_tensor_data` of one element, through the `pto_write` helper (the value is
    converted to the element type there)."""
    assert isinstance(s.tensor.ty, ir.TensorTy)
    dtype = s.tensor.ty.dtype
    element = ELEMENT_CPP.get(dtype)
    if element is None:
        return ctx.fail("E403", f"pto-compile cannot write a {dtype} element in the "
                        "orchestration", s.span, "C++17 has no type for this dtype; write "
                        "an integer or f32 tensor")
    ctx.helpers.add("write")
    t = tensor(ctx, s.tensor, "write")
    indices = ", ".join(scalar(ctx, i) for i in s.indices)
    return f"pto_write<{element}>({t.name}, {scalar(ctx, s.value)}, {indices});"


def initial_value(ctx: Ctx, create_info: str, dtype: str, value: ir.Expr) -> str:
    """`set_initial_value` of a create-info, in the element's own type."""
    element = ELEMENT_CPP.get(dtype)
    if element is None:
        return ctx.fail("E403", f"pto-compile cannot give a {dtype} buffer an initial value",
                        value.span, "C++17 has no type for this dtype; use an integer or f32 "
                        "buffer")
    return f"{create_info}.set_initial_value(static_cast<{element}>({scalar(ctx, value)}));"


def _strip(text: str) -> str:
    return text[1:-1] if text.startswith("(") and _balanced(text[1:-1]) else text


def _balanced(text: str) -> bool:
    depth = 0
    for c in text:
        depth += (c == "(") - (c == ")")
        if depth < 0:
            return False
    return depth == 0


def u32(ctx: Ctx, text: str) -> str:
    """An element of a uint32_t shape, offset or index array."""
    return text if text.isdigit() and int(text) < 2**32 else f"static_cast<uint32_t>({text})"


# ---- tensors -------------------------------------------------------------------------


def tensor(ctx: Ctx, e: ir.Expr, hint: str, manual: bool = False,
           name: str | None = None) -> TensorInfo:
    """A named descriptor for a tensor expression, declaring views/reshapes in ctx.setup;
    `name` is the exact name of the outermost new descriptor (a `let`), else one from hint."""
    if isinstance(e, ir.ManualDep):
        return tensor(ctx, e.tensor, hint, True, name)
    if isinstance(e, ir.View):
        return _view(ctx, e, hint, manual, name)
    if isinstance(e, ir.Reshape):
        base = tensor(ctx, e.tensor, hint)
        dims = tuple(scalar(ctx, d) for d in e.dims)
        return _declare(ctx, hint, base.name, "reshape", dims, None, manual, name)
    found = _named(ctx, e)
    if manual:  # flag the whole tensor: a full view with manual_dep (runtime-model.md)
        return _declare(ctx, hint, found.name, "view", found.dims, ("0",) * len(found.dims),
                        True, name)
    return found


def _named(ctx: Ctx, e: ir.Expr) -> TensorInfo:
    if isinstance(e, ir.Load):
        return ctx.tensors[id(e.var)]
    assert isinstance(e, ir.OutputOf) and isinstance(e.task, ir.Load), e
    task = ctx.tasks[id(e.task.var)]
    if not task.result or task.site is None:
        ctx.fail("E402", f"pto-compile cannot use the outputs of '{e.task.var.name}': it is "
                 "reassigned or copied", e.span, "bind the task that makes this output with "
                 "its own `let` and use that name")
        return TensorInfo("0", ())
    index, dims = ctx.outputs[(task.site.id, e.name)]
    return TensorInfo(f"{task.name}.get_ref({index})", dims)


def _view(ctx: Ctx, e: ir.View, hint: str, manual: bool, name: str | None) -> TensorInfo:
    base = tensor(ctx, e.tensor, hint)
    shapes: list[str] = []
    offsets: list[str] = []
    for size, s in zip(base.dims, e.slices):
        lo = scalar(ctx, s.lo) if s.lo is not None else "0"
        hi = scalar(ctx, s.hi) if s.hi is not None else size
        offsets.append(lo)
        if lo == "0":
            shapes.append(hi)
        elif (isinstance(s.hi, ir.Binary) and s.hi.op == "+"
              and scalar(ctx, s.hi.left) == lo):  # `lo : lo + n` is n long
            shapes.append(scalar(ctx, s.hi.right))
        else:
            shapes.append(f"{_paren(hi)} - {_paren(lo)}")
    return _declare(ctx, hint, base.name, "view", tuple(shapes), tuple(offsets), manual, name)


def _paren(text: str) -> str:
    simple = text.replace("_", "").replace(".", "").isalnum()
    return text if simple else f"({text})"


def _declare(ctx: Ctx, hint: str, base: str, op: str, dims: tuple[str, ...],
             offsets: tuple[str, ...] | None, manual: bool, name: str | None = None
             ) -> TensorInfo:
    name = name or ctx.namer.fresh(hint)
    shapes = ctx.namer.fresh(f"{name}_shapes")
    ctx.setup.append(f"uint32_t {shapes}[{len(dims)}] = {{{_list(ctx, dims)}}};")
    flag = ", true" if manual else ""
    if offsets is not None:
        offs = ctx.namer.fresh(f"{name}_offsets")
        ctx.setup.append(f"uint32_t {offs}[{len(offsets)}] = {{{_list(ctx, offsets)}}};")
        call = f"{base}.view({shapes}, {offs}{flag})"
    else:
        call = f"{base}.reshape({shapes}, {len(dims)}{flag})"
    ctx.setup.append(f"{ctx.dialect.tensor_type} {name} = {call};")
    return TensorInfo(name, dims)


def declare_named(ctx: Ctx, e: ir.Expr, name: str) -> TensorInfo:
    """Declare a `let` tensor under its own name (views/reshapes) or as a reference."""
    if isinstance(e, (ir.View, ir.Reshape, ir.ManualDep)):
        return tensor(ctx, e, name, name=name)
    found = _named(ctx, e)
    ctx.setup.append(f"const {ctx.dialect.tensor_type} &{name} = {found.name};")
    return TensorInfo(name, found.dims)


def declare_variable(ctx: Ctx, e: ir.Expr, name: str, rank: int) -> TensorInfo:
    """A `let` tensor that is reassigned later: a descriptor of its own (a copy) whose sizes
    are read from it, since they may change with the tensor it holds."""
    found = tensor(ctx, e, name)
    ctx.setup.append(f"{ctx.dialect.tensor_type} {name} = {found.name};")
    return TensorInfo(name, tuple(f"{name}.shapes[{k}]" for k in range(rank)))


def _list(ctx: Ctx, items: tuple[str, ...]) -> str:
    return ", ".join(u32(ctx, i) for i in items)
