"""Differential tests of the C++ front end: the C++ that pto-compile writes for a program,
recorded, gives back the graph the .pto instantiation builds, for every example and every
case (the 65,792-task paged attentions included), in both dialects, and for random
programs. One test per example, dialect and case; the C++ is built once per example and
dialect."""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st
from test_compile_support import expressible
from test_fuzz import STATEMENTS, random_program

from pto_dsl import record
from pto_dsl.cases import case_names
from pto_dsl.codegen.cpp import generate
from pto_dsl.diagnostics import CompileError
from pto_dsl.dialects import DIALECTS
from pto_dsl.pipeline import Checked, case_values, front_end, instantiate_case, read_source
from pto_dsl.record.compare import differences
from pto_dsl.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").rglob("*.pto"))
pytestmark = pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")


@pytest.fixture(autouse=True)
def _own_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))


def roundtrip(checked: Checked, dialect: str, cpp: Path, cases: list[str]) -> dict[str, list[str]]:
    """Per case, the differences between the instantiated and the recorded graph."""
    cpp.write_text(generate(checked.program, dialect, checked.source.name), encoding="utf-8")
    prepared = record.prepare(cpp, read_source(cpp), DIALECTS[dialect])
    out = {}
    for name in cases:
        expected = instantiate_case(checked, name)
        recorded = record.record(prepared, checked.program, case_values(checked, name))
        out[name] = differences(checked.program, expected, recorded.graph)
    return out


def _example_cases() -> list[tuple[Path, str, str]]:
    """(example, dialect, case) for every example, every dialect that expresses it and
    every case of it."""
    out = []
    for path in EXAMPLES:
        names = case_names(front_end(read_source(path)).program)
        assert names, f"{path} has no case"
        out += [(path, d, c) for d in ("current", "v0") if expressible(path, d) for c in names]
    return out


@functools.cache
def _built(path: Path, dialect: str, where: Path) -> tuple[Checked, record.Prepared]:
    """The example checked for a dialect, and its generated C++ built (once per session)."""
    checked = front_end(read_source(path), DIALECTS[dialect])
    cpp = where / f"{path.parent.name}_{path.stem}.{dialect}.cpp"
    cpp.write_text(generate(checked.program, dialect, checked.source.name), encoding="utf-8")
    return checked, record.prepare(cpp, read_source(cpp), DIALECTS[dialect])


@pytest.mark.parametrize(("path", "dialect", "case"), _example_cases(),
                         ids=lambda v: f"{v.parent.name}/{v.stem}" if isinstance(v, Path)
                         else v)
def test_example_roundtrip(path: Path, dialect: str, case: str,
                           tmp_path_factory: pytest.TempPathFactory) -> None:
    checked, prepared = _built(path, dialect, tmp_path_factory.getbasetemp())
    expected = instantiate_case(checked, case)
    recorded = record.record(prepared, checked.program, case_values(checked, case))
    assert differences(checked.program, expected, recorded.graph) == []


def test_a_difference_is_found(tmp_path: Path) -> None:
    """The comparison is not vacuous: a dep removed from the C++ shows up."""
    path = ROOT / "examples" / "teaching" / "diamond_manual.pto"
    checked = front_end(read_source(path))
    cpp = tmp_path / "d.cpp"
    text = generate(checked.program, "current", checked.source.name)
    cut = text.replace("set_dependencies(", "set_dependencies(nullptr, 0); (void)(", 1)
    assert cut != text
    cpp.write_text(cut, encoding="utf-8")
    prepared = record.prepare(cpp, read_source(cpp), DIALECTS["current"])
    recorded = record.record(prepared, checked.program, case_values(checked, None))
    found = differences(checked.program, instantiate_case(checked, None), recorded.graph)
    assert found and found[0].startswith("task ") and "expected" in found[0]


LAUNCHES = """\
kernel K aiv 0 (in a: f32[N], out b: f32[N])
kernel M aic 1 (in a: f32[N], inout b: f32[N])

entry launches(in x: f32[N], inout y: f32[N]) {
    scope manual {
        let t = K(x, new f32[N]) blocks 4
        DUMMY
        M(t.b, y) blocks 2 sync dep LAST
    }
    M(x, y) blocks 1 sync
}

default case c { N = 8 }
"""


