"""What a run reports: the summary text, the stats JSON and the Chrome/Perfetto trace.

Stats follow the runtime's profiling rules for TensorMap counts (runtime-model.md). The trace
has one track per core plus the orchestrator, times in microseconds.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from pto_dsl.graph import plural, records_text
from pto_dsl.sim.api import MixedKernels
from pto_dsl.sim.lowering import TaskTag
from pto_dsl.sim.run import SimResult

if TYPE_CHECKING:
    from pto_dsl.sim.golden import OutputCheck

ORIGINS = ("explicit", "creator", "tensormap")


def stats(result: SimResult) -> dict[str, Any]:
    rt = result.runtime
    makespan = rt.makespan
    per_core = rt.sched.utilization(makespan)
    kinds: dict[str, list[float]] = {"AIC": [], "AIV": []}
    for name, u in per_core.items():
        kinds[name[:3]].append(u)
    counts = rt.counts
    return {
        "program": result.program, "case": result.case,
        "tensormap_rule": "boundary" if rt.boundary else "merged",
        "numerics": rt.numerics,
        "tasks": rt.seq,
        "tasks_per_kernel": _per_kernel(result),
        # the unit of pto-check and pto-graph: distinct (producer, consumer) tasks
        "dependency_pairs": {"total": counts.pairs, "wired": sum(counts.wired.values()),
                             "producer_retired": sum(counts.retired.values()),
                             # a pair with several origins counts once for each
                             "by_origin": {o: counts.origins[o] for o in ORIGINS}},
        # the rows of the runtime's deps.json for this run's submits
        "deps_json_records": {"total": sum(counts.records.values()),
                              **{o: counts.records[o] for o in ORIGINS}},
        "tensormap_lookups": rt.tmap.lookups,
        "tensormap_inserts": rt.tmap.inserts,
        "ring_peak_tasks": [r.peak_live for r in rt.rings],
        "ring_peak_heap_bytes": [r.peak_heap for r in rt.rings],
        "makespan_us": round(makespan / 1e3, 3),
        "orchestration_us": round(rt.orch_time / 1e3, 3),
        "critical_path_us": round(rt.critical_path / 1e3, 3),
        "critical_path_cost": rt.critical_cycles,
        "critical_path": [row.label for row in result.critical_path()],
        "utilization": {k: round(sum(v) / len(v), 4) if v else 0.0 for k, v in kinds.items()},
        "core_utilization": {k: round(v, 4) for k, v in per_core.items()},
        "machine": {"block_dim": rt.params.block_dim, "task_window": rt.params.task_window,
                    "scheduler_threads": rt.params.scheduler_threads},
        "outputs": {c.name: {"max_error": _number(c.max_error), "pass": c.passed}
                    for c in result.checks or ()},
        # set_predicate: predicated tasks that ran their kernel and that were skipped;
        # early resolve: blocks staged on cores before their task was ready
        "predicated": {"dispatched": rt.sched.predicated[0], "skipped": rt.sched.predicated[1]},
        "early_staged_blocks": rt.sched.staged_blocks,
    }


def _number(x: float) -> float | str:
    return x if math.isfinite(x) else str(x)


def _per_kernel(result: SimResult) -> dict[str, int]:
    """Tasks per kernel, in declaration order, then alloc tasks."""
    rt = result.runtime
    counts = {impl.name: rt.task_counts[kernels] for kernels, impl in rt.kernels.items()
              if rt.task_counts[kernels]}
    if rt.task_counts[MixedKernels()]:  # no kernel slot: dummy tasks
        counts["dummy"] = rt.task_counts[MixedKernels()]
    if rt.task_counts[None]:
        counts["alloc"] = rt.task_counts[None]
    return counts


def summary(result: SimResult, file: str) -> list[str]:
    s = stats(result)
    lines = [f"{file}: entry '{result.program}', case {result.case}: {s['tasks']} tasks "
             f"({', '.join(f'{k} {v}' for k, v in s['tasks_per_kernel'].items())})",
             f"  edges             {_pairs(s['dependency_pairs'])}",
             f"                    {records_text(result.runtime.counts.records)}",
             f"  tensormap         {s['tensormap_lookups']} lookups, "
             f"{s['tensormap_inserts']} inserts ({s['tensormap_rule']} rule)",
             "  ring peak tasks   " + ", ".join(f"ring {i}: {n}" for i, n in
                                                 enumerate(s["ring_peak_tasks"]) if n),
             f"  time              makespan {s['makespan_us']:.1f} us, orchestration "
             f"{s['orchestration_us']:.1f} us, critical path {s['critical_path_us']:.1f} us",
             f"  critical path     {_chain(result)}",
             f"  utilization       AIC {s['utilization']['AIC']:.1%}, "
             f"AIV {s['utilization']['AIV']:.1%} ({s['machine']['block_dim']} clusters)"]
    lines += _dispatch_lines(s, result.runtime.numerics)
    if not result.runtime.numerics:
        lines.append("  numerics          off (--no-numerics)")
    elif result.checks is None:
        lines.append("  outputs           not checked: no golden (golden.py next to the "
                     "program, or --golden FILE.py:FUNCTION)")
    else:
        lines += [_check_line(c) for c in result.checks]
    return lines


def _dispatch_lines(s: dict[str, Any], numerics: bool) -> list[str]:
    """Predicated tasks and early staging, when the run had any."""
    out = []
    ran, skipped = s["predicated"]["dispatched"], s["predicated"]["skipped"]
    if ran or skipped:
        how = "" if numerics else " (no data without numerics: every predicate holds)"
        out.append(f"  predicated        {ran} dispatched, {skipped} skipped{how}")
    if s["early_staged_blocks"]:
        out.append(f"  early resolve     {plural(s['early_staged_blocks'], 'block')} staged "
                   "on cores before their task was ready")
    return out


def _pairs(pairs: dict[str, Any]) -> str:
    """`17 dependency pairs (creator 15, tensormap 2; 2 not wired: producer retired)`."""
    origins = ", ".join(f"{k} {v}" for k, v in pairs["by_origin"].items() if v)
    retired = pairs["producer_retired"]
    note = f"; {retired} not wired: producer already retired" if retired else ""
    text = plural(pairs["total"], "dependency pair")
    return f"{text} ({origins}{note})" if origins else text


def _chain(result: SimResult) -> str:
    """The critical path's kernels in order, runs of one kernel folded (UP x3)."""
    chain = result.critical_path()
    if not chain:
        return "none recorded"
    runs: list[list[object]] = []
    for row in chain:
        if runs and runs[-1][0] == row.kernel:
            runs[-1][1] += 1  # type: ignore[operator]
        else:
            runs.append([row.kernel, 1])
    text = " > ".join(f"{k} x{n}" if n != 1 else str(k) for k, n in runs)
    if len(text) > 60:
        text = text[:57] + "..."
    # the cost pto-graph prints for its critical path: the same chain, chosen alike
    return f"{len(chain)} tasks (cost {result.runtime.critical_cycles:g}): {text}"


