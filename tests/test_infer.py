"""Dependency inference: `scope manual infer` and `pto-check --suggest-deps`.

The inferred deps must make every bundled manual program race-free and retention-safe on
every case, be no more numerous per task than the reference's hand-written v0 deps
(§3.4), and be minimal on random programs: removing any one of them gives a race.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from helpers import checked
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_race_property import _execute, _orders
from test_race_property import programs as racy_programs

from pto_dsl import infer, ir
from pto_dsl.cases import case_names
from pto_dsl.cli import check_main
from pto_dsl.infer.guards import choose
from pto_dsl.instantiate import instantiate
from pto_dsl.pipeline import Checked, case_values, front_end, instantiate_case, read_source
from pto_dsl.safety import run_graph_checks

PA = Path(__file__).resolve().parent.parent / "examples" / "paged_attention"
SMALL = ("CaseSmall1", "CaseSmall2", "CaseVarSeq2", "CaseVarSeq4")


def _inferred(path: Path, cases: tuple[str, ...]) -> tuple[Checked, list[infer.Suggestion]]:
    """The program with every manual submission's deps inferred from scratch."""
    c = front_end(read_source(path))
    values = [case_values(c, name) for name in cases]
    program, found = infer.infer(c.program, values, infer.targets(c.program, True),
                                 keep_written=False)
    return Checked(c.source, program, c.dialect), found


def _texts(found: list[infer.Suggestion]) -> dict[str, str]:
    return {s.submit.site.label: s.text for s in found}


def test_inferred_deps_of_manual_pa() -> None:
    _, found = _inferred(PA / "manual.pto", SMALL)
    assert _texts(found) == {"QK": "", "SF": "dep qk", "PV": "dep sf",
                             "UP": "dep acc when bn == nblk - 1, prev, sf, pv"}
    assert all(s.extra == 0 for s in found)


def test_inferred_deps_of_unroll_manual_pa_use_the_step_form_of_last() -> None:
    _, found = _inferred(PA / "unroll_manual.pto", ("Small",))
    assert _texts(found)["UP"] == "dep acc when bn + 64 >= nblk, prev, sf, pv"


@pytest.mark.parametrize(("name", "cases"), [("manual", SMALL),
                                             ("unroll_manual", ("Small",))])
def test_inferred_deps_are_race_free_and_retain_on_every_case(name: str,
                                                              cases: tuple[str, ...]) -> None:
    c, _ = _inferred(PA / f"{name}.pto", cases)
    for case in cases:
        graph = instantiate(c.program, case_values(c, case))
        assert run_graph_checks(c.program, graph) == [], case


@pytest.mark.parametrize("case", ["CaseSmall2", "CaseVarSeq4"])
def test_inferred_deps_are_no_more_than_the_v0_deps_per_task(case: str) -> None:
    written = instantiate_case(front_end(read_source(PA / "manual.pto")), case)
    inferred = instantiate_case(front_end(read_source(PA / "manual_infer.pto")), case)
    assert len(written) == len(inferred)
    fewer = 0
    for a, b in zip(written.tasks(), inferred.tasks(), strict=True):
        assert (a.kernel, a.instance) == (b.kernel, b.instance)
        assert len(set(b.explicit_deps)) <= len(set(a.explicit_deps)), b.label
        fewer += len(set(b.explicit_deps)) < len(set(a.explicit_deps))
    assert fewer > 0  # the first block's alloc dep is not needed


def test_infer_scope_example_gets_the_deps_as_written_ones() -> None:
    c = front_end(read_source(PA / "manual_infer.pto"))
    up = next(t.submit for t in infer.targets(c.program) if t.submit.site.label == "UP")
    assert [d.var.name for d in up.deps] == ["acc", "prev", "sf", "pv"]
    assert all(d.inferred for d in up.deps)
    assert isinstance(up.deps[0].guard, ir.Binary)
    for case in case_names(c.program):
        assert run_graph_checks(c.program, instantiate_case(c, case)) == []


def test_written_deps_in_an_infer_scope_are_kept() -> None:
    c = checked("""
kernel W aiv 0 (out a: f32[N])
kernel R aiv 1 (in a: f32[N], out b: f32[N])
entry e(out x: f32[N], out y: f32[N], out z: f32[N]) {
    scope manual infer {
        let w = W(x)
        let other = W(z)
        R(x, y) dep other
    }
}
case one { N = 4 }
""")
    r = infer.targets(c.program)[-1].submit
    assert [(d.var.name, d.inferred) for d in r.deps] == [("other", False), ("w", True)]


