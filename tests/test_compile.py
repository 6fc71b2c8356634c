"""pto-compile: golden C++ for every example and per-construct input, in both dialects,
byte-identical on every run, and all of it accepted by `g++ -fsyntax-only -Wall -Wextra
-Werror` against this project's interface headers. `pytest --update-golden` rewrites the
goldens (review the diff)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_compile_support import (
    CONSTRUCTS,
    DIALECT_NAMES,
    EXAMPLES,
    GOLDEN,
    GXX,
    V0_REFUSALS,
    compile_file,
    compile_text,
    doc_programs,
    expressible,
    golden_name,
    include_dir,
    syntax_check,
)

from pto_dsl.diagnostics import CompileError

INPUTS = [*EXAMPLES, *CONSTRUCTS]
ORIGIN = re.compile(r"^(\s*// [\w.-]+\.pto):\d+$", re.M)


def _comparable(path: Path, text: str) -> str:
    """Examples gain lines (kernel attributes, cases) as other tools grow; their goldens
    are compared without the line numbers of the origin comments, so only a change of the
    code itself needs `--update-golden`. The per-construct goldens are compared exactly."""
    return ORIGIN.sub(r"\1:N", text) if path in EXAMPLES else text


def _id(path: Path) -> str:
    return golden_name(path, "x").removesuffix(".x.cpp")


@pytest.mark.parametrize("dialect", DIALECT_NAMES)
@pytest.mark.parametrize("path", INPUTS, ids=_id)
def test_golden(path: Path, dialect: str, update_golden: bool) -> None:
    if not expressible(path, dialect):
        with pytest.raises(CompileError) as exc:
            compile_file(path, dialect)
        assert {d.code for d in exc.value.diagnostics} <= V0_REFUSALS
        assert all(d.span is not None for d in exc.value.diagnostics)
        return
    text = compile_file(path, dialect)
    golden = GOLDEN / golden_name(path, dialect)
    if update_golden:
        golden.write_text(text, encoding="utf-8", newline="\n")
        return
    assert golden.exists(), f"no golden {golden.name}: run pytest --update-golden"
    expected = golden.read_text(encoding="utf-8")
    assert _comparable(path, text) == _comparable(path, expected), \
        f"{golden.name} differs (if the change is intended: pytest --update-golden)"


@pytest.mark.parametrize("path", EXAMPLES, ids=_id)
def test_output_is_deterministic(path: Path) -> None:
    for dialect in DIALECT_NAMES:
        if expressible(path, dialect):
            assert compile_file(path, dialect) == compile_file(path, dialect)


def test_every_golden_has_an_input() -> None:
    expected = {golden_name(p, d) for p in INPUTS for d in DIALECT_NAMES if expressible(p, d)}
    stale = sorted(p.name for p in GOLDEN.glob("*.cpp") if p.name not in expected)
    assert not stale, f"goldens without an input: {stale}"


@pytest.mark.skipif(GXX is None, reason="g++ is not installed: the C++ syntax check needs it")
@pytest.mark.parametrize("dialect", DIALECT_NAMES)
def test_generated_code_compiles(dialect: str, tmp_path: Path) -> None:
    """Every golden file, every example and input whose output differs from its golden, and
    every complete program of the documentation, compiled in one g++ run per dialect."""
    sources = sorted(GOLDEN.glob(f"*.{dialect}.cpp"))
    for path in INPUTS:
        if not expressible(path, dialect):
            continue
        text = compile_file(path, dialect)
        golden = GOLDEN / golden_name(path, dialect)
        if not golden.exists() or golden.read_text(encoding="utf-8") != text:
            out = tmp_path / golden.name
            out.write_text(text, encoding="utf-8")
            sources.append(out)
    for name, text in doc_programs():  # the documentation's programs, as a wider corpus
        try:
            generated = compile_text(name, text, dialect)
        except CompileError as exc:  # what the dialect or C++ cannot express is refused
            assert all(d.code.startswith(("E15", "E40")) for d in exc.diagnostics), name
            continue
        out = tmp_path / f"{name}.{dialect}.cpp"
        out.write_text(generated, encoding="utf-8")
        sources.append(out)
    assert len(sources) >= sum(expressible(p, dialect) for p in INPUTS) + 10
    result = syntax_check(sources, include_dir(tmp_path / "include", dialect))
    assert result.returncode == 0, result.stderr[-4000:]


BAD_SNIPPETS = {
    "temporary tensor argument": "void f(const ChipTensor &t, const uint32_t *s) {\n"
                                 "    CoreTaskArgs a;\n    a.add_input(t.view(s, s));\n}\n",
    "scalar that is not arithmetic": "struct S {};\nvoid f() {\n    CoreTaskArgs a;\n"
                                     "    a.add_scalar(S{});\n}\n",
    "v0 dependency call": "void f(PTO2TaskId t) {\n    CoreTaskArgs a;\n    a.add_dep(t);\n}\n",
    "copying the argument builder": "void f(const CoreTaskArgs &a) {\n"
                                    "    CoreTaskArgs b = a;\n    (void)b;\n}\n",
}


@pytest.mark.skipif(GXX is None, reason="g++ is not installed: the C++ syntax check needs it")
def test_the_interface_header_rejects_misuse(tmp_path: Path) -> None:
    """The check is not vacuous: the header refuses what the runtime's API refuses, and
    the other dialect's spelling."""
    include = include_dir(tmp_path / "include", "current")
    sources = []
    for n, snippet in enumerate(BAD_SNIPPETS.values()):
        src = tmp_path / f"bad{n}.cpp"
        src.write_text('#include "pto_orchestration_api.h"\n' + snippet, encoding="utf-8")
        sources.append(src)
    for src, what in zip(sources, BAD_SNIPPETS):
        assert syntax_check([src], include).returncode != 0, what
    v0_code = tmp_path / "v0.cpp"
    v0_code.write_text(compile_file(EXAMPLES[0], "v0"), encoding="utf-8")
    assert syntax_check([v0_code], include).returncode != 0
