"""Cases: concrete values for an entry's shape symbols, scalars and tensor contents.

A case is written in the program (`case NAME { B = 2, context_lens = [33, 17] }`) or
comes from a Python generator (`case NAME from "gen.py:make"`). Tensor contents are
produced lazily and seeded per tensor, so only the tensors a pass reads are made; bf16
contents are uint16 bit patterns (pto_dsl.bf16), generated in chunks.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import numbers
import operator
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pto_dsl import ir
from pto_dsl import nodes as n
from pto_dsl.case_contents import FLOAT_MAX, NP_DTYPES, contents_array, int_bounds
from pto_dsl.diagnostics import CompileError, DiagnosticSink, Note, Stage, error
from pto_dsl.files import note_read
from pto_dsl.source import Span
from pto_dsl.types import FLOAT_TYPES, MAX_DIM

if TYPE_CHECKING:
    import numpy as np

_NP_DTYPES = NP_DTYPES

Maker = Callable[[tuple[int, ...], str, "np.random.Generator"], "np.ndarray"]


@dataclass
class CaseValues:
    name: str
    seed: int
    symbols: dict[str, int]
    scalars: dict[str, int | float | bool]
    _makers: dict[str, Maker] = field(default_factory=dict)
    _made: dict[str, np.ndarray] = field(default_factory=dict)
    _shapes: dict[str, tuple[tuple[int, ...], str]] = field(default_factory=dict)
    _spans: dict[str, Span] = field(default_factory=dict)

    def shape(self, tensor: str) -> tuple[int, ...]:
        return self._shapes[tensor][0]

    def contents(self, tensor: str) -> np.ndarray:
        """The tensor's contents (made on first use, reproducibly)."""
        made = self._made.get(tensor)
        if made is not None:
            return made
        import numpy as np

        shape, dtype = self._shapes[tensor]
        rng = np.random.default_rng([self.seed, zlib.crc32(tensor.encode())])
        maker = self._makers.get(tensor, _zeros)
        try:
            made = maker(shape, dtype, rng)
            if dtype == "bf16" and made.dtype != np.uint16:
                from pto_dsl import bf16

                made = bf16.to_bits(made)
        except (MemoryError, ValueError) as exc:  # e.g. a shape too large to hold
            raise CompileError([error(
                "E162", f"the contents of '{tensor}' (shape {list(shape)}) cannot be made: "
                f"{exc}", self._spans.get(tensor), stage=Stage.CASE)]) from None
        self._made[tensor] = made
        return made

    def take(self, tensor: str) -> np.ndarray:
        """The contents, no longer kept here: the caller owns the only copy."""
        made = self.contents(tensor)
        del self._made[tensor]
        return made

    def element(self, tensor: str, index: tuple[int, ...]) -> int | float | bool:
        contents = self.contents(tensor)
        if self._shapes[tensor][1] == "bf16":
            from pto_dsl import bf16

            return float(bf16.to_float32(contents[index]))
        return contents.item(index)  # type: ignore[no-any-return]


def _zeros(shape: tuple[int, ...], dtype: str, rng: np.random.Generator) -> np.ndarray:
    import numpy as np
    return np.zeros(shape, dtype=_NP_DTYPES[dtype])


def case_names(program: ir.Program) -> list[str]:
    return [c.name.name for c in program.cases]


def default_case(program: ir.Program) -> n.Case | None:
    marked = [c for c in program.cases if c.default]
    return marked[0] if marked else (program.cases[0] if program.cases else None)


def check_cases(program: ir.Program, sink: DiagnosticSink) -> None:
    """Static checks of case declarations: unique names, one default, known items."""
    seen: dict[str, Span] = {}
    defaults = [c for c in program.cases if c.default]
    for extra in defaults[1:]:
        sink.add(error("E161", "only one case can be the default", extra.name.span,
                       notes=[Note("the default case", defaults[0].name.span)],
                       stage=Stage.CASE))
    known = _known_names(program)
    for case in program.cases:
        if case.name.name in seen:
            sink.add(error("E102", f"case '{case.name.name}' is already defined",
                           case.name.span, notes=[Note("previous definition",
                                                       seen[case.name.name])],
                           stage=Stage.CASE))
        seen[case.name.name] = case.name.span
        items: dict[str, Span] = {}
        for item in case.items:
            if item.name.name not in known:
                sink.add(error("E160", f"case item '{item.name.name}' is not a shape symbol, "
                               "scalar or tensor of the entry", item.name.span,
                               help=(f"the entry's names are: {', '.join(known)}",),
                               stage=Stage.CASE))
            elif item.name.name in items:
                sink.add(error("E102", f"'{item.name.name}' is given twice", item.name.span,
                               notes=[Note("first given here", items[item.name.name])],
                               stage=Stage.CASE))
            items[item.name.name] = item.name.span


