"""Race checking: hazards must be ordered by the edges the runtime creates."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import checked
from hypothesis import given, settings
from hypothesis import strategies as st

from pto_dsl import nodes
from pto_dsl.build import build
from pto_dsl.diagnostics import Diagnostic
from pto_dsl.graph import Access, Buffer
from pto_dsl.ir import Tag
from pto_dsl.parse import parse
from pto_dsl.pipeline import instantiate_case
from pto_dsl.regions import Region
from pto_dsl.safety import hazards, run_graph_checks
from pto_dsl.source import SourceFile

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def findings(text: str, case: str | None = None) -> list[Diagnostic]:
    c = checked(text)
    return run_graph_checks(c.program, instantiate_case(c, case))


def codes(text: str) -> list[str]:
    return [d.code for d in findings(text)]


KERNELS = """
kernel W aiv 0 (out y: f32[_])
kernel R aiv 1 (in x: f32[_], out y: f32[_])
kernel U aiv 2 (inout x: f32[_])
"""


def prog(body: str) -> str:
    return KERNELS + f"entry e(inout buf: f32[N], out o: f32[N]) {{\n{body}\n}}\n" \
        "default case Small { N = 8 }\n"


def test_ordered_hazards_are_not_races() -> None:
    assert codes(prog("scope manual { let u = U(buf)\n R(buf, o) dep u }")) == []
    assert codes(prog("scope { U(buf)\n R(buf, o) }")) == []  # TensorMap edge


def test_manual_raw_without_dep_is_an_error() -> None:
    (d,) = findings(prog("scope manual { let u = U(buf)\n R(buf, o) }"))
    assert d.code == "E201" and "read after write" in d.message
    assert 'add "dep u"' in d.help[0]


def test_auto_war_is_a_warning_and_auto_waw_on_output_existing_an_error() -> None:
    (war,) = findings(prog("scope { let r = R(buf, o)\n U(buf) }"))
    assert (war.code, "write after read" in war.message) == ("W201", True)
    # OUTPUT_EXISTING takes no WAW lookup: two writers of `o` stay unordered
    (waw,) = findings(prog("scope { W(o)\n W(o) }"))
    assert waw.code == "E201" and "write after write" in waw.message


def test_disjoint_views_do_not_race() -> None:
    assert codes(prog("scope manual { U(buf[0 : 4])\n U(buf[4 : 8]) }")) == []
    assert codes(prog("scope manual { U(buf[0 : 5])\n U(buf[4 : 8]) }")) == ["E201"]


def test_manual_writer_then_auto_reader_needs_an_explicit_dep() -> None:
    body = "scope {{ let m = none\n scope manual {{ m = U(buf) }}\n R(buf, o) {dep} }}"
    assert codes(prog(body.format(dep=""))) == ["E201"]
    assert codes(prog(body.format(dep="dep m"))) == []


def test_one_diagnostic_per_pair_of_sites_with_the_instance_count() -> None:
    found = findings(prog("scope manual { for i in 0 .. 5 { let u = U(buf)\n R(buf, o) dep u } }"))
    # R(i) follows U(i), but U(i+1) follows neither U(i) nor R(i), nor R(i+1) R(i)
    kinds = {(d.message.split("'")[1], d.message.split("'")[-2]): d for d in found}
    assert set(kinds) == {("U", "U"), ("U", "R"), ("R", "R")}
    assert all(d.code == "E201" and "; 3 more instances" in d.notes[1].message
               for d in found)


# ---- removing one dep of a bundled manual example --------------------------------

def _dep_clauses(source: SourceFile) -> list[tuple[str, tuple[nodes.DepItem, ...]]]:
    """Every dep clause of the entry with the kernel its statement submits."""
    program = build(parse(source), source)
    found: list[tuple[str, tuple[nodes.DepItem, ...]]] = []

    def walk(stmts: tuple[nodes.Stmt, ...]) -> None:
        for s in stmts:
            if isinstance(s, (nodes.Let, nodes.Assign)) and s.deps:
                assert isinstance(s.value, nodes.Call)
                found.append((s.value.func.name, s.deps))
            elif isinstance(s, nodes.ExprStmt) and s.deps:
                found.append((s.call.func.name, s.deps))
            elif isinstance(s, (nodes.For, nodes.Scope)):
                walk(s.body.stmts)
            elif isinstance(s, nodes.If):
                walk(s.then.stmts)
                if s.orelse:
                    walk(s.orelse.stmts)
    for entry in program.entries:
        walk(entry.body.stmts)
    return found


def _without(text: str, clause: tuple[nodes.DepItem, ...], index: int) -> str:
    """The program text with one item of a dep clause removed (the clause, if it is alone)."""
    item = clause[index]
    if len(clause) == 1:
        return text[:text.rindex("dep", 0, item.span.start)] + text[item.span.end:]
    if index + 1 < len(clause):
        return text[:item.span.start] + text[clause[index + 1].span.start:]
    return text[:clause[index - 1].span.end] + text[item.span.end:]


def _mutations(text: str, name: str) -> list[tuple[str, str]]:
    """(label, mutated text) per dep entry; a label is the dep's name @ the kernel whose
    submission lists it, numbered when one clause lists the name twice."""
    out = []
    for kernel, clause in _dep_clauses(SourceFile(name, text)):
        for index, item in enumerate(clause):
            same = [i for i in clause if i.name.name == item.name.name]
            label = f"{item.name.name}@{kernel}"
            if len(same) > 1:
                label += f"#{same.index(item)}"
            out.append((label, _without(text, clause, index)))
    return out


# For every dep entry of the manual examples, what removing it leaves, over all of the
# example's small cases: a race (earlier kernel, later kernel), a retention warning (creator,
# user: the order still holds through other deps but the buffer is no longer held,
# docs/runtime-model.md "Retention"), or None: nothing, where the dep names the creator of a
# buffer the task uses but an older task of the ring (the alloc task) is held anyway; such a
# dep is not called redundant (W302) either, as the safety it leaves is fragile.
Finding = tuple[str, str, str]
EXPECTED: dict[str, dict[str, Finding | None]] = {
    "manual.pto": {"qk@SF": ("E201", "QK", "SF"), "sf@PV": ("E201", "SF", "PV"),
                   "sf@UP": None, "pv@UP": ("E201", "PV", "UP"),
                   "acc@UP#0": ("W301", "alloc", "UP"), "prev@UP": ("E201", "UP", "UP"),
                   "acc@UP#1": ("W301", "alloc", "UP")},
    "unroll_manual.pto": {"qk@SF": ("E201", "QK", "SF"), "sf@PV": ("E201", "SF", "PV"),
                          "pv@UP": ("E201", "PV", "UP"), "acc@UP#0": ("W301", "alloc", "UP"),
                          "prev@UP": ("E201", "UP", "UP"), "acc@UP#1": ("W301", "alloc", "UP")},
    "diamond_manual.pto": {"top@LEFT": ("E201", "SPLIT", "LEFT"),
                           "top@RIGHT": ("E201", "SPLIT", "RIGHT"),
                           "left@JOIN": ("E201", "LEFT", "JOIN"),
                           "right@JOIN": ("E201", "RIGHT", "JOIN")},
    "nested_scopes.pto": {"tile@ACCUM": ("E201", "TILE", "ACCUM"),
                          "last@ACCUM": ("E201", "ACCUM", "ACCUM"),
                          "last@STORE": ("E201", "ACCUM", "STORE")},
}
# The runtime's unroll manual orchestration never names SF in UP's deps: safe, because each
# ring is reclaimed in order and the alloc task, older than every SF, is held until the last
# UP of the scope finishes (docs/runtime-model.md, "Retention").
BASE: dict[str, set[Finding]] = {}
SMALL_CASES = ("CaseSmall1", "CaseSmall2", "CaseVarSeq2", "CaseVarSeq4", "Small")


def _findings_over_cases(text: str) -> set[tuple[str, str, str]]:
    c = checked(text)
    out: set[tuple[str, str, str]] = set()
    for case in (x.name.name for x in c.program.cases if x.name.name in SMALL_CASES):
        for d in run_graph_checks(c.program, instantiate_case(c, case)):
            out.add((d.code, d.notes[0].message.split("'")[1], d.message.split("'")[1]))
    return out


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_removing_any_single_dep_of_a_manual_example(name: str) -> None:
    text = next(EXAMPLES.rglob(name)).read_text()
    base = _findings_over_cases(text)
    assert base == BASE.get(name, set())
    seen: dict[str, Finding | None] = {}
    for label, mutated in _mutations(text, name):
        found = _findings_over_cases(mutated) - base
        expected = EXPECTED[name][label]
        seen[label] = expected
        if expected is None:
            assert found == set(), (label, found)
            continue
        assert expected in found, (label, found)
        if expected[0] == "W301":  # the order still holds: no race
            assert {f[0] for f in found} == {"W301"}, (label, found)
    assert seen == EXPECTED[name]


def test_post_750_update_deps_are_safe_by_in_order_reclaim() -> None:
    # after #750 UP depends on PV, the previous UP and, on the last block, the alloc task;
    # it still reads SF's outputs mij and lij, which stay alive: the alloc task is older
    # than every SF of its ring and the last UP, which every UP reaches, holds it
    text = next(EXAMPLES.rglob("manual.pto")).read_text()
    v0 = "dep sf, pv, acc when bn == 0, prev, acc when bn > 0 and bn == nblk - 1"
    assert v0 in text
    mutated = text.replace(v0, "dep pv, prev, acc when bn == nblk - 1")
    for case in ("CaseSmall2", "CaseVarSeq4"):
        assert findings(mutated, case) == []


def test_scope_capacity_against_the_task_window() -> None:
    from pto_dsl.dialects import RuntimeConfig

    text = KERNELS + """
