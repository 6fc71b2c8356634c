"""The kernel registry of a run: each kernel's Python implementation (its `impl`
attribute) and its cost in core cycles (its `cost` attribute), keyed as the runtime keys
kernels, by func_ids (runtime-model.md).

An implementation is called with the kernel's arguments in declaration order: tensors as
numpy arrays shaped like the argument (write the outputs in place), scalars as numbers.
Once per task; or, if the function has a `block_idx` parameter, once per SPMD block, one
block after the other on the same arrays, with `block_idx` and `block_num` as keywords.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from pto_dsl import ir
from pto_dsl.costs import cost_function
from pto_dsl.diagnostics import CompileError, Stage, error
from pto_dsl.files import note_read
from pto_dsl.sim.api import MixedKernels
from pto_dsl.sim.frames import user_frames
from pto_dsl.sim.lowering import kernel_ids
from pto_dsl.sim.memory import KernelImpl, KernelRun, Scalar


def build_registry(program: ir.Program, base_dir: Path, numerics: bool,
                   default_cycles: float,
                   traceback: bool = False) -> dict[MixedKernels, KernelImpl]:
    """Raises CompileError (E503, E504) for kernels a numerics run cannot call; with
    `traceback`, an impl module that fails to import shows the user's frames."""
    used = {site.kernel.name for site in program.sites if site.kernel is not None}
    if numerics:
        _check_any_impl([k for k in program.kernels.values() if k.name in used])
    registry: dict[MixedKernels, KernelImpl] = {}
    problems = []
    for kernel in program.kernels.values():
        run: KernelRun | None = None
        if numerics and kernel.name in used:
            try:
                run = _runner(kernel, _load(kernel, base_dir, traceback))
            except CompileError as exc:
                problems.extend(exc.diagnostics)
        registry[kernel_ids(kernel).normalized()] = KernelImpl(
            kernel.name, run, cost_function(kernel, default_cycles))
    if problems:
        raise CompileError(problems)
    return registry


def _check_any_impl(kernels: list[ir.Kernel]) -> None:
    """A program none of whose submitted kernels has an impl is one E503, at the first
    kernel, not one per kernel (a model decoder declares dozens)."""
    if len(kernels) < 2 or any(k.impl is not None for k in kernels):
        return
    raise CompileError([error(
        "E503", f"none of the {len(kernels)} kernels this program submits has an impl, so "
        "pto-run cannot compute their results", kernels[0].span, stage=Stage.SIMULATION,
        help=("run with --no-numerics (graph and timing only), or add "
              "impl \"module:function\" to each kernel",))])


def _load(kernel: ir.Kernel, base_dir: Path, traceback: bool) -> Callable[..., Any]:
    if kernel.impl is None:
        raise CompileError([error(
            "E503", f"kernel '{kernel.name}' has no impl, so pto-run cannot compute its "
            "results", kernel.span, stage=Stage.SIMULATION,
            help=(f"add impl \"module:function\" to '{kernel.name}', or run with "
                  "--no-numerics",))])
    target, _, func = kernel.impl.value.rpartition(":")
    try:
        module = _module(target, base_dir)
    except (Exception, SystemExit) as exc:  # the user's module: report, never a traceback
        raise CompileError([error(
            "E504", f"cannot load impl '{kernel.impl.value}' of kernel '{kernel.name}': "
            f"{type(exc).__name__}: {exc}", kernel.impl.span, stage=Stage.SIMULATION,
            notes=user_frames(exc) if traceback else (),
            help=("a module name is looked up next to the .pto file first, then on the "
                  "Python path",))]) from None
    fn = getattr(module, func, None)
    if fn is None:
        raise CompileError([error(
            "E504", f"cannot load impl '{kernel.impl.value}' of kernel '{kernel.name}': "
            f"{module_file(module)} has no function '{func}'", kernel.impl.span,
            stage=Stage.SIMULATION, help=_near(func, module))])
    if not callable(fn):
        raise CompileError([error("E504", f"impl '{kernel.impl.value}' is not a function",
                                  kernel.impl.span, stage=Stage.SIMULATION)])
    return fn  # type: ignore[no-any-return]


def module_file(module: ModuleType) -> str:
    """The user's name for a module: its file, relative to the working directory."""
    file = getattr(module, "__file__", None)
    if file is None:
        return f"module '{module.__name__}'"
    try:
        return f"'{os.path.relpath(file)}'"
    except ValueError:  # another drive (Windows)
        return f"'{file}'"


def _near(func: str, module: ModuleType) -> tuple[str, ...]:
    names = [n for n, v in vars(module).items() if callable(v) and not n.startswith("_")]
    close = difflib.get_close_matches(func, names, n=1)
    return (f"did you mean '{close[0]}'?",) if close else \
        (f"its functions: {', '.join(sorted(names)) or 'none'}",)


_MODULES: dict[Path, ModuleType] = {}


def load_module(target: str, base_dir: Path) -> ModuleType:
    """`file.py` relative to base_dir, a module next to it, or an importable module."""
    return _module(target, base_dir)


def _module(target: str, base_dir: Path) -> ModuleType:
    path = base_dir / target if target.endswith(".py") else \
        base_dir / (target.replace(".", "/") + ".py")
    if not path.is_file():
        if target.endswith(".py"):
            raise FileNotFoundError(f"no file {path}")
        found = importlib.import_module(target)
        note_read(getattr(found, "__file__", None))
        return found
    path = path.resolve()
    note_read(path)  # on every use: the cache outlives one run
    if path not in _MODULES:
        spec = importlib.util.spec_from_file_location(f"pto_sim_{path.stem}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        _MODULES[path] = module
    return _MODULES[path]


def _runner(kernel: ir.Kernel, fn: Callable[..., Any]) -> KernelRun:
    """Calls fn with the arguments in declaration order (the runtime passes tensors, then
    scalars)."""
    order: list[tuple[bool, int]] = []
    tensors = scalars = 0
    for p in kernel.params:
        if isinstance(p, ir.KTensorParam):
            order.append((True, tensors))
            tensors += 1
        else:
            order.append((False, scalars))
            scalars += 1

    per_block = _takes_block_index(fn)

    def run(arrays: list[np.ndarray], values: Sequence[Scalar], blocks: int) -> None:
        args = [arrays[i] if is_tensor else values[i] for is_tensor, i in order]
        if not per_block:
            fn(*args)
            return
        for block in range(blocks):
            fn(*args, block_idx=block, block_num=blocks)
    return run


def _takes_block_index(fn: Callable[..., Any]) -> bool:
    try:
        return "block_idx" in inspect.signature(fn).parameters
    except (TypeError, ValueError):  # a builtin without a signature
        return False
