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
* Every fenced block that starts with `$ ` is a transcript: each `$ COMMAND` line is run (the
  tools in-process, `python3 FILE.py` for a companion file of the document) in a folder
  holding the document's named files (```pto file=NAME blocks and `# file: NAME` python
  blocks) and the repository's examples/ and tests/, and what it prints (standard output,
  then standard error) must be the lines below it, where `…` stands for any text. A block
  that shows a tool's output without its command fails the suite, and so does a usage
  synopsis (```` ``` ```` block starting `pto-TOOL [`) that does not list the tool's options.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import re
import runpy
import shlex
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from pto_dsl.cli import check_main
from pto_dsl.cli_compile import main as compile_main
from pto_dsl.cli_graph import main as graph_main
from pto_dsl.cli_run import main as run_main

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
LANGUAGE = DOCS / "language.md"
SOURCE = ROOT / "pto_dsl"

CODE_LITERAL = re.compile(r"""["']([EW]\d{3})["']""")
CODE_WORD = re.compile(r"\b([EW]\d{3})\b")
CODE_HEADING = re.compile(r"^#{3,4} ([EW]\d{3})\b", re.M)
FENCE = re.compile(r"^```([A-Za-z]*)([^\n]*)\n(.*?)^```[ \t]*$", re.M | re.S)
COMPLETE = "# complete program"
EXPECT = re.compile(r"#\s*expect:\s*(.+)")
OPTIONS = re.compile(r"#\s*options:\s*(.+)")
FILE = re.compile(r"#\s*file:\s*(\S+)")
NAMED = re.compile(r"^```pto\s+file=(\S+)", re.M)

# Codes whose trigger cannot be written as a short inline program: a file that is not UTF-8
# (E005), nesting deep enough to exhaust Python's recursion limit (E006), 65 entry tensors
# (E152), a case name that only the Python API can ask for (E164), and the errors in JSON
# files that only `pto-graph --diff` reads (E601, E602; tests/test_viz_deps.py has them), and
# what only the C++ backend rejects (E401-E403; tests/compile/errors/ has them), and what only
# the simulator reports (E5xx: runtime fatal errors, kernel impls, goldens, --inputs files;
# tests/test_sim_*.py have them), and what only the language server reports (E701, W702,
# W703; tests/test_lsp_*.py have them).
NO_INLINE_EXAMPLE = {"E005", "E006", "E152", "E164", "E401", "E402", "E403", "E405", "E406",
                     "E407", "E408", "E601", "E602",
                     "E501", "E502", "E503", "E504", "E505", "E506", "E507", "E510", "E511",
                     "E512", "E513", "E404", "E701", "W702", "W703",
                     # reported on C++ orchestrations (tests/record/ has one per code)
                     "E801", "E802", "E803", "E804", "E805", "E806", "E807", "E808", "W809",
                     "E810", "W811"}


@dataclass(frozen=True)
class Block:
    doc: Path
    line: int
    lang: str
    text: str
    info: str = ""  # the rest of the opening fence line (```pto file=NAME)

    @property
    def first(self) -> str:
        return self.text.split("\n", 1)[0].strip()

    @property
    def id(self) -> str:
        return f"{self.doc.name}:{self.line}"


def _blocks(doc: Path) -> list[Block]:
    text = doc.read_text("utf-8")
    return [Block(doc, text.count("\n", 0, m.start()) + 1, m.group(1), m.group(3),
                  m.group(2).strip()) for m in FENCE.finditer(text)]


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
        named = re.fullmatch(r"file=(\S+)", block.info)
        if block.lang == "pto" and named:
            (where / named.group(1)).write_text(block.text, "utf-8")


def _check(block: Block, tmp_path: Path, capsys: pytest.CaptureFixture[str],
           options: list[str]) -> tuple[int, list[dict[str, object]]]:
    _write_companions(block.doc, tmp_path)
    path = tmp_path / f"example_{block.line}.pto"
    path.write_text(block.text, "utf-8")
    capsys.readouterr()
    code = check_main([str(path), "--json", "--all-cases", *options])
    out = capsys.readouterr().out
    return code, json.loads(out)["diagnostics"]


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


# ---- transcripts ----------------------------------------------------------------------------

TOOLS: dict[str, Callable[[Sequence[str] | None], int]] = {
    "pto-check": check_main, "pto-compile": compile_main, "pto-graph": graph_main,
    "pto-run": run_main}
# Lines that only a tool prints: a block showing them must be a transcript.
TOOL_OUTPUT = re.compile(r"^(\S+\.pto(:\d+:\d+)?: |pto-(check|compile|graph|run): |"
                         r"case \w+: \d+ tasks)", re.M)


@dataclass(frozen=True)
class Command:
    line: str
    expected: tuple[str, ...]


def _transcripts() -> list[Block]:
    return [b for d in _docs() for b in _blocks(d) if b.text.startswith("$ ")]


def _commands(block: Block) -> list[Command]:
    commands: list[Command] = []
    for line in block.text.rstrip("\n").split("\n"):
        if line.startswith("$ "):
            commands.append(Command(line[2:], ()))
        else:
            commands[-1] = Command(commands[-1].line, commands[-1].expected + (line,))
    return commands


def _run(command: str) -> str:
    argv = shlex.split(command)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        if argv[0] == "python3" and len(argv) == 2:
            runpy.run_path(argv[1], run_name="__main__")
        else:
            assert argv[0] in TOOLS, f"a transcript can run {sorted(TOOLS)}: {command}"
            with contextlib.suppress(SystemExit):
                TOOLS[argv[0]](argv[1:])
    return out.getvalue() + err.getvalue()


def _matches(expected: str, actual: str) -> bool:
    pattern = ".*".join(re.escape(part) for part in expected.rstrip().split("…"))
    return re.fullmatch(pattern, actual.rstrip()) is not None


def _needs_graphviz(command: str) -> bool:
    return command.startswith("pto-graph") and re.search(r"-o \S+\.(svg|png)\b", command) \
        is not None and shutil.which("dot") is None


@pytest.mark.parametrize("block", _transcripts(), ids=lambda b: b.id)
def test_transcript(block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                    update_golden: bool) -> None:
    """`pytest --update-golden` rewrites the transcripts' outputs (lines with `…` that still
    match are kept); review the diff."""
    commands = _commands(block)
    if any(_needs_graphviz(c.line) for c in commands):
        pytest.skip("Graphviz (dot) is not installed: this transcript draws an SVG/PNG")
    _write_companions(block.doc, tmp_path)
    for shared in ("examples", "tests"):  # the repository's files a transcript may name
        (tmp_path / shared).symlink_to(ROOT / shared, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    if importlib.util.find_spec("pto_dsl.progress") is not None:
        # progress lines depend on how fast this machine is: a transcript shows a quick run
        monkeypatch.setattr("pto_dsl.progress.choose", lambda *_, **__: "off")
    rewritten: list[str] = []
    for command in commands:
        printed = _run(command.line).rstrip("\n")
        actual = printed.split("\n") if printed else []
        same = len(actual) == len(command.expected) and all(
            _matches(e, a) for e, a in zip(command.expected, actual))
        rewritten += [f"$ {command.line}", *(command.expected if same else actual)]
        if not update_golden:
            assert same, f"{block.id}: `{command.line}` printed:\n" + "\n".join(actual)
    if update_golden:
        text = block.doc.read_text("utf-8")
        new = "\n".join(rewritten) + "\n"
        at = text.index(block.text, sum(len(x) + 1 for x in text.split("\n")[:block.line - 1]))
        block.doc.write_text(text[:at] + new + text[at + len(block.text):], "utf-8")


def test_docs_have_transcripts() -> None:
    assert {b.doc.name for b in _transcripts()} >= {
        "cli.md", "architecture.md", "graph.md", "simulator.md", "language.md"}


@pytest.mark.parametrize("doc", _docs(), ids=lambda d: d.name)
def test_tool_output_is_shown_with_its_command(doc: Path) -> None:
    """Output of a tool in a block that is not a transcript is output nobody checks."""
    loose = [b.id for b in _blocks(doc) if b.lang in ("", "text", "console", "json")
             and not b.text.startswith("$ ") and TOOL_OUTPUT.search(b.text)]
    assert not loose, f"tool output without its `$ command` line (make it a transcript): {loose}"


def _options(parser: argparse.ArgumentParser) -> set[str]:
    """Each option as the usage line names it: its first spelling (`-o`, `--case`)."""
    return {a.option_strings[0] for a in parser._actions if a.option_strings} - {"-h"}


def _parser_of(tool: str) -> argparse.ArgumentParser:
    """The tool's argument parser, caught as its main builds it (by asking for --help)."""
    found: list[argparse.ArgumentParser] = []
    original = argparse.ArgumentParser.parse_args

    def capture(self: argparse.ArgumentParser, *args: object, **kwargs: object) -> object:
        found.append(self)
        raise SystemExit(0)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(argparse.ArgumentParser, "parse_args", capture)
        with contextlib.suppress(SystemExit):
            TOOLS[tool](["--help"])
    assert found and original is not None
    return found[0]


@pytest.mark.parametrize("block", [b for d in _docs() for b in _blocks(d)
                                   if re.match(r"pto-(check|compile|graph|run) \[", b.text)],
                         ids=lambda b: b.id)
def test_usage_synopsis_lists_every_option(block: Block) -> None:
    tool = block.text.split()[0]
    shown = set(re.findall(r"(?<![\w-])(--[A-Za-z][a-z-]*|-[a-z])\b", block.text)) - {"-h"}
    assert shown == _options(_parser_of(tool)), block.id
