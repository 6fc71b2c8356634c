"""pto-run: run a program on the Python model of the PTO2 runtime (pto_dsl.sim).

Front end, then the simulation of one case: numerics checked against the program's golden
(PASS/FAIL), the runtime's view (edges, TensorMap traffic, ring use) and simulated time;
optionally stats JSON, a Chrome/Perfetto trace, schedule exploration and .npz in/out.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pto_dsl import cli_record, progress
from pto_dsl.cli import (
    EXIT_ERRORS,
    EXIT_OK,
    EXIT_UNAVAILABLE,
    ToolParser,
    UsageError,
    guarded,
    load_program,
    tool_parser,
)
from pto_dsl.diagnostics import CompileError, Diagnostic
from pto_dsl.files import check_distinct, check_output, write_atomic
from pto_dsl.progress import Progress
from pto_dsl.sim.api import TENSORMAP_RULES
from pto_dsl.sim.params import DEFAULT_PARAMS, TARGET_PARAMS, MiB, Params
from pto_dsl.viz import gantt

if TYPE_CHECKING:  # the simulator is imported when it runs, not for --help or --version
    from pto_dsl.pipeline import Checked
    from pto_dsl.sim.run import SimOptions, SimResult


def _parser() -> ToolParser:
    p = tool_parser("pto-run", "Run a .pto program on the Python model of the PTO2 runtime: "
                    "numerics against its golden, edges, TensorMap traffic, ring use and "
                    "simulated time.")
    p.add_argument("--no-numerics", action="store_true",
                   help="simulate only the graph and the timing (no kernel is called)")
    p.add_argument("--golden", metavar="FILE.py:FUNCTION",
                   help="the golden to check outputs against (default: the function named "
                   "like the entry in golden.py next to the program)")
    p.add_argument("--block-dim", type=int, default=DEFAULT_PARAMS.block_dim, metavar="N",
                   help="clusters (1 AIC + 2 AIV each) to run on, 1-24 (default: %(default)s)")
    p.add_argument("--scheduler-threads", type=int, metavar="N",
                   default=DEFAULT_PARAMS.scheduler_threads,
                   help="AICPU scheduler threads (default: %(default)s)")
    p.add_argument("--heap-mib", type=_heap_mib, default=DEFAULT_PARAMS.heap_size // MiB,
                   metavar="N", help="output heap per ring in MiB, a power of 2 "
                   "(PTO2_RING_HEAP; default: %(default)s)")
    p.add_argument("--tensormap", choices=TENSORMAP_RULES, default="merged",
                   help="merged: the runtime's rule (manual scopes bypass the TensorMap); "
                   "boundary: the pre-merge rule, where manual scopes still look up and record "
                   "tensors from outside (default: %(default)s)")
    p.add_argument("--stats-json", type=Path, metavar="PATH", help="write the run's stats")
    p.add_argument("--trace", type=Path, metavar="PATH",
                   help="write a Chrome/Perfetto trace of the simulated schedule")
    p.add_argument("--gantt", type=Path, metavar="PATH",
                   help="write a Gantt chart of the simulated schedule, a row per core under "
                   "the orchestrator (.png, .svg or .pdf; needs the 'plots' extra)")
    p.add_argument("--explore", type=int, metavar="N", help="run N schedules: first those "
                   "that run the later task of each unordered hazard first, then random "
                   "ready order, durations and orchestrator speed; report outputs that differ")
    p.add_argument("--seed", type=int, default=0, help="first seed of --explore "
                   "(default: %(default)s)")
    p.add_argument("--inputs", type=Path, metavar="FILE.npz",
                   help="entry tensors and scalars (named as the entry's parameters) instead "
                   "of the case's generator")
    p.add_argument("--save", type=Path, metavar="FILE.npz",
                   help="write the inputs used and every output")
    p.add_argument("--traceback", action="store_true",
                   default=os.environ.get("PTO_DSL_DEBUG", "") not in ("", "0"),
                   help="when a kernel implementation or the golden raises, show where: "
                   "the frames of your own Python files (default: on if PTO_DSL_DEBUG=1)")
    p.add_argument("--progress", choices=("auto", "bar", "lines", "never"), default="auto",
                   help="progress of a long run on stderr: a bar, a line when it turns long "
                   "and one at its end, or nothing (auto: a bar if stderr is a terminal, "
                   "lines otherwise, nothing with --quiet)")
    cli_record.add_options(p)
    return p


def _heap_mib(text: str) -> int:
    """A heap size in MiB, checked in the unit the user typed (Params checks bytes)."""
    try:
        mib = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of MiB: {text!r}") from None
    if mib < 1 or mib & (mib - 1):
        raise argparse.ArgumentTypeError(
            f"must be a power of 2 MiB (1, 2, 4, 8, ...), got {mib}")
    return mib


def main(argv: Sequence[str] | None = None) -> int:
    p = _parser()
    args = p.parse(argv)
    if args.no_numerics and (args.save or args.explore or args.golden):
        p.error("--save, --explore and --golden need numerics (drop --no-numerics)")
    if args.explore is not None and args.explore < 2:
        p.error("--explore needs at least 2 runs")

    def body(diags: list[Diagnostic]) -> int:
        from pto_dsl.sim.report import stats, summary, to_json, trace
        from pto_dsl.sim.run import SimOptions, simulate

        _check_outputs(args)
        lowering: Any = None
        diverged: list[Diagnostic] = []
        if args.signature is not None:  # a C++ orchestration: record it, then replay that
            if args.explore:
                raise UsageError("--explore runs .pto programs, not with --signature")
            try:
                checked, lowering, diverged = _recorded(args, diags)
            except cli_record.Unavailable as exc:
                print(f"pto-run: {exc}", file=sys.stderr)
                return EXIT_UNAVAILABLE
        else:
            checked = load_program(args, diags)
        _check_outputs(args)  # again: the files the program names are known now
        if not checked.program.cases:
            raise UsageError(f"{args.file} declares no case: pto-run runs a case of the "
                             "program (its shapes and inputs)")
        options = SimOptions(numerics=not args.no_numerics, params=_params(args),
                             tensormap_rule=args.tensormap, golden=args.golden,
                             inputs_file=args.inputs,
                             trace=args.trace is not None or args.gantt is not None,
                             max_tasks=args.max_tasks, traceback=args.traceback)
        started = time.perf_counter()
        try:
            with _progress(args).stage(f"run case {args.case or 'default'}") as update:
                options.progress = lambda rt: update(rt.seq)
                try:
                    result = simulate(checked, args.case, options) if lowering is None \
                        else simulate(checked, args.case, options, lowering)
                    update(result.runtime.seq)  # the count at the end, not the last tick
                    diags.extend(diverged)
                finally:
                    options.progress = None  # explore runs without it
        except CompileError:
            if args.explore:  # the schedules may still tell more: explore, then report
                _explore(checked, args, options)
            raise
        if not args.json:  # with --json stdout holds only the diagnostics
            for line in summary(result, str(args.file) if args.signature else
                                checked.source.name):
                print(line)
            print(f"  wall time         {time.perf_counter() - started:.2f} s")
        if args.stats_json:
            write_atomic(args.stats_json, to_json(stats(result)))
        if args.trace:
            write_atomic(args.trace, to_json(trace(result)))
        if args.gantt:
            _gantt(result, args.gantt, f"{args.file.name}, case {result.case}")
        if args.save:
            from pto_dsl.sim.inputs import save

            save(args.save, checked.program, result.inputs, result.outputs)
        code = EXIT_OK if result.passed else EXIT_ERRORS
        if args.explore:
            code = max(code, _explore(checked, args, options))
        return code
    return guarded("pto-run", args, body)


def _recorded(args: argparse.Namespace,
              diags: list[Diagnostic]) -> tuple[Checked, Any, list[Diagnostic]]:
    """The signature with the recorded run's sites as its program, and what replays the
    run on the simulator (pto_dsl.record.simulate)."""
    from pto_dsl.pipeline import Checked
    from pto_dsl.record.simulate import lowering_of, sim_program

    recorded = cli_record.record_one(args, diags)
    signature = recorded.signature
    assert signature is not None
    args.case = recorded.name
    program = sim_program(recorded.checked.program, signature.program)
    diverged: list[Diagnostic] = []  # W811, once the simulation has run
    return Checked(signature.source, program, signature.dialect), \
        lowering_of(recorded.events, recorded.graph, diverged), diverged


def _params(args: argparse.Namespace) -> Params:
    try:
        # the target's calibrated costs (pto_dsl.sim.params), with the machine asked for
        return dataclasses.replace(TARGET_PARAMS[args.dialect],
                                   task_window=args.runtime.task_window,
                                   block_dim=args.block_dim, heap_size=args.heap_mib * MiB,
                                   scheduler_threads=args.scheduler_threads)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _check_outputs(args: argparse.Namespace) -> None:
    """Never write onto an input, nor twice onto one file; fail before the run, not after."""
    if args.gantt is not None and args.gantt.suffix.lower() not in gantt.FORMATS:
        raise UsageError(f"--gantt {args.gantt}: the chart is written as "
                         f"{', '.join(gantt.FORMATS)}; name the file with one of them")
    outputs = [(f"{option} {path}", path) for option, path in (
        ("--stats-json", args.stats_json), ("--trace", args.trace), ("--save", args.save),
        ("--gantt", args.gantt)) if path is not None]
    inputs = [p for p in (args.file, args.inputs) if p is not None]
    for what, path in outputs:
        check_output(path, what, inputs)
    check_distinct(outputs)


def _progress(args: argparse.Namespace) -> Progress:
    mode: progress.Mode
    if args.progress == "auto":
        mode = progress.choose(args.quiet)
    else:
        mode = "off" if args.progress == "never" else args.progress
    return Progress("pto-run", mode)


def _explore(checked: Checked, args: argparse.Namespace, options: SimOptions) -> int:
    from pto_dsl.sim.explore import describe, explore

    found = explore(checked, args.case, options, args.explore, args.seed)
    if args.json:  # stdout holds only the diagnostics; the exit status tells
        return EXIT_ERRORS if found.differences or found.failures else EXIT_OK
    hazards = len(found.hazards)
    what = (f"{found.adversarial} adversarial for {hazards} unordered "
            f"hazard{'s' if hazards != 1 else ''}, " if hazards else "no unordered hazard, ")
    verdict = ("outputs DIFFER" if found.differences else "some runs FAIL"
               if found.failures else "every output identical")
    print(f"  explore           {found.runs} schedules ({what}"
          f"{found.runs - found.adversarial} random): {verdict}")
    for h in found.hazards:
        print(f"    hazard          {describe(h)}")
    for run, message in found.failures:
        print(f"    {run}: {message}")
    for d in found.differences:
        print(f"    {d.output}: {d.runs[0]} and {d.runs[1]} differ in {d.elements} "
              f"elements (max difference {d.max_difference:.3g}); a dependency is missing "
              "(see pto-check)")
    return EXIT_ERRORS if found.differences or found.failures else EXIT_OK


def _gantt(result: SimResult, path: Path, title: str) -> None:
    """The schedule as a chart: the orchestrator's submit calls on top, then every core."""
    rt = result.runtime
    rows = [gantt.ORCHESTRATOR, *rt.sched.core_names]
    index = {name: i for i, name in enumerate(rows)}
    bars = [gantt.Bar(0, start / 1e3, end / 1e3, "") for _, start, end in rt.orch_trace or ()]
    bars += [gantt.Bar(index[row.core], row.start_us, row.end_us, row.kernel)
             for row in result.schedule()]
    try:
        gantt.render(rows, bars, path, f"{title}: simulated schedule")
    except gantt.GanttUnavailable as exc:
        raise UsageError(f"--gantt needs matplotlib: {exc}") from None
    except OSError as exc:
        raise UsageError(f"cannot write '{path}': {exc.strerror or exc}") from None
