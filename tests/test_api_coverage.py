"""The coverage table of docs/language.md: every name of the runtime's orchestration API is
a row, each row says what produces it in `.pto` or why it is not in the language, and the
"used by" counts are those of the runtime's own orchestrations (with PTO_SIMPLER_ROOT)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LANGUAGE = ROOT / "docs" / "language.md"
SIMPLER = Path(os.environ["PTO_SIMPLER_ROOT"]) if os.environ.get("PTO_SIMPLER_ROOT") else None
RUNTIME = "src/a2a3/runtime/tensormap_and_ringbuffer"
needs_runtime = pytest.mark.skipif(SIMPLER is None,
                                   reason="set PTO_SIMPLER_ROOT to a runtime checkout")


def coverage_rows() -> list[tuple[str, str, str]]:
    """(API cell, used-by cell, construct cell) of every row of the section's tables."""
    text = LANGUAGE.read_text("utf-8")
    section = text.split("## Coverage of the runtime's orchestration API", 1)[1]
    section = section.split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if line.startswith("| ") and len(cells) == 3 and cells[1] not in ("used by", "---:"):
            rows.append((cells[0], cells[1], cells[2]))
    return rows


def test_every_row_names_its_construct_or_its_reason() -> None:
    rows = coverage_rows()
    assert len(rows) > 40
    for api, used_by, construct in rows:
        assert used_by.isdigit(), api
        linked = "](#" in construct
        reasoned = re.match(r"(out of scope|not in the language)(: | yet)", construct)
        assert linked or reasoned, f"{api}: neither a construct nor a reason: {construct}"


def _api_names(root: Path) -> set[str]:
    """The public names orchestration code can call: the API header's functions and macros,
    the argument builder's public methods, the tensor's view family and constructors."""
    api = (root / RUNTIME / "orchestration/pto_orchestration_api.h").read_text()
    names = set(re.findall(r"^static inline [\w:<>&* ]+?\b(\w+)\(", api, re.M))
    names |= {n for n in re.findall(r"^#define ([A-Za-z]\w*)\(", api, re.M)}
    types = (root / RUNTIME / "runtime/pto_types.h").read_text()
    start = types.index("struct Arg : TaskArgsTpl")
    public = re.split(r"\n\s*(?:private|protected):", types[start:types.index("\n};", start)])[0]
    names |= set(re.findall(r"^\s{4}(?:[\w:<>&*]+\s+)+?(\w+)\s*\(", public, re.M))
    deps = (root / RUNTIME / "orchestration/pto_arg_with_deps.h").read_text()
    names |= set(re.findall(r"using CoreTaskArgs::(\w+)", deps))
    names |= {n for n in re.findall(r"^\s{4}void (\w+)\(", deps, re.M) if not n.endswith("_impl")}
    tensor = (root / "src/common/task_interface/tensor.h").read_text()
    names |= set(re.findall(r"^\s{4}ChipTensor (\w+)\(", tensor, re.M))
    names |= set(re.findall(r"^inline ChipTensor (\w+)\(", tensor, re.M))
    return names


def _orchestrations(root: Path) -> list[str]:
    dirs = [root / "examples/a2a3/tensormap_and_ringbuffer",
            root / "tests/st/a2a3/tensormap_and_ringbuffer"]
    files = sorted(p for d in dirs for p in d.rglob("*.cpp") if "orchestration" in p.parts)
    return [re.sub(r"//[^\n]*|/\*.*?\*/", "", p.read_text(), flags=re.S) for p in files]


def _names(api_cell: str) -> list[str]:
    names = re.findall(r"`([^`]+)`", api_cell)
    assert names, api_cell
    return names


def _uses(source: str, written: str) -> bool:
    """Whether an orchestration uses a name the table writes: `T name[N]` declares an array of
    T, `X::m` and `a.m` are method calls, a capitalised name is a type, others are calls."""
    array = re.fullmatch(r"(\w+) \w+\[N\]", written)
    if array:
        return re.search(rf"\b{array.group(1)}\s+\w+\s*\[", source) is not None
    name = re.split(r"[(<{\[ ]", written)[0]
    if "::" in name or "." in name:
        method = re.split(r"::|\.", name)[-1]
        return re.search(rf"\.{method}\s*(<[^>]*>)?\s*\(", source) is not None
    if name in ("current", "v0"):
        return False
    if name[0].isupper():
        return re.search(rf"\b{name}\b", source) is not None
    return re.search(rf"\b{name}\s*(<[^>]*>)?\s*\(", source) is not None


@needs_runtime
def test_every_api_name_has_a_row() -> None:
    assert SIMPLER is not None
    table = " ".join(api for api, _, _ in coverage_rows())
    missing = sorted(n for n in _api_names(SIMPLER) if not re.search(rf"\b{n}\b", table))
    assert not missing, f"API names without a row in docs/language.md: {missing}"


@needs_runtime
def test_used_by_counts_are_the_runtime_programs() -> None:
    assert SIMPLER is not None
    sources = _orchestrations(SIMPLER)
    assert len(sources) == 38
    wrong = []
    for api, used_by, _ in coverage_rows():
        count = sum(any(_uses(s, name) for name in _names(api)) for s in sources)
        if count != int(used_by):
            wrong.append(f"{api}: table {used_by}, programs {count}")
    assert not wrong, "\n".join(wrong)