def _check_line(c: OutputCheck) -> str:
    verdict = "PASS" if c.passed else "FAIL"
    note = f" ({c.note})" if c.note else ""
    return f"  {verdict} {c.name}: max abs error {c.max_error:.3g} (rtol = atol = 1e-3){note}"


def trace(result: SimResult) -> dict[str, Any]:
    """Chrome trace event format (loads in Perfetto and chrome://tracing)."""
    rt = result.runtime
    names = rt.sched.core_names
    events: list[dict[str, Any]] = [
        {"name": "process_name", "ph": "M", "pid": 1, "args": {"name": "a2a3 (simulated)"}},
        {"name": "thread_name", "ph": "M", "pid": 1, "tid": 0,
         "args": {"name": "orchestrator"}}]
    events += [{"name": "thread_name", "ph": "M", "pid": 1, "tid": i + 1,
                "args": {"name": name}} for i, name in enumerate(names)]
    for tag, start, end in rt.orch_trace or ():
        events.append({"name": "submit " + _label(tag), "ph": "X", "pid": 1, "tid": 0,
                       "ts": start / 1e3, "dur": (end - start) / 1e3, "cat": "orchestrator"})
    for span in rt.sched.schedule or ():
        events.append({"name": _label(span.tag), "ph": "X", "pid": 1, "tid": span.core + 1,
                       "ts": span.start / 1e3, "dur": (span.end - span.start) / 1e3,
                       "cat": "task", "args": {"task": span.seq}})
    return {"traceEvents": events, "displayTimeUnit": "ns",
            "otherData": {"program": result.program, "case": result.case}}


def _label(tag: object) -> str:
    return tag.label if isinstance(tag, TaskTag) else str(tag)


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1, sort_keys=False) + "\n"