def test_a_dep_needed_on_some_iterations_gets_a_guard() -> None:
    c = checked("""
kernel LOAD aic 0 (in x: f32[T, C], out y: f32[T, C])
kernel ACCUM aiv 1 (in y: f32[T, C], inout acc: f32[T, C], first: bool)
kernel STORE aiv 2 (in acc: f32[T, C], out dst: f32[T, C])
entry tiles(in x: f32[N, C], out out: f32[T, C]) {
    scope manual infer {
        let acc = alloc(buf: f32[T, C])
        let last = none
        for i in 0 .. N / T {
            let tile = LOAD(x[i * T : i * T + T, :], new f32[T, C])
            last = ACCUM(tile.y, acc.buf, i == 0)
        }
        STORE(acc.buf, out)
    }
}
case Small { N = 256, T = 64, C = 16 }
case One { N = 64, T = 64, C = 16 }
""")
    values = [case_values(c, n) for n in ("Small", "One")]
    _, found = infer.infer(c.program, values, infer.targets(c.program), keep_written=False)
    # STORE is the last user of the alloc's buffer, so it is the one that names it
    assert _texts(found) == {"LOAD": "", "ACCUM": "dep last, tile", "STORE": "dep acc, last"}


def test_guard_choice() -> None:
    first, last, mid = (True, False), (False, True), (False, False)
    both = (True, True)
    assert choose(2, [first], [mid, last])[0].literals == ((0, False),)
    assert choose(2, [last, both], [mid, first])[0].literals == ((1, False),)
    guard, extra = choose(2, [first, last], [mid])
    assert (guard.literals, guard.conj, extra) == (((0, False), (1, False)), False, 0)
    guard, extra = choose(2, [mid], [mid])  # nothing separates: keep it, count the cost
    assert (guard.literals, extra) == ((), 1)