entry e(inout buf: f32[N], inout other: f32[N]) {
    U(buf)
    scope { for i in 0 .. 15 { U(buf) } }
    scope manual { let prev = none
        for i in 0 .. 16 { let u = U(other) dep prev
            prev = u } }
}
default case Small { N = 8 }
"""
    c = checked(text)
    g = instantiate_case(c, None)
    assert run_graph_checks(c.program, g) == []  # the default window is 16384
    found = run_graph_checks(c.program, g, RuntimeConfig(16))
    assert [(d.code, d.span.line if d.span else 0) for d in found] == [("E202", 9)]
    assert "holds 16 tasks" in found[0].message
    with pytest.raises(ValueError):
        RuntimeConfig(12)


def test_redundant_deps() -> None:
    # implied through another producer, and no buffer of the producer used: redundant
    (d,) = findings(prog("scope manual { let a = U(buf)\n let b = U(buf) dep a\n"
                         " U(buf) dep b, a }"))
    assert (d.code, d.message.startswith("dep 'a' is redundant")) == ("W302", True)
    assert "already waits for 'U'" in d.message and "all" not in d.notes[0].message
    # the runtime creates the edge itself in an AUTO scope (creator edge)
    (d,) = findings(prog("scope { let w = W(new f32[N])\n R(w.y, o) dep w }"))
    assert d.code == "W302" and "creates this edge itself" in d.message
    # implied for ordering, but the only thing that keeps w's buffer alive for the reader
    assert findings(prog("scope manual { let w = W(new f32[N])\n let r = R(w.y, o) dep w\n"
                         " R(w.y, buf) dep r, w }")) == []


def test_a_dep_redundant_in_some_instances_only_is_kept() -> None:
    text = prog("""scope manual {
        let first = U(buf)
        let prev = first
        for i in 0 .. 3 {
            let u = U(buf) dep prev, first
            prev = u
        }
    }""")
    # `first` is implied by `prev` except in the first iteration, where prev is first itself
    assert findings(text) == []


def test_all_cases_reports_a_shared_finding_once(capsys: pytest.CaptureFixture[str],
                                                 tmp_path: Path) -> None:
    from rules_programs import unroll_manual_alloc_after_sf, write

    from pto_dsl.cli import check_main

    path = write(tmp_path, "late.pto", unroll_manual_alloc_after_sf())
    assert check_main([str(path), "--all-cases"]) == 0
    err = capsys.readouterr().err
    assert err.count("warning[W301]") == 1
    assert "= note: found in cases Small, Case1, Case2" in err


SEGMENTS = ((0, 2), (2, 4), (4, 8))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.sampled_from(
    [Tag.INPUT, Tag.INOUT, Tag.OUTPUT_EXISTING])), min_size=2, max_size=12))
def test_region_chains_find_what_the_frontier_finds(uses: list[tuple[int, Tag]]) -> None:
    """The fast path for buffers used in disjoint regions gives exactly the hazards of the
    general frontier."""
    buf = Buffer(0, "b", "f32", (8,), None)
    built = [hazards.Use(t, acc, acc.writes, acc.reads) for t, (seg, tag) in enumerate(uses)
             for lo, hi in [SEGMENTS[seg]]
             for acc in [Access(buf, Region((8,), (lo,), (hi - lo,)), tag, "p", False)]]
    chains = hazards._disjoint_chains(built)
    assert chains is not None
    fast: list[hazards.Hazard] = []
    for chain in chains:
        hazards._chain(chain, fast.append)
    slow: list[hazards.Hazard] = []
    hazards._frontier(built, slow.append)

    def key(h: hazards.Hazard) -> tuple[str, int, int]:
        return (h.kind.value, h.earlier.task, h.later.task)
    assert sorted(map(key, fast)) == sorted(map(key, slow))
