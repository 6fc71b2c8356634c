"""Front-end invariants: every AST node carries a span, no Lark object survives, and
every example lowers to IR whose task variables and scopes are resolved."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import lark
import pytest

from pto_dsl import ir, nodes
from pto_dsl.build import build
from pto_dsl.parse import parse
from pto_dsl.pipeline import front_end, read_source
from pto_dsl.source import Span

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").rglob("*.pto"))


def _walk(obj: object, seen: list[object]) -> None:
    if isinstance(obj, (lark.Tree, lark.Token)):
        raise AssertionError(f"a Lark object survived into the AST: {obj!r}")
    if isinstance(obj, (tuple, list)):
        for item in obj:
            _walk(item, seen)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, (type, Span)):
        seen.append(obj)
        for f in dataclasses.fields(obj):
            _walk(getattr(obj, f.name), seen)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_ast_nodes_have_spans_and_no_lark_objects(path: Path) -> None:
    source = read_source(path)
    program = build(parse(source), source)
    seen: list[object] = []
    _walk(program, seen)
    assert len(seen) > 20
    for node in seen:
        span = getattr(node, "span", None)
        assert isinstance(span, Span), f"{type(node).__name__} has no span"
        assert 0 <= span.start <= span.end <= len(source.text)
        assert type(node).__module__ == nodes.__name__


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_sites_and_scopes_carry_their_source(path: Path) -> None:
    program = front_end(read_source(path)).program
    assert program.sites and all(isinstance(s.span, Span) for s in program.sites)
    for scope in program.scopes:
        depth = 1 if scope.parent is None else scope.parent.depth + 1
        assert scope.depth == depth
    assert all(isinstance(k, ir.Kernel) for k in program.kernels.values())


def test_check_file_runs_every_stage_and_collects_the_warnings(tmp_path: Path) -> None:
    from rules_programs import unroll_manual_alloc_after_sf, write

    from pto_dsl.pipeline import check_file

    late = write(tmp_path, "late.pto", unroll_manual_alloc_after_sf())
    checked, graph = check_file(late)
    assert graph is not None and len(graph) == 15
    assert [d.code for d in checked.warnings] == ["W301"]