def _known_names(program: ir.Program) -> list[str]:
    return (list(program.symbols) + [s.name for s in program.scalars]
            + [t.name for t in program.tensors])


def evaluate(program: ir.Program, case: n.Case, base_dir: Path) -> CaseValues:
    """Evaluate one case; raises CompileError with located problems."""
    sink = DiagnosticSink()
    if case.generator is not None:
        raw = _run_generator(case, base_dir, sink)
    else:
        raw = _evaluate_items(program, case, sink)
    sink.raise_if_errors()
    values = _bind(program, case, raw, sink)
    sink.raise_if_errors()
    return values


def _evaluate_items(program: ir.Program, case: n.Case,
                    sink: DiagnosticSink) -> dict[str, tuple[object, Span]]:
    env: dict[str, object] = {}
    raw: dict[str, tuple[object, Span]] = {}
    tensors = {t.name for t in program.tensors}
    for item in case.items:
        try:
            value = _eval(item.value, env, allow_gen=item.name.name in tensors)
        except _CaseError as exc:
            sink.add(error("E162", exc.message, exc.span, stage=Stage.CASE))
            continue
        env[item.name.name] = value
        raw[item.name.name] = (value, item.value.span)
    return raw


class _CaseError(Exception):
    def __init__(self, message: str, span: Span) -> None:
        super().__init__(message)
        self.message, self.span = message, span


@dataclass(frozen=True)
class _Gen:
    kind: str
    args: tuple[float, ...]


def _eval(e: n.Expr, env: dict[str, object], allow_gen: bool = False) -> object:
    if isinstance(e, (n.IntLit, n.FloatLit, n.BoolLit)):
        return e.value
    if isinstance(e, n.Name):
        if e.name not in env:
            raise _CaseError(f"'{e.name}' has no value yet in this case", e.span)
        return env[e.name]
    if isinstance(e, n.ListLit):
        return [_eval(i, env) for i in e.items]
    if isinstance(e, n.Unary) and e.op == "-":
        v = _eval(e.operand, env)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return -v
    elif isinstance(e, n.BinOp) and e.op in "+-*/%":
        a, b = _eval(e.left, env), _eval(e.right, env)
        if _num(a) and _num(b):
            return _arith(e.op, a, b, e.span)  # type: ignore[arg-type]
    elif isinstance(e, n.Call):
        args = [_eval(a, env) for a in e.args]
        return _call(e, args, allow_gen)
    raise _CaseError("a case value is a number, a list, or uniform(lo, hi), randint(lo, hi), "
                     "zeros() or fill(v)", e.span)


