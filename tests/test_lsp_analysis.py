"""The analysis pto-lsp runs per version, in-process: results and the crash path."""

from __future__ import annotations

from pathlib import Path

import pytest

from pto_dsl import pipeline
from pto_dsl.lsp import analysis
from pto_dsl.lsp.analysis import Front, Graph, Request

ROOT = Path(__file__).resolve().parent.parent
MANUAL = ROOT / "examples" / "paged_attention" / "manual.pto"


def _run(text: str, case: str | None = None) -> list[Front | Graph]:
    return list(analysis.analyze(Request("file:///t.pto", 1, str(MANUAL), text, case)))


def test_front_then_graph_of_the_default_case() -> None:
    front, graph = _run(MANUAL.read_text())
    assert isinstance(front, Front) and front.program is not None and front.ast is not None
    assert isinstance(graph, Graph) and graph.case == "CaseSmall1" and graph.tasks == 13
    qk = next(s for s in front.program.sites if s.label == "QK")
    assert graph.sites[qk.id].instances == 3 and graph.sites[qk.id].rings == (1,)
    assert graph.shapes["query"] == (1, 16, 16) and graph.values["B"] == 1


def test_a_case_named_in_the_settings() -> None:
    _, graph = _run(MANUAL.read_text(), "CaseVarSeq2")
    assert isinstance(graph, Graph) and graph.case == "CaseVarSeq2" and graph.tasks == 22


def test_a_case_the_file_lacks_is_a_warning_and_the_default_is_checked() -> None:
    _, graph = _run(MANUAL.read_text(), "Nope")
    assert isinstance(graph, Graph) and graph.case == "CaseSmall1"
    [diag] = graph.diagnostics
    assert diag.code == "W702" and "CaseSmall1, CaseSmall2" in diag.help[0]


def test_a_crash_in_a_check_is_one_diagnostic(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> None:
        raise KeyError("oops")
    monkeypatch.setattr(pipeline, "check_graph", broken)
    _front, graph = _run(MANUAL.read_text())
    assert isinstance(graph, Graph)
    [diag] = graph.diagnostics
    assert diag.code == "E701" and diag.is_error
    assert diag.message.startswith("internal error in pto-dsl while checking case "
                                   "'CaseSmall1': KeyError: 'oops' (test_lsp_analysis.py:")


def test_a_syntax_error_has_no_tree() -> None:
    [front] = _run("kernel K aiv 0 (in x\n")
    assert isinstance(front, Front) and front.ast is None
    assert [d.code for d in front.diagnostics] == ["E003"]