def launches(dialect: str) -> str:
    if dialect == "v0":  # v0 has no dummy tasks
        return LAUNCHES.replace("        DUMMY\n", "").replace("LAST", "t")
    return LAUNCHES.replace("DUMMY", "let d = dummy(in t.b, inout y) dep t").replace("LAST", "d")


@pytest.mark.parametrize("dialect", ["current", "v0"])
def test_launches_and_dummies_roundtrip(dialect: str, tmp_path: Path) -> None:
    """SPMD block counts, sync starts and dummy tasks are recorded as instantiated."""
    checked = front_end(SourceFile("launches.pto", launches(dialect)), DIALECTS[dialect])
    cpp = tmp_path / "launches.cpp"
    assert roundtrip(checked, dialect, cpp, ["c"]) == {"c": []}
    prepared = record.prepare(cpp, read_source(cpp), DIALECTS[dialect])
    graph = record.record(prepared, checked.program, case_values(checked, "c")).graph
    got = [(t.kernel, t.core, t.blocks, t.sync_start) for t in graph.tasks()]
    dummy = [("dummy", "dummy", 1, False)] if dialect == "current" else []
    assert got == [("K", "aiv", 4, False), *dummy, ("M", "aic", 2, True), ("M", "aic", 1, True)]


@pytest.mark.parametrize(("old", "new", "what"), [
    ("set_block_num(4)", "set_block_num(3)", "task 0"),
    ("set_require_sync_start(true)", "set_require_sync_start(false)", "task 2"),
    ("rt_submit_dummy_task(d_args)", "rt_submit_aiv_task(0, d_args)", "task 1"),
])
def test_a_launch_difference_is_found(old: str, new: str, what: str, tmp_path: Path) -> None:
    """The comparison sees a block count, a sync start or a dummy task that differ."""
    checked = front_end(SourceFile("launches.pto", launches("current")))
    text = generate(checked.program, "current", "launches.pto")
    assert old in text
    cpp = tmp_path / "launches.cpp"
    cpp.write_text(text.replace(old, new, 1), encoding="utf-8")
    prepared = record.prepare(cpp, read_source(cpp), DIALECTS["current"])
    try:
        recorded = record.record(prepared, checked.program, case_values(checked, "c"))
    except CompileError as exc:  # the dummy's arguments do not fit kernel K
        assert new.startswith("rt_submit_aiv_task") and exc.diagnostics[0].code == "E807"
        return
    found = differences(checked.program, instantiate_case(checked, "c"), recorded.graph)
    assert found and found[0].startswith(what + ":")


EXAMPLE = ["t = K(x, new f32[N]) blocks 3 sync",
           "scope manual {\nlet @ = dummy(in t.b, out y) dep t\n}"]


@settings(max_examples=int(os.environ.get("PTO_FUZZ_RECORD_EXAMPLES", "3")), deadline=None,
          database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.filter_too_much])
@given(statements=st.lists(STATEMENTS, min_size=1, max_size=6))
@example(statements=EXAMPLE)
def test_random_programs_roundtrip(statements: list[str], tmp_path: Path) -> None:
    text = random_program(statements)
    built = []
    for dialect in ("current", "v0"):
        try:
            checked = front_end(SourceFile("random.pto", text), DIALECTS[dialect])
            code = generate(checked.program, dialect, "random.pto")
            built.append((dialect, checked, code, instantiate_case(checked, "c")))
        except CompileError:
            continue  # rejected by the front end, the backend or the case: nothing to compare
    assume(built)  # only programs with something to compare count as examples
    tasks = list(built[0][3].tasks())
    event(f"SPMD launches: {any(t.blocks > 1 or t.sync_start for t in tasks)}")
    event(f"dummy tasks: {any(t.kernel == 'dummy' for t in tasks)}")
    if statements == EXAMPLE:  # the explicit example has both (the strategy makes them too)
        assert [(t.kernel, t.blocks, t.sync_start) for t in built[0][3].tasks()][2:] == [
            ("K", 3, True), ("dummy", 1, False)]
    for dialect, checked, code, expected in built:
        cpp = tmp_path / f"random_{dialect}.cpp"
        cpp.write_text(code, encoding="utf-8")
        prepared = record.prepare(cpp, read_source(cpp), DIALECTS[dialect])
        recorded = record.record(prepared, checked.program, case_values(checked, "c"))
        assert differences(checked.program, expected, recorded.graph) == [], text
    event(f"compared in {len(built)} dialects")
