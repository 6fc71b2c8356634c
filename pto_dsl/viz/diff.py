"""`--diff`: compare a task graph's edge records with a runtime-captured deps.json.

Input: the text of a deps.json (any dep_gen producer: the runtime's replay or our export)
and the graph; output: the edge records only one side has, compared by their tasks,
argument, source, flags and overlap (not by tensor ids, which hash buffer addresses that
differ between runs), and the same for the (pred, succ) dependency pairs. A malformed file
is a located error (E601 not JSON, E602 not the deps.json schema), never a traceback.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any, NamedTuple

from pto_dsl.diagnostics import CompileError, Diagnostic, Stage, error
from pto_dsl.graph import TaskGraph
from pto_dsl.source import SourceFile, Span
from pto_dsl.viz.jsonloc import Path, locate

MAX_ERRORS = 20
U64 = 1 << 64
SOURCES = ("explicit", "creator", "tensormap")


class Record(NamedTuple):
    """What identifies a deps.json edge record across runs."""

    pred: int
    succ: int
    source: str
    arg: int
    flags: tuple[str, ...]
    overlap: str | None  # TensorMap records only

    def describe(self) -> str:
        arg = f", arg {self.arg}" if self.arg >= 0 else ""
        overlap = f", overlap {self.overlap}" if self.overlap is not None else ""
        return f"{self.source}{arg}, flags {'+'.join(self.flags) or 'none'}{overlap}"


@dataclass
class EdgeDiff:
    ours_only: list[Record]
    theirs_only: list[Record]
    common: int
    pairs_ours_only: list[tuple[int, int]]
    pairs_theirs_only: list[tuple[int, int]]
    pairs_common: int

    @property
    def same(self) -> bool:
        return not self.ours_only and not self.theirs_only


def record(edge: dict[str, Any]) -> Record:
    """The record of a well-formed edge (ours, or one that `load_records` accepted)."""
    overlap = edge.get("overlap")
    return Record(int(edge["pred"]), int(edge["succ"]), edge["source"], edge.get("arg", -1),
                  tuple(edge["flags"]), overlap if isinstance(overlap, str) else None)


def load_records(source: SourceFile) -> list[Record]:
    """The edge records of a deps.json document, checked against the schema."""
    try:
        data = json.loads(source.text)
    except json.JSONDecodeError as exc:
        raise CompileError([error(
            "E601", f"this file is not JSON: {exc.msg}", Span(source, exc.pos, exc.pos + 1),
            help=("--diff takes the deps.json that the runtime writes with --enable-dep-gen",),
            stage=Stage.SYNTAX)]) from None
    problems: list[tuple[Path, str]] = []
    records: list[Record] = []
    if not isinstance(data, dict):
        problems.append(((), "a deps.json document is an object with an 'edges' list"))
    elif not isinstance(data.get("edges"), list):
        where: Path = ("edges",) if "edges" in data else ()
        problems.append((where, "'edges' must be a list of {pred, succ, ...} objects"))
    else:
        for i, edge in enumerate(data["edges"]):
            found = len(problems)
            _check_edge(edge, i, problems)
            if len(problems) == found:
                records.append(record(edge))
            if len(problems) >= MAX_ERRORS:
                break
    if problems:
        raise CompileError([_schema_error(source, path, why) for path, why in problems])
    return records


def _check_edge(edge: Any, i: int, problems: list[tuple[Path, str]]) -> None:
    if not isinstance(edge, dict):
        problems.append((("edges", i), f"edge {i} is not an object"))
        return
    for key in ("pred", "succ"):
        if _task_id(edge.get(key)) is None:
            problems.append((_at(edge, i, key), f"edge {i}: '{key}' must be a task id (an "
                             "unsigned 64-bit integer, usually written as a string)"))
    if edge.get("source") not in SOURCES:
        problems.append((_at(edge, i, "source"), f"edge {i}: 'source' must be one of "
                         f"{', '.join(SOURCES)}"))
    flags = edge.get("flags")
    if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
        problems.append((_at(edge, i, "flags"), f"edge {i}: 'flags' must be a list of "
                         "strings such as \"wait\""))
    arg = edge.get("arg", -1)
    if isinstance(arg, bool) or not isinstance(arg, int):
        problems.append((_at(edge, i, "arg"), f"edge {i}: 'arg' must be an integer"))


def _at(edge: dict[str, Any], i: int, key: str) -> Path:
    return ("edges", i, key) if key in edge else ("edges", i)


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


def diff(ours: list[Record], theirs: list[Record]) -> EdgeDiff:
    """Records compared as multisets (one argument's lookup may hit one producer's
    entries twice), pairs as sets."""
    a, b = Counter(ours), Counter(theirs)
    pa, pb = {(r.pred, r.succ) for r in ours}, {(r.pred, r.succ) for r in theirs}
    return EdgeDiff(sorted((a - b).elements()), sorted((b - a).elements()),
                    sum((a & b).values()), sorted(pa - pb), sorted(pb - pa), len(pa & pb))


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
    lines = [f"{result.common} edge records in both, {len(result.ours_only)} only in "
             f"{ours_name}, {len(result.theirs_only)} only in {theirs_name}",
             f"{result.pairs_common} dependency pairs in both, {len(result.pairs_ours_only)} "
             f"only in {ours_name}, {len(result.pairs_theirs_only)} only in {theirs_name}"]
    for title, records in ((f"records only in {ours_name}", result.ours_only),
                           (f"records only in {theirs_name}", result.theirs_only)):
        if records:
            lines.append(f"{title}:")
            lines.extend(f"  {describe(r.pred, by_raw, graph)} -> "
                         f"{describe(r.succ, by_raw, graph)}: {r.describe()}" for r in records)
    return "\n".join(lines)
