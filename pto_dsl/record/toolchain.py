"""Building a C++ orchestration against pto-dsl's recording API (backends/recorder/).

Input: the orchestration source and a dialect; output: the path of an executable that runs
its entry on a case and writes a trace. Builds with the system g++ and caches the recorder's
object per dialect and each executable by the contents of every file it was compiled from,
under the user cache directory. Compiler and linker failures become located diagnostics;
it does not run anything it builds.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pto_dsl.diagnostics import CompileError, Diagnostic, Note, Stage, error
from pto_dsl.record.spans import load, point, whole_line
from pto_dsl.source import SourceFile

# The runtime's harness builds orchestrations as C++17 shared objects; we build a program.
CXX_FLAGS = ("-std=c++17", "-O1", "-fno-strict-aliasing", "-fPIC", "-w",
             "-fdiagnostics-column-unit=byte", "-fno-diagnostics-color")
_DIAG = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+):(?P<col>\d+): (?:fatal )?error: "
                   r"(?P<msg>.*)$", re.M)
_UNDECLARED = re.compile(r"^'(?P<name>[^']+)' was not declared in this scope"
                         r"|^'(?P<member>[^']+)' has no member named '(?P<name2>[^']+)'"
                         r"|^'class (?P<cls>[^']+)' has no member named '(?P<name3>[^']+)'")
# Names that look like the runtime API's (not the orchestration's own variables).
_API_NAME = re.compile(r"^(rt_|pto2_|PTO2|pto_|alloc_|make_tensor|get_tensor|set_tensor|LOG_|"
                       r"from_tensor|add_|set_|Chip|Core|Tensor|Arg|MixedKernels|DataType)")
_UNDEFINED = re.compile(r"undefined reference to `([^'(]+)")


class ToolMissing(Exception):
    """No C++ compiler: the recorder is not available here (exit 3)."""


@dataclass(frozen=True)
class Build:
    executable: Path
    cached: bool


def compiler() -> str:
    found = shutil.which(os.environ.get("CXX", "g++")) or shutil.which("g++")
    if found is None:
        raise ToolMissing("no C++ compiler found (g++): recording a C++ orchestration needs "
                          "one; install it (e.g. 'apt-get install g++') or set CXX")
    return found


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    path = Path(base) / "pto-dsl" / "record"
    path.mkdir(parents=True, exist_ok=True)
    return path


def recorder_dir() -> Path:
    return Path(str(resources.files("pto_dsl.backends") / "recorder"))


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(len(p).to_bytes(8, "little"))
        h.update(p)
    return h.hexdigest()[:32]


def _recorder_key(cxx: str, dialect: str) -> str:
    root = recorder_dir()
    files = sorted(p for p in root.rglob("*") if p.suffix in (".h", ".cpp"))
    return _digest(cxx.encode(), dialect.encode(), " ".join(CXX_FLAGS).encode(),
                   *(p.relative_to(root).as_posix().encode() + p.read_bytes() for p in files))


def _includes(dialect: str) -> list[str]:
    root = recorder_dir()
    return [f"-I{root / dialect}", f"-I{root}"]


def _run(cmd: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LC_ALL": "C"}  # plain quotes in the compiler's messages
    return subprocess.run(cmd, capture_output=True, text=True, errors="replace", cwd=cwd,
                          check=False, env=env)


def _atomic_move(src: Path, dst: Path) -> None:
    os.replace(src, dst)


def recorder_object(cxx: str, dialect: str) -> Path:
    """The recorder and main for one dialect, compiled once per content."""
    out = cache_dir() / f"recorder-{dialect}-{_recorder_key(cxx, dialect)}.o"
    if out.exists():
        return out
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        obj = Path(tmp) / "r.o"
        done = _run([cxx, *CXX_FLAGS, *_includes(dialect), "-c",
                     str(recorder_dir() / "pto_recorder.cpp"), "-o", str(obj)])
        if done.returncode != 0:  # a bug in pto-dsl, not in the user's input
            raise RuntimeError(f"the recorder does not compile: {done.stderr[:2000]}")
        _atomic_move(obj, out)
    return out


def build(source: SourceFile, path: Path, dialect: str) -> Build:
    """An executable of the orchestration at `path` (whose text is `source`) for a dialect."""
    cxx = compiler()
    rec = recorder_object(cxx, dialect)
    path = path.resolve()
    key = _digest(rec.name.encode(), str(path).encode(), source.text.encode())
    exe = cache_dir() / f"orch-{key}"
    deps = exe.with_suffix(".deps")
    if exe.exists() and deps.exists() and _deps_unchanged(deps):
        return Build(exe, True)
    with tempfile.TemporaryDirectory(dir=exe.parent) as tmp:
        obj, dep_file, out = Path(tmp) / "o.o", Path(tmp) / "o.d", Path(tmp) / "orch"
        done = _run([cxx, *CXX_FLAGS, *_includes(dialect), f"-I{path.parent}", "-MD", "-MF",
                     str(dep_file), "-c", str(path), "-o", str(obj)])
        if done.returncode != 0:
            raise CompileError(compile_errors(done.stderr, source, path, dialect))
        done = _run([cxx, "-rdynamic", str(obj), str(rec), "-o", str(out), "-ldl"])
        if done.returncode != 0:
            raise CompileError([link_error(done.stderr, source, dialect)])
        deps_text = _dep_hashes(dep_file)
        _atomic_move(out, exe)
        tmp_deps = Path(tmp) / "deps"
        tmp_deps.write_text(deps_text, encoding="utf-8")
        _atomic_move(tmp_deps, deps)
    return Build(exe, False)


def _dep_hashes(dep_file: Path) -> str:
    """`path sha` per file the compiler read (from its -MD output), one per line."""
    text = dep_file.read_text(encoding="utf-8", errors="replace").replace("\\\n", " ")
    _, _, files = text.partition(":")
    lines = []
    for name in files.split():
        p = Path(name)
        if p.exists():
            lines.append(f"{_digest(p.read_bytes())} {p.resolve()}")
    return "\n".join(lines) + "\n"


def _deps_unchanged(deps: Path) -> bool:
    for line in deps.read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition(" ")
        p = Path(name)
        if not p.exists() or _digest(p.read_bytes()) != digest:
            return False
    return True


def _hint(dialect: str) -> str:
    return (f"the file must be a PTO2 orchestration source for the '{dialect}' runtime API "
            "dialect (it includes \"pto_orchestration_api.h\"); choose the other dialect with "
            "--dialect if it was written for it")


def compile_errors(stderr: str, source: SourceFile, path: Path, dialect: str,
                   limit: int = 3) -> list[Diagnostic]:
    """The compiler's first errors as diagnostics located in the files they name."""
    found = list(_DIAG.finditer(stderr))[:limit]
    if not found:
        first = stderr.strip().splitlines()[:1]
        return [error("E801", "the C++ compiler rejects this file" +
                      (f": {first[0]}" if first else ""), whole_line(source, 1),
                      help=(_hint(dialect),), stage=Stage.UNSUPPORTED)]
    out: list[Diagnostic] = []
    for m in found:
        file_source = source if Path(m["file"]).resolve() == path else load(m["file"])
        span = point(file_source, int(m["line"]), int(m["col"])) if file_source else None
        msg = m["msg"]
        missing = _UNDECLARED.match(msg)
        if missing and _API_NAME.match(missing["name"] or missing["name2"] or missing["name3"]):
            name = missing["name"] or missing["name2"] or missing["name3"]
            out.append(error("E806", f"'{name}' is not part of pto-dsl's recording "
                             f"implementation of the runtime API (dialect {dialect})", span,
                             notes=(Note(f"g++: {msg}"),),
                             help=("if the runtime provides it, pto-dsl cannot record it yet; "
                                   "otherwise it is a mistake in the file",)
                             + (() if out else (_hint(dialect),)),
                             stage=Stage.UNSUPPORTED))
        else:
            out.append(error("E801", f"the C++ compiler rejects this: {msg}", span,
                             help=() if out else (_hint(dialect),), stage=Stage.UNSUPPORTED))
    return out


def no_entry(source: SourceFile, names: list[str], dialect: str) -> Diagnostic:
    return error("E802", "this file defines no orchestration entry "
                 f"{' or '.join(repr(n) for n in names)}", whole_line(source, 1),
                 help=("an orchestration defines extern \"C\" void "
                       "aicpu_orchestration_entry(...) with the entry arguments of its dialect "
                       "(or a function named like the signature's entry)", _hint(dialect)),
                 stage=Stage.UNSUPPORTED)


def link_error(stderr: str, source: SourceFile, dialect: str) -> Diagnostic:
    names = list(dict.fromkeys(_UNDEFINED.findall(stderr)))
    what = ", ".join(f"'{n.strip()}'" for n in names[:3]) or stderr.strip()[:200]
    return error("E806", f"the orchestration uses {what}, which pto-dsl's recording "
                 "implementation of the runtime API does not provide",
                 whole_line(source, 1), help=(_hint(dialect),), stage=Stage.UNSUPPORTED)
