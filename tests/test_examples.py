"""Every bundled example checks clean on every one of its cases (but for the findings a
corpus file's header explains, tests/test_corpus.py), and the paged-attention
graphs have the task counts and edges the reference derives (§3.1, §3.3, §3.4)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from test_corpus import FINDINGS

from pto_dsl.cases import case_names
from pto_dsl.diagnostics import CompileError
from pto_dsl.graph import TaskGraph
from pto_dsl.pipeline import check_graph, front_end, instantiate_case, read_source

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
ALL = sorted(EXAMPLES.rglob("*.pto"))
PA = EXAMPLES / "paged_attention"

# reference §3.1: tasks per case (non-unroll: B*(1 + 4*blocks); unroll: groups of 64)
TASKS = {"CaseSmall1": 13, "CaseSmall2": 33, "CaseVarSeq2": 22, "CaseVarSeq4": 68,
         "Case1": 65792, "Case2": 32832}
# Warnings an example is known to give (none: the unroll manual example reads SF's outputs in
# UP without naming SF, as the runtime's own does, which is safe by in-order reclaim).
KNOWN_WARNINGS: dict[str, list[tuple[str, str]]] = {}
UNROLL_TASKS = {"Case1": 1280, "Case2": 576, "Small": 14}


def _cases() -> list[tuple[Path, str]]:
    out = []
    for path in ALL:
        for name in case_names(front_end(read_source(path)).program):
            out.append((path, name))
    return out


@pytest.mark.parametrize(("path", "case"), _cases(),
                         ids=lambda v: v.name if isinstance(v, Path) else v)
def test_example_checks_clean(path: Path, case: str) -> None:
    checked = front_end(read_source(path))
    assert checked.warnings == []
    g = instantiate_case(checked, case)
    assert len(g) > 0
    listed = FINDINGS.get((path.stem, case)) if path.parent.name == "corpus" else None
    if listed is not None:  # findings a corpus file's header lists and explains
        try:
            found_list = check_graph(checked, g)
        except CompileError as err:
            found_list = err.diagnostics
        assert Counter(d.code for d in found_list) == Counter(listed)
        return
    found = [(d.code, d.message.split("'")[1]) for d in check_graph(checked, g)]
    assert found == KNOWN_WARNINGS.get(path.name, [])
    expected = (UNROLL_TASKS if path.stem.startswith("unroll") else TASKS).get(case)
    if path.parent == PA:
        assert len(g) == expected


def test_at_least_three_teaching_examples_and_four_paged_attention_variants() -> None:
    assert {p.stem for p in PA.glob("*.pto")} == {"auto", "manual", "manual_infer",
                                                  "unroll_auto", "unroll_manual"}
    assert len(list((EXAMPLES / "teaching").glob("*.pto"))) >= 3


def _kernel_edges(g: TaskGraph) -> Counter[tuple[str, str, str]]:
    return Counter((g.task(u).kernel, g.task(v).kernel, "+".join(sorted(o.value for o in os)))
                   for u, v, os in g.edges())


def _graph(name: str, case: str) -> TaskGraph:
    return instantiate_case(front_end(read_source(PA / f"{name}.pto")), case)


def test_auto_edges_match_the_reference_on_case_small1() -> None:
    # §3.3: QK->SF, SF->PV, SF->UP, PV->UP, alloc->every UP (creators); UP->UP (TensorMap)
    assert _kernel_edges(_graph("auto", "CaseSmall1")) == Counter({
        ("QK", "SF", "creator"): 3, ("SF", "PV", "creator"): 3, ("SF", "UP", "creator"): 3,
        ("PV", "UP", "creator"): 3, ("alloc", "UP", "creator"): 3,
        ("UP", "UP", "tensormap"): 2})


def test_manual_edges_match_the_reference_on_case_small1() -> None:
    # §3.4 at v0: SF<-QK, PV<-SF, UP<-{SF, PV}, alloc when first and when last, prev UP
    assert _kernel_edges(_graph("manual", "CaseSmall1")) == Counter({
        ("QK", "SF", "explicit"): 3, ("SF", "PV", "explicit"): 3, ("SF", "UP", "explicit"): 3,
        ("PV", "UP", "explicit"): 3, ("alloc", "UP", "explicit"): 2,
        ("UP", "UP", "explicit"): 2})


def test_manual_case1_scale() -> None:
    g = _graph("manual", "Case1")
    assert len(g) == 65792
    assert g.edge_count() == 256 * (64 + 64 + 128 + 1 + 63 + 1)
    assert g.tasks_per_ring() == {1: 65792}
    assert g.scopes_by_mode() == {"manual": 256}
