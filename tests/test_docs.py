"""The documentation stays true to the implementation.

* Every diagnostic code in `pto_dsl/` has a section in docs/language.md, and every code the
  docs mention exists in the source.
* Fenced ```pto blocks in docs/*.md are executed through `pto-check` (in-process) when their
  first line is a marker:
    `# complete program`      must check clean on every case: exit 0, no diagnostics;
    `# expect: E101[, W102]`  must report (at least) these codes, exit 1 if one is an error,
                              otherwise 0; an optional second line `# options: ...` adds
                              pto-check options (e.g. `--dialect v0`).
  Fenced ```python blocks whose first line is `# file: NAME` are written next to the programs
  of the same document first (case generators).  Other blocks are fragments and not run.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from pto_dsl.cli import check_main

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
LANGUAGE = DOCS / "language.md"
SOURCE = ROOT / "pto_dsl"

CODE_LITERAL = re.compile(r"""["']([EW]\d{3})["']""")
CODE_WORD = re.compile(r"\b([EW]\d{3})\b")
CODE_HEADING = re.compile(r"^#{3,4} ([EW]\d{3})\b", re.M)
FENCE = re.compile(r"^```([A-Za-z]*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
COMPLETE = "# complete program"
EXPECT = re.compile(r"#\s*expect:\s*(.+)")
OPTIONS = re.compile(r"#\s*options:\s*(.+)")
FILE = re.compile(r"#\s*file:\s*(\S+)")

# Codes whose trigger cannot be written as a short inline program: a file that is not UTF-8
# (E005), nesting deep enough to exhaust Python's recursion limit (E006), 65 entry tensors
# (E152), a case name that only the Python API can ask for (E164), and the errors in JSON
# files that only `pto-graph --diff` reads (E601, E602; tests/test_viz_deps.py has them), and
# what only the C++ backend rejects (E401-E403; tests/compile/errors/ has them), and what only
# the simulator reports (E5xx: runtime fatal errors, kernel impls, goldens, --inputs files;
# tests/test_sim_*.py have them), and what only the language server reports (E701, W702,
# W703; tests/test_lsp_*.py have them).
NO_INLINE_EXAMPLE = {"E005", "E006", "E152", "E164", "E401", "E402", "E403", "E601", "E602",
                     "E501", "E502", "E503", "E504", "E505", "E506", "E507", "E510", "E511",
                     "E512", "E513", "E404", "E701", "W702", "W703",
                     # reported on C++ orchestrations (tests/record/ has one per code)
                     "E801", "E802", "E803", "E804", "E805", "E806", "E807", "E808"}


@dataclass(frozen=True)
class Block:
    doc: Path
    line: int
    lang: str
    text: str

    @property
    def first(self) -> str:
        return self.text.split("\n", 1)[0].strip()

    @property
    def id(self) -> str:
        return f"{self.doc.name}:{self.line}"


def _blocks(doc: Path) -> list[Block]:
    text = doc.read_text("utf-8")
    return [Block(doc, text.count("\n", 0, m.start()) + 1, m.group(1), m.group(2))
            for m in FENCE.finditer(text)]


def _docs() -> list[Path]:
    return sorted(DOCS.glob("*.md"))


def _source_codes() -> set[str]:
    codes: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        codes.update(CODE_LITERAL.findall(path.read_text("utf-8")))
    return codes


def _runnable() -> list[Block]:
    return [b for d in _docs() for b in _blocks(d)
            if b.lang == "pto" and (b.first == COMPLETE or EXPECT.fullmatch(b.first))]


# ---- diagnostic codes ----------------------------------------------------------------

def test_every_code_in_the_source_is_documented() -> None:
    documented = set(CODE_HEADING.findall(LANGUAGE.read_text("utf-8")))
    missing = sorted(_source_codes() - documented)
    assert not missing, f"codes without a section in docs/language.md: {missing}"


def test_every_documented_code_exists_in_the_source() -> None:
    source = _source_codes()
    for doc in _docs():
        unknown = sorted(set(CODE_WORD.findall(doc.read_text("utf-8"))) - source)
        assert not unknown, f"{doc.name} mentions codes the source does not have: {unknown}"


def test_each_code_section_appears_once() -> None:
    headings = CODE_HEADING.findall(LANGUAGE.read_text("utf-8"))
    repeated = sorted({c for c in headings if headings.count(c) > 1})
    assert not repeated, f"codes with more than one section: {repeated}"


def test_every_code_has_a_checked_example() -> None:
    shown: set[str] = set()
    for block in _runnable():
        match = EXPECT.fullmatch(block.first)
        if match:
            shown.update(CODE_WORD.findall(match.group(1)))
    missing = sorted(_source_codes() - shown - NO_INLINE_EXAMPLE)
    assert not missing, f"codes without an '# expect:' example: {missing}"


# ---- runnable examples ---------------------------------------------------------------

def _write_companions(doc: Path, where: Path) -> None:
    for block in _blocks(doc):
        match = FILE.fullmatch(block.first)
        if block.lang == "python" and match:
            (where / match.group(1)).write_text(block.text, "utf-8")


def _check(block: Block, tmp_path: Path, capsys: pytest.CaptureFixture[str],
           options: list[str]) -> tuple[int, list[dict[str, object]]]:
    _write_companions(block.doc, tmp_path)
    path = tmp_path / f"example_{block.line}.pto"
    path.write_text(block.text, "utf-8")
    capsys.readouterr()
    code = check_main([str(path), "--json", "--all-cases", *options])
    out = capsys.readouterr().out
    return code, (json.loads(out) if out.strip() else [])


@pytest.mark.parametrize("block", _runnable(), ids=lambda b: b.id)
def test_documented_program(block: Block, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    lines = block.text.split("\n")
    expect = EXPECT.fullmatch(block.first)
    opts = OPTIONS.fullmatch(lines[1].strip()) if len(lines) > 1 else None
    options = shlex.split(opts.group(1)) if opts else []
    code, diags = _check(block, tmp_path, capsys, options)
    reported = {str(d["code"]) for d in diags}
    if expect is None:
        assert (code, reported) == (0, set()), f"{block.id} should check clean"
        return
    wanted = set(CODE_WORD.findall(expect.group(1)))
    assert wanted <= reported, f"{block.id}: expected {sorted(wanted)}, got {sorted(reported)}"
    errors = any(c.startswith("E") for c in wanted)
    assert code == (1 if errors else 0), f"{block.id}: exit code {code}"


def test_docs_have_runnable_examples() -> None:
    assert len(_runnable()) >= 40
    assert any(b.first == COMPLETE for b in _runnable() if b.doc.name == "architecture.md")


# ---- cross-references and excerpts ----------------------------------------------------

def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


@pytest.mark.parametrize("doc", _docs(), ids=lambda d: d.name)
def test_internal_links_resolve(doc: Path) -> None:
    text = FENCE.sub("", doc.read_text("utf-8"))
    anchors = {_slug(h) for h in re.findall(r"^#+ (.+)$", text, re.M)}
    broken = sorted(set(re.findall(r"\]\(#([^)]+)\)", text)) - anchors)
    assert not broken, f"{doc.name}: links to missing headings: {broken}"


def test_grammar_excerpts_are_in_the_grammar() -> None:
    grammar = {line.strip() for line in
               (ROOT / "grammar" / "pto.lark").read_text("utf-8").splitlines()}
    for doc in _docs():
        for block in _blocks(doc):
            if block.lang == "lark":
                stale = [ln for ln in block.text.splitlines()
                         if ln.strip() and ln.strip() not in grammar]
                assert not stale, f"{block.id}: not in grammar/pto.lark: {stale}"
