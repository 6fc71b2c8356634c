"""Checking a run's outputs against a golden: a Python function that computes the whole
program's expected outputs from its inputs, independently of the kernels.

The golden is `--golden FILE.py:FUNCTION`, or by default the function named like the
entry in `golden.py` next to the program. It receives a dict of the entry's tensors (as
the run used them), scalars and shape symbols, and returns a dict of output tensors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from pto_dsl.diagnostics import CompileError, Note, Stage, error
from pto_dsl.sim.frames import user_frames
from pto_dsl.sim.kernels import load_module
from pto_dsl.source import Span

RTOL = ATOL = 1e-3  # the reference's tolerance (runtime-model.md)


class OutputCheck(NamedTuple):
    name: str
    max_error: float
    passed: bool
    note: str = ""


def find_golden(spec: str | None, base_dir: Path,
                entry: str) -> Callable[[dict[str, Any]], Any] | None:
    """The golden function, None if there is none by default; E505 if one named fails."""
    if spec is None:
        if not (base_dir / "golden.py").is_file():
            return None
        spec = f"golden.py:{entry}"
        default = True
    else:
        default = False
    target, _, func = spec.rpartition(":")
    try:
        fn = getattr(load_module(target, base_dir if default else Path.cwd()), func, None)
    except (Exception, SystemExit) as exc:
        raise _error(f"cannot load the golden '{spec}': {type(exc).__name__}: {exc}") from None
    if fn is None and default:
        return None
    if not callable(fn):
        raise _error(f"the golden '{spec}' is not a function")
    return fn  # type: ignore[no-any-return]


def run_golden(fn: Callable[[dict[str, Any]], Any], inputs: dict[str, Any],
               traceback: bool = False, where: Span | None = None) -> dict[str, Any]:
    """`where`: the output tensor the golden computes (the entry's first output)."""
    try:
        result = fn(dict(inputs))
    except (Exception, SystemExit) as exc:  # the user's golden: report, never a traceback
        notes = [n for n in (_raised_at(exc, fn),) if n is not None]
        raise _error(f"the golden failed: {type(exc).__name__}: {exc}", where,
                     notes + (list(user_frames(exc)) if traceback else [])) from None
    if not isinstance(result, dict):
        raise _error("a golden must return a dict of output names to arrays", where,
                     [n for n in (_defined_at(fn),) if n is not None])
    return result


def _defined_at(fn: Callable[..., Any]) -> Note | None:
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    return Note(f"the golden is '{fn.__name__}' at {code.co_filename}:{code.co_firstlineno}")


def _raised_at(exc: BaseException, fn: Callable[..., Any]) -> Note | None:
    """Where in the golden's file the exception was raised (its last frame there)."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == code.co_filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    if line is None:
        return _defined_at(fn)
    return Note(f"raised in the golden '{fn.__name__}' at {code.co_filename}:{line}")


def compare(actual: dict[str, np.ndarray], expected: dict[str, Any],
            where: Span | None = None) -> list[OutputCheck]:
    checks: list[OutputCheck] = []
    for name in actual:
        if name not in expected:
            continue
        got = np.asarray(actual[name], dtype=np.float64)
        want = np.asarray(expected[name], dtype=np.float64)
        if got.shape != want.shape:
            checks.append(OutputCheck(name, float("inf"), False,
                                      f"the golden has shape {list(want.shape)}, the output "
                                      f"{list(got.shape)}"))
            continue
        diff = np.abs(got - want)
        worst = float(np.nanmax(diff)) if diff.size and not np.isnan(diff).all() else 0.0
        finite = bool(np.isfinite(got).all() or np.array_equal(np.isnan(got), np.isnan(want)))
        if np.isnan(diff).any() and not finite:
            worst = float("nan")
        ok = bool(np.allclose(got, want, rtol=RTOL, atol=ATOL, equal_nan=True))
        checks.append(OutputCheck(name, worst, ok))
    unknown = sorted(set(expected) - set(actual))
    if unknown:
        raise _error(f"the golden returns {', '.join(unknown)}, which the entry does not "
                     f"write (outputs: {', '.join(actual) or 'none'})", where)
    return checks


def _error(message: str, where: Span | None = None,
           notes: Sequence[Note] = ()) -> CompileError:
    return CompileError([error("E505", message, where, notes=notes, stage=Stage.SIMULATION,
                               help=("a golden is a function (inputs: dict) -> dict of "
                                     "output name to array",))])