def test_suggest_deps_prints_the_deps_in_program_syntax(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert check_main([str(PA / "manual.pto"), "--suggest-deps", "--case", "CaseSmall2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].endswith(": SF: dep qk  (as written)")
    # on this case's instances the written `bn > 0 and bn == nblk - 1` is the inferred
    # `bn == nblk - 1` (every request has several blocks): the written guard is kept
    assert out[3].endswith(": UP: dep acc when bn > 0 and bn == nblk - 1, prev, sf, pv")
    assert out[4] == ("    written: dep sf, pv, acc when bn == 0, prev, acc when bn > 0 and "
                      "bn == nblk - 1")
    assert out[-1] == ("4 manual submissions; deps inferred from 1 case (32 task instances); "
                       "1 differs from what is written")


def test_suggest_deps_without_manual_scope_or_case(capsys: pytest.CaptureFixture[str],
                                                   tmp_path: Path) -> None:
    assert check_main([str(PA / "auto.pto"), "--suggest-deps"]) == 0
    assert "nothing to infer" in capsys.readouterr().out
    prog = tmp_path / "p.pto"
    prog.write_text("kernel K aiv 0 (inout a: f32[N])\n"
                    "entry e(inout x: f32[N]) { scope manual { K(x) } }\n")
    assert check_main([str(prog), "--suggest-deps"]) == 2
    assert "declares none" in capsys.readouterr().err


def _all_inferred(text: str) -> str:
    """The random program with every task in one `scope manual infer` block."""
    head, body = text.split("{\n", 1)
    body, tail = body.rsplit("\n}", 1)
    lines = [line.strip().removeprefix("scope manual ").removeprefix("scope ")
             .strip("{} ") for line in body.splitlines()]
    lets = [line for line in lines if line.startswith("let ")]
    tasks = [line.split(" dep ")[0] for line in lines if line and not line.startswith("let ")]
    return (head + "{\n" + "\n".join("    " + x for x in lets) + "\n    scope manual infer {\n"
            + "\n".join("        " + t for t in tasks) + "\n    }\n}" + tail)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(racy_programs(), st.data())
def test_inferred_deps_are_exact_on_random_programs(text: str, data: st.DataObject) -> None:
    c = checked(_all_inferred(text))
    graph = instantiate_case(c, None)
    assert run_graph_checks(c.program, graph) == []
    outcomes = {_execute(graph, order) for order in itertools.islice(_orders(graph), 720)}
    assert len(outcomes) == 1
    with_deps = [t for t in infer.targets(c.program) if t.submit.deps]
    if with_deps:  # dropping any one inferred dep gives a race: none is superfluous
        submit = data.draw(st.sampled_from(with_deps)).submit
        k = data.draw(st.integers(0, len(submit.deps) - 1))
        fewer = infer.with_deps(c.program, {submit.site.id: submit.deps[:k]
                                            + submit.deps[k + 1:]})
        found = run_graph_checks(fewer, instantiate(fewer, case_values(c, None)))
        assert found and {d.code for d in found} == {"E201"}


TAIL = """kernel STAGE aiv 0 (in x: f32[N], out y: f32[N])
kernel USE aiv 1 (in y: f32[N], out z: f32[N])

entry tail(in x: f32[T, N], out acc: f32[T, N], n: i32) {
    scope manual {
        let stage = none
        for i in 0 .. n {
            let s = STAGE(reshape(x, [T * N])[i * N : i * N + N], new f32[N])
            if i >= n - 2 {
                stage = s
                USE(stage.y, reshape(acc, [T * N])[i * N : i * N + N]) dep stage when GUARD
            }
        }
    }
}

default case small { T = 6, N = 4, n = 6 }
case large { T = 9, N = 4, n = 9 }
"""


@pytest.mark.parametrize("guard, as_written", [
    ("i >= n - 2", True),  # always true where USE runs: the same as no guard, kept
    ("i + 2 >= n", True),
    ("i > n - 3 and true", True),
    ("i == n - 1", False),  # misses i = n - 2, which needs the dep
])
def test_suggest_deps_recognises_a_written_guard(guard: str, as_written: bool, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A guard the loop-position atoms cannot write is compared by its values on every
    instance of every case; when it is as good as the inferred one it is kept."""
    prog = tmp_path / "tail.pto"
    prog.write_text(TAIL.replace("GUARD", guard), encoding="utf-8")
    assert check_main([str(prog), "--suggest-deps"]) == 0
    use = capsys.readouterr().out.splitlines()[1]
    if as_written:
        assert use.endswith(f": USE: dep stage when {guard}  (as written)"), use
    else:
        assert use.endswith(": USE: dep stage"), use


# USE reads what this iteration's STAGE wrote only in the last two iterations (before them it
# reads a block nobody writes): no first/last-iteration guard says "the last two".
LAST_TWO = """kernel STAGE aiv 0 (in x: f32[N], out y: f32[N])
kernel USE aiv 1 (in y: f32[N], out z: f32[N])

entry tail(in x: f32[T, N], out w: f32[W, N], out acc: f32[T, N], n: i32) {
    let xs = reshape(x, [T * N])
    let ws = reshape(w, [W * N])
    let accs = reshape(acc, [T * N])
    scope manual {
        for i in 0 .. n {
            let s = STAGE(xs[i * N : i * N + N], ws[i * N : i * N + N])
            let d = min(max(n - 2 - i, 0), 1)
            let r = i + d * (n + 1 - i)
            USE(ws[r * N : r * N + N], accs[i * N : i * N + N]) dep s when GUARD
        }
    }
}

default case small { T = 6, W = 8, N = 4, n = 6 }
case large { T = 9, W = 11, N = 4, n = 9 }
"""


def test_suggest_deps_keeps_a_written_guard_the_atoms_cannot_write(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prog = tmp_path / "last_two.pto"
    prog.write_text(LAST_TWO.replace(" when GUARD", ""), encoding="utf-8")
    assert check_main([str(prog), "--suggest-deps"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].endswith(": USE: dep s when i > 0")  # the best atom guard, not exact
    assert out[3].startswith("    note: 9 instances get a dep they do not need")
    prog.write_text(LAST_TWO.replace("GUARD", "i >= n - 2"), encoding="utf-8")
    assert check_main([str(prog), "--suggest-deps"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].endswith(": USE: dep s when i >= n - 2  (as written)"), out
    assert out[-1].endswith("0 differ from what is written")
