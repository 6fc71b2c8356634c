"""Shared helpers of the pto-compile tests: generating C++, goldens and the g++ check."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from pto_dsl.codegen.cpp import API_HEADER, CPP_DIALECTS, generate, interface_header
from pto_dsl.dialects import DIALECTS
from pto_dsl.pipeline import Checked, front_end, read_source
from pto_dsl.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").rglob("*.pto"))
CONSTRUCTS = sorted((ROOT / "tests" / "compile").glob("*.pto"))
# Examples the v0 API cannot express (more than 16 tensors per task E150, dummy tasks E405,
# more than 16 deps per task E151, the available core counts E406, early resolve E407,
# dispatch predicates E408, more than 64 entry tensors E152): pto-compile --dialect v0
# refuses them with located errors, tested as such, and they have no v0 golden.
CURRENT_ONLY = {ROOT / "examples" / "corpus" / f"{name}.pto" for name in (
    "dep_gen", "dummy_task", "fanin_lookup_perf", "available_aicore_counts", "spmd_sync_start",
    "spmd_sync_start_aiv", "spmd_sync_start_edge", "spmd_sync_start_stress",
    "predicated_dispatch", "spmd_sync_start_early_dispatch", "spmd_sync_start_mix_spill",
    "chip_swimlane_sync_start_early_local_owner", "qwen3_14b_decode",
    "deepseek_v4_flash_decode")}
V0_REFUSALS = frozenset({"E150", "E151", "E152", "E405", "E406", "E407", "E408"})
GOLDEN = ROOT / "tests" / "golden" / "compile"


def expressible(path: Path, dialect: str) -> bool:
    return dialect != "v0" or path not in CURRENT_ONLY


DIALECT_NAMES = sorted(CPP_DIALECTS)
GXX = shutil.which("g++")
GXX_FLAGS = ["-std=c++17", "-fsyntax-only", "-Wall", "-Wextra", "-Werror"]


def load(path: Path, dialect: str) -> Checked:
    """The program checked for a dialect; named by its path, so that case generators next
    to it are found (the C++ names only the file)."""
    return front_end(read_source(path), DIALECTS[dialect])


def compile_file(path: Path, dialect: str) -> str:
    checked = load(path, dialect)
    return generate(checked.program, dialect, checked.source.name)


def golden_name(path: Path, dialect: str) -> str:
    """examples/paged_attention/auto.pto -> paged_attention_auto.current.cpp"""
    stem = path.stem if path.parent.name == "compile" else f"{path.parent.name}_{path.stem}"
    return f"{stem}.{dialect}.cpp"


def include_dir(where: Path, dialect: str) -> Path:
    """A folder with this project's interface headers, the dialect's one installed under the
    runtime's header name (docs/compile.md)."""
    where.mkdir(parents=True, exist_ok=True)
    (where / API_HEADER).write_text(interface_header(dialect), encoding="utf-8")
    return where


def syntax_check(sources: list[Path], include: Path,
                 more: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    assert GXX is not None
    return subprocess.run([GXX, *GXX_FLAGS, *(more or []), "-I", str(include),
                           *map(str, sources)],
                          capture_output=True, text=True, check=False, timeout=300)


_FENCE = re.compile(r"^```([A-Za-z]*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)


def doc_programs() -> list[tuple[str, str]]:
    """The complete programs shown in docs/*.md, as (name, text)."""
    found = []
    for doc in sorted((ROOT / "docs").glob("*.md")):
        for n, m in enumerate(_FENCE.finditer(doc.read_text("utf-8"))):
            if m.group(1) == "pto" and m.group(2).startswith("# complete program"):
                found.append((f"doc_{doc.stem}_{n}", m.group(2)))
    return found


def compile_text(name: str, text: str, dialect: str) -> str:
    checked = front_end(SourceFile(f"{name}.pto", text), DIALECTS[dialect])
    return generate(checked.program, dialect, checked.source.name)


def assert_both_dialects_agree(construct: Path, dialect: str, where: Path) -> None:
    """A construct's program in one dialect: its C++ passes g++ -Werror against our headers
    (when g++ is installed) and, recorded on every case, gives back the instantiated graph."""
    from pto_dsl import record
    from pto_dsl.cases import case_names
    from pto_dsl.pipeline import case_values, instantiate_case
    from pto_dsl.record.compare import differences

    c = load(construct, dialect)
    cpp = where / f"{construct.stem}.{dialect}.cpp"
    cpp.write_text(generate(c.program, dialect, c.source.name), encoding="utf-8")
    result = syntax_check([cpp], include_dir(where / "inc", dialect))
    assert result.returncode == 0, result.stderr[-4000:]
    prepared = record.prepare(cpp, read_source(cpp), DIALECTS[dialect])
    for case in case_names(c.program):
        recorded = record.record(prepared, c.program, case_values(c, case))
        assert differences(c.program, instantiate_case(c, case), recorded.graph) == []