def _num(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


_ARITH: dict[str, Callable[[float, float], float]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "%": operator.mod}


def _arith(op: str, a: float, b: float, span: Span) -> float:
    if op in "/%" and b == 0:
        raise _CaseError("division by zero", span)
    if op in "/%" and isinstance(a, int) and isinstance(b, int):
        # as in the program body (C++): truncate toward zero, exactly
        q = abs(a) // abs(b)
        q = -q if (a < 0) != (b < 0) else q
        return q if op == "/" else a - q * b
    try:
        return _ARITH[op](a, b)
    except OverflowError:  # an integer too large to mix with a float
        raise _CaseError("this value is too large", span) from None


def _call(e: n.Call, args: list[object], allow_gen: bool) -> object:
    name = e.func.name
    if name == "cdiv":
        a, b = (args + [None, None])[:2]
        if len(args) != 2 or not isinstance(a, int) or not isinstance(b, int) \
                or isinstance(a, bool) or isinstance(b, bool):
            raise _CaseError("'cdiv' takes 2 integers", e.span)
        if b == 0:
            raise _CaseError("division by zero", e.span)
        return -(-a // b)
    if name in ("min", "max"):
        if len(args) < 2 or not all(_num(a) for a in args):
            raise _CaseError(f"'{name}' takes 2 or more numbers", e.span)
        return (min if name == "min" else max)(args)  # type: ignore[type-var]
    arity = {"uniform": 2, "randint": 2, "zeros": 0, "fill": 1}
    if name in arity:
        if not allow_gen:
            raise _CaseError(f"'{name}(...)' gives tensor contents; use it for a tensor",
                             e.span)
        if len(args) != arity[name] or not all(_num(a) for a in args):
            raise _CaseError(f"'{name}' takes {arity[name]} number(s)", e.span)
        try:
            return _Gen(name, tuple(float(a) for a in args))  # type: ignore[arg-type]
        except OverflowError:
            raise _CaseError(f"the arguments of '{name}' are too large", e.span) from None
    raise _CaseError(f"unknown function '{name}' in a case", e.func.span)


def _run_generator(case: n.Case, base_dir: Path,
                   sink: DiagnosticSink) -> dict[str, tuple[object, Span]]:
    assert case.generator is not None and case.generator_span is not None
    span = case.generator_span
    target, _, func_name = case.generator.rpartition(":")
    if not target or not func_name:
        sink.add(error("E163", "a case generator is written \"file.py:function\" or "
                       "\"package.module:function\"", span, stage=Stage.CASE))
        return {}
    try:
        if target.endswith(".py"):
            path = (base_dir / target).resolve()
            spec = importlib.util.spec_from_file_location(f"pto_case_{path.stem}", path)
            if spec is None or spec.loader is None or not path.is_file():
                sink.add(error("E163", f"case generator file '{target}' not found", span,
                               help=("the path is relative to the directory of the .pto "
                                     "file",), stage=Stage.CASE))
                return {}
            note_read(path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(target)
        note_read(getattr(module, "__file__", None))
        result = getattr(module, func_name)()
    except (Exception, SystemExit) as exc:  # the user's generator: report, never a traceback
        sink.add(error("E163", f"case generator failed: {type(exc).__name__}: {exc}", span,
                       stage=Stage.CASE))
        return {}
    if not isinstance(result, dict):
        sink.add(error("E163", "a case generator must return a dict of names to values",
                       span, stage=Stage.CASE))
        return {}
    return {str(k): (v, span) for k, v in result.items()}


def _bind(program: ir.Program, case: n.Case, raw: dict[str, tuple[object, Span]],
          sink: DiagnosticSink) -> CaseValues:
    symbols: dict[str, int] = {}
    scalars: dict[str, int | float | bool] = {}
    for name in program.symbols:
        if name not in raw:
            sink.add(error("E161", f"case '{case.name.name}' gives no value for shape symbol "
                           f"'{name}'", case.name.span, stage=Stage.CASE))
            continue
        value, span = raw[name]
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or int(value) < 0:
            sink.add(error("E162", f"shape symbol '{name}' needs a non-negative integer",
                           span, stage=Stage.CASE))
            continue
        value = int(value)
        if value > MAX_DIM:
            sink.add(error("E162", f"shape symbol '{name}' is {value}; the runtime's shapes are "
                           f"uint32 (at most {MAX_DIM})", span, stage=Stage.CASE))
            continue
        symbols[name] = int(value)
    for s in program.scalars:
        if s.name not in raw:
            sink.add(error("E161", f"case '{case.name.name}' gives no value for scalar "
                           f"'{s.name}'", case.name.span, stage=Stage.CASE))
            continue
        value, span = raw[s.name]
        problem = _scalar_problem(s.type, value)
        if problem is not None:
            sink.add(error("E162", f"scalar '{s.name}' {problem}", span, stage=Stage.CASE))
            continue
        want = s.var.ty
        scalars[s.name] = float(value) if want == ir.FLOAT else (  # type: ignore[arg-type]
            bool(value) if want == ir.BOOL else int(value))  # type: ignore[call-overload]
    known = set(_known_names(program))
    for name, (_, span) in raw.items():
        if name not in known and case.generator is not None:
            sink.add(error("E160", f"the generator gives '{name}', which the entry does not "
                           "have", span, stage=Stage.CASE))
    values = CaseValues(case.name.name, case.seed or 0, symbols, scalars)
    if sink.has_errors:
        return values
    for t in program.tensors:
        shape = tuple(d if isinstance(d, int) else symbols[d] for d in t.dims)
        values._shapes[t.name] = (shape, t.dtype)
        values._spans[t.name] = t.span
        if t.name in raw:
            maker = _maker(t, shape, raw[t.name], sink)
            if maker is not None:
                values._makers[t.name] = maker
    return values


def _maker(t: ir.EntryTensor, shape: tuple[int, ...], given: tuple[object, Span],
           sink: DiagnosticSink) -> Maker | None:
    value, span = given
    if isinstance(value, _Gen):
        gen = value
        problem = _generator_problem(gen, t.dtype)
        if problem is not None:
            sink.add(error("E162", f"contents of '{t.name}': {problem}", span, stage=Stage.CASE))
            return None
        return lambda shp, dt, rng: _generate(gen, shp, dt, rng)
    arr, problem = contents_array(value, t.dtype, shape)
    if problem is not None:
        sink.add(error("E162", f"contents of '{t.name}' {problem}", span, stage=Stage.CASE))
        return None
    assert arr is not None
    fixed = arr.reshape(shape)
    return lambda shp, dt, rng: fixed


def _scalar_problem(type_name: str, value: object) -> str | None:
    """Why `value` cannot be a scalar of this type (None: it can)."""
    np = sys.modules.get("numpy")  # a generator's NumPy scalars (none unless NumPy is loaded)
    if np is not None and isinstance(value, np.generic):
        value = value.item()
    if not isinstance(value, (int, float)):
        return "needs a number"
    if isinstance(value, int) and abs(value) > 2**64:
        return "is too large"
    if type_name in _NP_DTYPES and type_name not in FLOAT_TYPES and type_name != "bool":
        if isinstance(value, float) and not value.is_integer():
            return f"is {type_name}, so it needs an integer, not {value}"
        lo, hi = int_bounds(_NP_DTYPES[type_name])
        if not lo <= value <= hi:
            return f"is {type_name}: {value} is outside [{lo}, {hi}]"
    return None


def _generator_problem(gen: _Gen, dtype: str) -> str | None:
    """Why a generator cannot fill a tensor of `dtype` (None: it can)."""
    if not all(math.isfinite(a) for a in gen.args):
        return f"'{gen.kind}' needs finite numbers"
    name = _NP_DTYPES[dtype]
    if name in FLOAT_MAX:
        lo, hi = -FLOAT_MAX[name], FLOAT_MAX[name]
    elif name == "bool":
        lo, hi = 0.0, 1.0
    else:
        lo, hi = (float(b) for b in int_bounds(name))
    values = gen.args
    if gen.kind == "randint":
        if not gen.args[0] < gen.args[1]:
            return "randint(lo, hi) needs lo < hi (hi is excluded)"
        values = (gen.args[0], gen.args[1] - 1)
    if not all(lo <= v <= hi for v in values):
        return f"'{gen.kind}' gives values outside the range of {dtype}"
    if gen.kind == "uniform" and not math.isfinite(gen.args[1] - gen.args[0]):
        return "the range of 'uniform' is too wide"
    return None


def _generate(gen: _Gen, shape: tuple[int, ...], dtype: str,
              rng: np.random.Generator) -> np.ndarray:
    import numpy as np
    np_dtype = _NP_DTYPES[dtype]
    if gen.kind == "uniform":
        return _uniform(gen.args[0], gen.args[1], shape, dtype, rng)
    if gen.kind == "randint":
        return rng.integers(int(gen.args[0]), int(gen.args[1]), size=shape).astype(np_dtype)
    if gen.kind == "fill":
        return np.full(shape, gen.args[0], dtype=np_dtype)
    return np.zeros(shape, dtype=np_dtype)


_CHUNK = 1 << 16  # values generated at a time: no float64 copy of a whole large tensor


def _uniform(lo: float, hi: float, shape: tuple[int, ...], dtype: str,
             rng: np.random.Generator) -> np.ndarray:
    """The values of one rng.uniform call over the whole shape, made chunk by chunk (the
    stream does not depend on the chunking); bf16 as bit patterns."""
    import numpy as np

    from pto_dsl import bf16

    out: np.ndarray = np.empty(shape, dtype=np.uint16 if dtype == "bf16" else _NP_DTYPES[dtype])
    flat = out.reshape(-1)
    buffer = np.empty(min(_CHUNK, flat.size))
    for start in range(0, flat.size, _CHUNK):
        chunk = buffer[:min(_CHUNK, flat.size - start)]
        rng.random(out=chunk)  # what uniform computes: lo + (hi - lo) * random()
        chunk *= hi - lo
        chunk += lo
        flat[start:start + chunk.size] = bf16.to_bits(chunk) if dtype == "bf16" else chunk
    return out


def find_case(program: ir.Program, name: str | None) -> n.Case:
    """The named case (or the default one); raises CompileError if there is none."""
    case = default_case(program) if name is None else next(
        (c for c in program.cases if c.name.name == name), None)
    if case is None:
        names = ", ".join(case_names(program)) or "none"
        what = f"no case named '{name}'" if name else "this program declares no case"
        raise CompileError([error("E164", what, None, help=(f"cases in this file: {names}",),
                                  stage=Stage.CASE)])
    return case
