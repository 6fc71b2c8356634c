"""`pto-check ORCH.cpp --signature SIG.pto`: the command-line side of the C++ front end.

Loads the signature (kernels, entry declaration, cases), builds the orchestration against
the recording API, records the chosen cases and hands each graph to the same checks and
summary as a .pto program. No C++ compiler is exit 3.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pto_dsl.diagnostics import CompileError, Diagnostic, Note, Stage, error
from pto_dsl.dialects import DIALECTS

if TYPE_CHECKING:  # the recorder and the pipeline are imported when a tool runs
    from pto_dsl.graph import TaskGraph
    from pto_dsl.pipeline import Checked

# A recording run's time limit (record.DEFAULT_TIMEOUT; here so that parsing the options
# imports nothing heavy).
DEFAULT_TIMEOUT = 60.0


class Unavailable(Exception):
    """The recorder cannot run here (no C++ compiler)."""


@dataclass
class RecordedCase:
    name: str
    checked: Checked  # source: the C++ file; program: the recorded sites and scopes
    graph: TaskGraph
    events: list[tuple[Any, ...]] = field(default_factory=list)  # for pto-run
    signature: Checked | None = None


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--signature", type=Path, metavar="SIG.pto",
                   help="FILE is a C++ orchestration: record its task graph with pto-dsl's "
                   "recording runtime API; SIG.pto gives its kernels, entry and cases (an "
                   "'extern entry' declaration, or a whole program whose body is not used)")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help="stop a recording run after this long (default: %(default)g)")


def load_signature(args: argparse.Namespace, diags: list[Diagnostic]) -> Checked:
    from pto_dsl.cases import case_names
    from pto_dsl.cli import UsageError
    from pto_dsl.pipeline import front_end, read_source
    try:
        source = read_source(args.signature)
    except OSError as exc:
        raise UsageError(f"cannot read '{args.signature}': {exc.strerror or exc}") from None
    checked = front_end(source, DIALECTS[args.dialect])
    diags.extend(checked.warnings)
    names = case_names(checked.program)
    if args.case is not None and args.case not in names:
        raise UsageError(f"no case named '{args.case}' in {args.signature}; cases: "
                         f"{', '.join(names) or 'none'}")
    if not names:
        raise UsageError(f"recording runs the orchestration on a case, and {args.signature} "
                         "declares none")
    return checked


def chosen_cases(args: argparse.Namespace, signature: Checked) -> list[str]:
    from pto_dsl.cases import case_names, default_case

    if getattr(args, "all_cases", False):
        return case_names(signature.program)
    default = default_case(signature.program)
    return [args.case] if args.case else [default.name.name] if default else []


def record_one(args: argparse.Namespace, diags: list[Diagnostic]) -> RecordedCase:
    """The one case a tool like pto-graph draws (the default, or --case), recorded and
    checked (the graph checks' findings go to `diags`, errors too)."""
    signature = load_signature(args, diags)
    [(_, result)] = record_cases(args, signature, chosen_cases(args, signature),
                                 raise_errors=False)
    if isinstance(result, list):
        raise CompileError(result)
    diags.extend(result.checked.warnings)  # reads whose values needed the kernels (W809)
    return result


def record_cases(args: argparse.Namespace, signature: Checked, names: list[str],
                 raise_errors: bool = True) -> list[tuple[str, RecordedCase | list[Diagnostic]]]:
    """Each case recorded and checked; a case that fails gives its diagnostics instead. With
    `raise_errors` false, the graph checks' errors go with the graph (to draw them)."""
    from pto_dsl import record
    from pto_dsl.cli import UsageError
    from pto_dsl.pipeline import Checked, case_values, check_graph, read_source
    try:
        source = read_source(args.file)
    except OSError as exc:
        raise UsageError(f"cannot read '{args.file}': {exc.strerror or exc}") from None
    try:
        prepared = record.prepare(args.file, source, signature.dialect)
    except record.ToolMissing as exc:
        raise Unavailable(str(exc)) from None
    out: list[tuple[str, RecordedCase | list[Diagnostic]]] = []
    for name in names:
        try:
            values = case_values(signature, name)
            rec = record.record(prepared, signature.program, values, args.timeout)
            checked = Checked(source, rec.program, signature.dialect)
            checked.warnings.extend(rec.unmodelled.warnings())
            if raise_errors:
                checked.warnings.extend(check_graph(checked, rec.graph, args.runtime))
            out.append((name, RecordedCase(name, checked, rec.graph, rec.events, signature)))
        except CompileError as exc:
            out.append((name, exc.diagnostics))
    return out


def check_roundtrip(checked: Checked, text: str, names: list[str], timeout: float) -> None:
    """pto-compile --check-roundtrip: the generated C++, recorded on each case, must give
    back the instantiated graph; E808 (a bug in pto-dsl's backend or recorder) otherwise."""
    import tempfile

    from pto_dsl import record
    from pto_dsl.pipeline import case_values, instantiate_case, read_source
    from pto_dsl.record.compare import differences

    with tempfile.TemporaryDirectory(prefix="pto-roundtrip-") as tmp:
        cpp = Path(tmp) / (Path(checked.source.name).stem + ".cpp")
        cpp.write_text(text, encoding="utf-8")
        try:
            prepared = record.prepare(cpp, read_source(cpp), checked.dialect)
        except record.ToolMissing as exc:
            raise Unavailable(str(exc)) from None
        found = []
        for name in names:
            values = case_values(checked, name)
            recorded = record.record(prepared, checked.program, values, timeout)
            diffs = differences(checked.program, instantiate_case(checked, name),
                                recorded.graph)
            if diffs:
                found.append(error(
                    "E808", f"the generated C++, recorded on case '{name}', does not give back "
                    "the program's task graph", checked.program.span,
                    notes=tuple(Note(d) for d in diffs),
                    help=("this is a bug in pto-dsl (its C++ backend or its recorder); please "
                          "report it with the input file",), stage=Stage.UNSUPPORTED))
        if found:
            raise CompileError(found)
