"""`--diff`: compare a task graph's edges with a runtime-captured deps.json.

Input: the text of a deps.json (any dep_gen producer: the runtime's replay or our export)
and the graph; output: the (pred, succ) task pairs only one side has. A malformed file is
a located error (E601 not JSON, E602 not the deps.json schema), never a traceback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pto_dsl.diagnostics import CompileError, Diagnostic, Stage, error
from pto_dsl.graph import TaskGraph
from pto_dsl.source import SourceFile, Span
from pto_dsl.viz.jsonloc import Path, locate

MAX_ERRORS = 20
U64 = 1 << 64


@dataclass
class EdgeDiff:
    ours_only: list[tuple[int, int]]
    theirs_only: list[tuple[int, int]]
    common: int

    @property
    def same(self) -> bool:
        return not self.ours_only and not self.theirs_only


def load_edges(source: SourceFile) -> set[tuple[int, int]]:
    """The (pred, succ) pairs of a deps.json document, checked against the schema."""
    try:
        data = json.loads(source.text)
    except json.JSONDecodeError as exc:
        raise CompileError([error(
            "E601", f"this file is not JSON: {exc.msg}", Span(source, exc.pos, exc.pos + 1),
            help=("--diff takes the deps.json that the runtime writes with --enable-dep-gen",),
            stage=Stage.SYNTAX)]) from None
    problems: list[tuple[Path, str]] = []
    pairs: set[tuple[int, int]] = set()
    if not isinstance(data, dict):
        problems.append(((), "a deps.json document is an object with an 'edges' list"))
    elif not isinstance(data.get("edges"), list):
        where: Path = ("edges",) if "edges" in data else ()
        problems.append((where, "'edges' must be a list of {pred, succ, ...} objects"))
    else:
        for i, edge in enumerate(data["edges"]):
            pair = _edge(edge, i, problems)
            if pair is not None:
                pairs.add(pair)
            if len(problems) >= MAX_ERRORS:
                break
    if problems:
        raise CompileError([_schema_error(source, path, why) for path, why in problems])
    return pairs


def _edge(edge: Any, i: int, problems: list[tuple[Path, str]]) -> tuple[int, int] | None:
    if not isinstance(edge, dict):
        problems.append((("edges", i), f"edge {i} is not an object"))
        return None
    ends = []
    for key in ("pred", "succ"):
        value = _task_id(edge.get(key))
        if value is None:
            path: Path = ("edges", i, key) if key in edge else ("edges", i)
            problems.append((path, f"edge {i}: '{key}' must be a task id (an unsigned 64-bit "
                             "integer, usually written as a string)"))
        ends.append(value)
    pred, succ = ends
    return (pred, succ) if pred is not None and succ is not None else None


def _task_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return value if isinstance(value, int) and 0 <= value < U64 else None


def _schema_error(source: SourceFile, path: Path, why: str) -> Diagnostic:
    start, end = locate(source.text, path)
    return error("E602", f"not a deps.json document: {why}", Span(source, start, end),
                 help=("see the runtime's docs/dfx/dep-gen.md, section 'Output: deps.json'",),
                 stage=Stage.SYNTAX)


def diff(ours: set[tuple[int, int]], theirs: set[tuple[int, int]]) -> EdgeDiff:
    return EdgeDiff(sorted(ours - theirs), sorted(theirs - ours), len(ours & theirs))


def describe(task_id: int, by_raw: dict[int, int], graph: TaskGraph) -> str:
    """`4294967297 (ring 1, local 1) QK #1 line 44`, or only the id for an unknown task."""
    text = f"{task_id} (ring {task_id >> 32 & 0xFF}, local {task_id & 0xFFFFFFFF})"
    tid = by_raw.get(task_id)
    if tid is None:
        return text + " not in this graph"
    task = graph.task(tid)
    return f"{text} {task.kernel} #{tid} line {task.span.line}"


def report(result: EdgeDiff, graph: TaskGraph, ids: list[int], ours_name: str,
           theirs_name: str) -> str:
    by_raw = {raw: t for t, raw in enumerate(ids)}
    lines = [f"{result.common} edges in both, {len(result.ours_only)} only in {ours_name}, "
             f"{len(result.theirs_only)} only in {theirs_name}"]
    for title, pairs in ((f"only in {ours_name}", result.ours_only),
                         (f"only in {theirs_name}", result.theirs_only)):
        if pairs:
            lines.append(f"{title}:")
            lines.extend(f"  {describe(p, by_raw, graph)} -> {describe(s, by_raw, graph)}"
                         for p, s in pairs)
    return "\n".join(lines)
