"""`--inputs FILE.npz` and `--save FILE.npz`: a run's entry tensors and scalars from a
file instead of the case's generator, and everything a run used and produced to a file.

Arrays are named as the entry's parameters; a saved file also holds each output as
`output.NAME`, which `--inputs` skips, so a saved file can be run again.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from pto_dsl import cases, ir
from pto_dsl.diagnostics import CompileError, Diagnostic, Stage, error
from pto_dsl.files import note_read, write_atomic
from pto_dsl.sim.memory import NP_DTYPES

OUTPUT_PREFIX = "output."


def load_inputs(path: Path, program: ir.Program, values: cases.CaseValues) -> dict[str, Any]:
    """The file's tensors and scalars, checked against the entry and the case's shapes."""
    note_read(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            raw = {k: data[k] for k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise CompileError([error("E510", f"cannot read --inputs file '{path}': {exc}", None,
                                  stage=Stage.SIMULATION,
                                  help=("give a .npz file written by numpy.savez or by "
                                        "pto-run --save",))]) from None
    found: dict[str, Any] = {}
    problems: list[Diagnostic] = []
    for t in program.tensors:
        if t.name not in raw:
            if t.direction != "out":
                problems.append(_missing(path, t.name, "tensor", t.span))
            continue
        arr, shape = raw[t.name], values.shape(t.name)
        problem = _tensor_problem(arr, shape, t.dtype)
        if problem:
            problems.append(error("E512", f"'{t.name}' in '{path}' {problem}", t.span,
                                  stage=Stage.SIMULATION))
        else:
            found[t.name] = arr.astype(NP_DTYPES[t.dtype])
    for s in program.scalars:
        if s.name not in raw:
            problems.append(_missing(path, s.name, "scalar", s.span))
        elif raw[s.name].shape != ():
            problems.append(error("E512", f"scalar '{s.name}' in '{path}' has shape "
                                  f"{list(raw[s.name].shape)}; a scalar is a 0-d array", s.span,
                                  stage=Stage.SIMULATION))
        else:
            found[s.name] = raw[s.name].item()
    known = {t.name for t in program.tensors} | {s.name for s in program.scalars}
    for name in sorted(raw):
        if name not in known and not name.startswith(OUTPUT_PREFIX):
            problems.append(error("E513", f"'{path}' has '{name}', which is not a tensor or "
                                  f"scalar of entry '{program.name}'", program.span,
                                  stage=Stage.SIMULATION,
                                  help=(f"the entry's parameters: {', '.join(sorted(known))}",)))
    if problems:
        raise CompileError(problems)
    return found


def _missing(path: Path, name: str, what: str, span: Any) -> Diagnostic:
    return error("E511", f"--inputs file '{path}' has no {what} '{name}'", span,
                 stage=Stage.SIMULATION, help=("name each array as the entry's parameter",))


def _tensor_problem(arr: np.ndarray, shape: tuple[int, ...], dtype: str) -> str | None:
    if arr.shape != shape:
        return f"has shape {list(arr.shape)}; the case gives it shape {list(shape)}"
    want = np.dtype(NP_DTYPES[dtype])
    if arr.dtype.kind not in "biuf":
        return f"has dtype {arr.dtype}, not numbers"
    if want.kind in "iub" and arr.dtype.kind == "f":
        return f"has dtype {arr.dtype}; {dtype} needs integers"
    return None


def save(path: Path, program: ir.Program, inputs: dict[str, Any],
         outputs: dict[str, np.ndarray]) -> None:
    """Inputs (entry tensors and scalars as used) and outputs, written atomically."""
    arrays: dict[str, np.ndarray] = {}
    for t in program.tensors:
        arrays[t.name] = np.asarray(inputs[t.name])
    for s in program.scalars:
        arrays[s.name] = np.asarray(inputs[s.name])
    for name, data in outputs.items():
        arrays[OUTPUT_PREFIX + name] = np.asarray(data)
    write_atomic(path, lambda f: np.savez(f, **arrays))  # type: ignore[arg-type]
