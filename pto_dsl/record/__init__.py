"""The C++ front end: record a C++ orchestration's task graph by running it against pto-dsl's
recording implementation of the runtime API.

`record` builds the orchestration (toolchain.py), runs its entry on one case of the
signature (child.py) and replays the trace into a TaskGraph (replay.py). The result is a
`Checked` whose source is the C++ file and whose program has the C++ call sites as its
submission sites, so every graph check, picture and summary applies unchanged.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pto_dsl import ir
from pto_dsl.cases import CaseValues
from pto_dsl.diagnostics import CompileError, Note, Stage, error
from pto_dsl.dialects import Dialect
from pto_dsl.graph import TaskGraph
from pto_dsl.perf import paused_gc
from pto_dsl.record import child, spans, toolchain
from pto_dsl.record.replay import Replay, _Killed
from pto_dsl.record.toolchain import ToolMissing
from pto_dsl.record.unmodelled import Unmodelled
from pto_dsl.source import SourceFile

DEFAULT_TIMEOUT = 60.0

__all__ = ["DEFAULT_TIMEOUT", "CompileError", "Recorded", "ToolMissing", "prepare", "record"]


@dataclass
class Recorded:
    program: ir.Program  # the signature's kernels and entry, the C++ call sites as sites
    graph: TaskGraph
    logs: list[str] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)  # Replay.events
    unmodelled: Unmodelled = field(default_factory=Unmodelled)


@dataclass(frozen=True)
class Prepared:
    source: SourceFile
    path: Path
    executable: Path
    dialect: Dialect


def prepare(path: Path, source: SourceFile, dialect: Dialect) -> Prepared:
    """Build (or find in the cache) the recorder executable of one orchestration."""
    spans.register(str(path.resolve()), source)
    built = toolchain.build(source, path, dialect.name)
    return Prepared(source, path, built.executable, dialect)


def record(prepared: Prepared, signature: ir.Program, case: CaseValues,
           timeout: float = DEFAULT_TIMEOUT) -> Recorded:
    """Run the orchestration's entry on a case and replay what it did into a task graph."""
    outcome = child.run(prepared.executable, signature, case, timeout)
    replay = Replay(signature, case, prepared.source, str(prepared.path.resolve()),
                    prepared.dialect)
    lines = outcome.trace.split("\n")
    try:
        with paused_gc():  # like instantiation: many small objects that stay alive
            graph = replay.run(lines)
    except _Killed as killed:
        _ended_badly(replay, outcome, killed.signal, timeout)
    if not replay.finished:
        _ended_badly(replay, outcome, None, timeout)
    _check_arg_count(replay, signature)
    return Recorded(replay.program, graph, replay.logs, replay.events, replay.unmodelled)


def _ended_badly(replay: Replay, outcome: child.Outcome, sig: int | None,
                 timeout: float) -> None:
    fid, line = replay.last
    where = "after this call" if fid >= 0 else "before its first call to the runtime API"
    notes = [Note(f"in case '{replay.inst.case.name}'")]
    tail = outcome.stderr.strip().splitlines()[-3:]
    notes += [Note(f"stderr: {t}") for t in tail]
    if outcome.timed_out:
        message = (f"the orchestration did not finish within {timeout:g} s {where} "
                   "(an endless loop?)")
        help_ = ("pto-dsl stops a recording run after --timeout seconds",)
        code = "E804"
    elif sig is not None or outcome.returncode < 0:
        number = sig if sig is not None else -outcome.returncode
        message = f"the orchestration crashed with {_signal_name(number)} {where}"
        help_ = ("a crash in the orchestration's own code (a bad pointer, an index out of "
                 "bounds, a division by zero) or an abort",)
        code = "E803"
    else:
        message = (f"the orchestration exited (status {outcome.returncode}) before its entry "
                   f"returned, {where}")
        help_ = ("an orchestration returns from aicpu_orchestration_entry; it does not exit",)
        code = "E803"
    raise CompileError([error(code, message, replay.span(fid, line), notes=notes, help=help_,
                              stage=Stage.INSTANTIATION)])


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _check_arg_count(replay: Replay, signature: ir.Program) -> None:
    """The runtime refuses a run given fewer arguments than the config's expected count (a
    positive one); more are accepted (the executor's check is `actual < expected`)."""
    expected = replay.expected_args
    have = len(signature.tensors) + len(signature.scalars)
    if expected is not None and have < expected:
        raise CompileError([error(
            "E807", f"aicpu_orchestration_config expects {expected} entry arguments, but the "
            f"signature's entry '{signature.name}' declares only {have}", replay.main_span(),
            notes=(Note("the entry is declared here", signature.span),) if signature.span
            else (), help=("the signature's entry lists the orchestration's tensor and "
                           "scalar arguments in order",), stage=Stage.INSTANTIATION)])
