"""The fixes diagnostics carry as data: applying each one removes its diagnostic."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pto_dsl import pipeline
from pto_dsl.diagnostics import CompileError, Diagnostic, Fix
from pto_dsl.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
FIXABLE = ("E201", "W201", "W301", "W302", "W101", "W102")


def _doc_examples() -> list[tuple[str, str]]:
    text = (ROOT / "docs" / "language.md").read_text()
    found = re.findall(r"```pto\n# expect: (\w+)\n(.*?)```", text, re.S)
    return [(code, body) for code, body in found if code in FIXABLE
            and not body.startswith("# options")]


def _check(text: str) -> list[Diagnostic]:
    try:
        checked = pipeline.front_end(SourceFile("t.pto", text))
    except CompileError as exc:
        return exc.diagnostics
    if not checked.program.cases:
        return checked.warnings
    try:
        graph = pipeline.instantiate_case(checked, None)
        return checked.warnings + pipeline.check_graph(checked, graph)
    except CompileError as exc:
        return exc.diagnostics


def _apply(text: str, fix: Fix) -> str:
    for edit in sorted(fix.edits, key=lambda e: -e.span.start):
        text = text[:edit.span.start] + edit.text + text[edit.span.end:]
    return text


def test_every_fixable_code_has_a_documented_example() -> None:
    assert sorted({code for code, _ in _doc_examples()}) == sorted(FIXABLE)


@pytest.mark.parametrize(("code", "text"), _doc_examples(), ids=lambda v: v[:4])
def test_applying_the_fix_removes_the_diagnostic(code: str, text: str) -> None:
    diags = [d for d in _check(text) if d.code == code]
    assert diags and diags[0].fixes, f"{code} carries no fix"
    fixed = _apply(text, diags[0].fixes[0])
    assert [d.code for d in _check(fixed)] == []


@pytest.mark.parametrize(("clause", "code", "left"), [
    ("K(a) dep t, t", "W101", "K(a) dep t"),
    ("K(a)\n            dep prev", "W102", "K(a)"),
    ("K(a) dep prev when n > 0, t", "W102", "K(a) dep t"),
    ("K(a) dep t, prev", "W102", "K(a) dep t"),
])
def test_removal_takes_the_guard_and_the_keyword_along(clause: str, code: str,
                                                       left: str) -> None:
    text = ("kernel K aiv 1 (in x)\nentry main(in a: f32[N], n: i32) {\n    scope manual {\n"
            "        let prev = none\n        let t = K(a)\n        " + clause + "\n    }\n}\n")
    diag = next(d for d in _check(text) if d.code == code)
    fixed = _apply(text, diag.fixes[0])
    assert fixed.splitlines()[5].strip() == left
    assert _check(fixed) == []
