"""docs/runtime-model.md: every rule it states names the runtime source it comes from and
tests that exist; the project's files cite no document users do not have."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "runtime-model.md"
RULE = re.compile(r"^- \*\*(.+?)\*\*(.*?)(?=^- \*\*|^#|\Z)", re.M | re.S)
TEST = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def _rules() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in RULE.finditer(DOC.read_text("utf-8"))]


def test_every_rule_names_its_source_and_existing_tests() -> None:
    rules = _rules()
    assert len(rules) >= 20
    for name, text in rules:
        assert "Source:" in text, name
        tests = TEST.findall(text)
        assert tests, f"rule '{name}' names no test"
        for path, func in tests:
            source = (ROOT / path).read_text("utf-8")
            assert re.search(rf"^def {func}\(", source, re.M), f"{name}: no {path}::{func}"


def test_every_runtime_rules_field_is_in_the_targets_table() -> None:
    import dataclasses

    from pto_dsl.dialects import RuntimeRules

    text = DOC.read_text("utf-8")
    for f in dataclasses.fields(RuntimeRules):
        if f.name != "lookup_count":  # counted statistics, not a rule of the graph
            assert f"(`{f.name}`)" in text, f.name


def test_no_file_cites_the_private_notes() -> None:
    for folder in ("docs", "pto_dsl", "backends", "examples", "bench"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and path.suffix in (".md", ".py", ".lark", ".j2", ".txt", ".h",
                                                  ".cpp", ".pto"):
                text = path.read_text("utf-8")
                assert "shared/reference" not in text, path
                assert "reference §" not in text, path
