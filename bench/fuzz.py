"""The long fuzz run: mutated examples through every tool, in worker processes.

Each input is an example (with its kernels, generators and golden beside it) mutated the
ways that found crashes, hangs and lost files before: characters, lines and tokens deleted,
inserted, duplicated or swapped; integers made huge; junk characters (control characters,
byte order marks, separators); and, for one input in ten, an output aimed at an input (any
spelling), a FIFO without a reader, a device node or a directory. Each input goes through
pto-check, pto-compile, pto-graph and pto-run (in-process, in a worker). The run fails on
an exit code outside 0/1/2 (70 is an internal error), an exception escaping a tool, a
"Traceback" or "internal error" in its output, an input file changed, or an input that runs
longer than --timeout seconds (a hang). Inputs are reproducible from --seed and their index.

    python bench/fuzz.py --inputs 10000 --processes 2          # about 30 minutes
    python bench/fuzz.py --inputs 1000 --processes 2 --report r.json
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import json
import multiprocessing
import os
import random
import re
import resource
import shutil
import signal
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").rglob("*.pto"))
HUGE = ("2147483647", "2147483648", "4294967295", "4294967296", "9223372036854775807",
        "9223372036854775808", "18446744073709551615", "18446744073709551616", "1e308",
        "1e400", "0", "100000000", "65536", "16384")
JUNK = ("\x00", "\x0b", "\x0c", "\r", "\ufeff", "\u2028", "\u00a0", "\x1b[31m", "\U0001f600",
        "\\", "`", "\u202e", "\t", "\r\n", "$", ";", "'", '"')
WORDS = ("kernel", "entry", "case", "default", "let", "for", "in", "if", "else", "scope",
         "manual", "dep", "when", "none", "new", "alloc", "reshape", "manual_dep", "(", ")",
         "[", "]", "{", "}", ",", ":", "..", "=", "==", "+", "-", "*", "/", "%", "0", "1",
         "N", "x", "#", "\n")
TOKEN = re.compile(r"\w+|\.\.|[=!<>]=|\S")
INTEGER = re.compile(r"(?<![\w.])\d+(?![\w.])")
OUTPUT_TARGETS = ("program", "symlink", "hardlink", "dotted", "companion", "fifo", "device",
                  "directory")


class Hang(BaseException):  # not an Exception: no handler of a tool may swallow it
    pass


def _small_cases_only(text: str) -> str:
    kept = re.sub(r"^case \w+(?: seed \d+)? \{.*?^\}\n?", "", text, flags=re.M | re.S)
    return kept if "default case" in kept else text


def mutate(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(("char", "line", "token", "huge", "junk"))
        if kind == "huge":
            spots = list(INTEGER.finditer(text))
            if spots:
                m = rng.choice(spots)
                text = text[:m.start()] + rng.choice(HUGE) + text[m.end():]
            continue
        if kind == "junk":
            at = rng.randint(0, len(text))
            text = text[:at] + rng.choice(JUNK) + text[at:]
            continue
        units = list(text) if kind == "char" else text.split("\n") if kind == "line" else \
            [text[a:b] for a, b in zip([0, *[m.start() for m in TOKEN.finditer(text)][1:]],
                                       [*[m.start() for m in TOKEN.finditer(text)][1:],
                                        len(text)])]
        if not units:
            continue
        i = rng.randrange(len(units))
        op = rng.choice(("delete", "insert", "duplicate", "swap"))
        if op == "delete":
            del units[i]
        elif op == "duplicate":
            units.insert(i, units[i])
        elif op == "swap":
            j = rng.randrange(len(units))
            units[i], units[j] = units[j], units[i]
        else:
            units.insert(i, f" {rng.choice(WORDS)} " if kind == "token" else rng.choice(WORDS))
        text = ("\n" if kind == "line" else "").join(units)
    return text


def _tools() -> dict[str, Callable[[Sequence[str]], int]]:
    from pto_dsl import cli, cli_compile, cli_graph, cli_run
    return {"pto-check": cli.check_main, "pto-compile": cli_compile.main,
            "pto-graph": cli_graph.main, "pto-run": cli_run.main}


def _output_target(rng: random.Random, where: Path, program: Path, suffix: str) -> Path:
    kind = rng.choice(OUTPUT_TARGETS)
    companions = sorted(p for p in where.iterdir() if p.suffix == ".py")
    path = {"program": program, "dotted": where / "." / program.name,
            "companion": rng.choice(companions) if companions else program,
            "directory": where}.get(kind, where / f"{kind}{suffix}")
    if kind == "symlink":
        path.symlink_to(program)
    elif kind == "hardlink":
        os.link(program, path)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        try:
            os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        except PermissionError:
            os.mkfifo(path)
    return path


def _argv(tool: str, rng: random.Random, where: Path, program: Path,
          hostile: bool) -> list[str]:
    args = [str(program), "--max-tasks", "100000", "-q"]
    suffix = {"pto-compile": ".cpp", "pto-graph": ".dot", "pto-run": ".json"}.get(tool)
    if suffix is None:
        return args
    out = _output_target(rng, where, program, suffix) if hostile else where / f"out{suffix}"
    option = {"pto-compile": "-o", "pto-graph": "-o", "pto-run": "--trace"}[tool]
    args += [option, str(out)]
    if tool == "pto-run" and rng.random() < 0.75:
        args.append("--no-numerics")
    return args


def run_one(index: int, seed: int, timeout: float) -> dict[str, Any]:
    """Mutate input `index`, run every tool on it; what happened, per tool."""
    rng = random.Random(seed * 1_000_003 + index)
    example = rng.choice(EXAMPLES)
    tools = _tools()
    outcome: dict[str, Any] = {"index": index, "example": example.name, "codes": {},
                               "problems": []}
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        for companion in example.parent.glob("*.py"):
            shutil.copy(companion, where)
        program = where / example.name
        text = mutate(rng, _small_cases_only(example.read_text("utf-8")))
        program.write_bytes(text.encode("utf-8", errors="surrogatepass"))
        for tool, main in tools.items():
            hostile = rng.random() < 0.1
            argv = _argv(tool, rng, where, program, hostile)
            inputs = {p: p.read_bytes() for p in where.iterdir()
                      if p.is_file() and not p.is_symlink() and p.suffix in (".pto", ".py")}
            code, err = _run(main, argv, timeout)
            outcome["codes"][tool] = code
            for p, data in inputs.items():
                if not p.exists() or p.read_bytes() != data:
                    outcome["problems"].append(f"{tool}: input {p.name} changed ({argv})")
            if code not in (0, 1, 2, 3) or "Traceback" in err or "internal error" in err:
                outcome["problems"].append(f"{tool} exit {code} {argv}: {err[-1500:]}")
            for p in where.iterdir():  # a fresh output for the next tool
                if p.name.startswith(("out", "link", "hard", "fifo", "device")):
                    p.unlink()
    return outcome


def _run(main: Callable[[Sequence[str]], int], argv: list[str],
         timeout: float) -> tuple[int | str, str]:
    err = io.StringIO()

    def alarm(signum: int, frame: Any) -> None:
        raise Hang()
    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            try:
                code: int | str = main(argv)
            except SystemExit as exc:  # argparse usage errors
                code = exc.code if isinstance(exc.code, int) else 2
    except Hang:
        code = "hang"
    except BaseException as exc:  # an escaping exception is the finding
        code = f"exception {type(exc).__name__}"
        err.write(f"Traceback: {type(exc).__name__}: {exc}")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    return code, err.getvalue()


def _limit_memory(gigabytes: float) -> None:
    """Per worker: a run that allocates without bound fails (MemoryError, a problem the
    report shows) instead of taking the machine down."""
    limit = int(gigabytes * (1 << 30))
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _work(job: tuple[int, int, float]) -> dict[str, Any]:
    return run_one(*job)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--inputs", type=int, default=10_000)
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--timeout", type=float, default=120.0,
                   help="seconds per tool run before it counts as a hang")
    p.add_argument("--memory-gb", type=float, default=4.0,
                   help="address-space limit of each worker (default: %(default)s)")
    p.add_argument("--report", type=Path, help="write the tallies and problems as JSON")
    args = p.parse_args()
    started = time.monotonic()
    codes: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    problems: list[str] = []
    jobs = [(i, args.seed, args.timeout) for i in range(args.inputs)]
    with multiprocessing.get_context("fork").Pool(
            args.processes, _limit_memory, (args.memory_gb,), maxtasksperchild=200) as pool:
        for done, outcome in enumerate(pool.imap_unordered(_work, jobs, chunksize=4), 1):
            for tool, code in outcome["codes"].items():
                codes[tool][str(code)] += 1
            found = [f"input {outcome['index']} ({outcome['example']}): {m}"
                     for m in outcome["problems"]]
            for line in found:
                print(line[:2000], file=sys.stderr, flush=True)
            problems += found
            if done % 100 == 0 or done == args.inputs:
                print(f"{done}/{args.inputs} inputs, {len(problems)} problems, "
                      f"{time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    elapsed = time.monotonic() - started
    hangs = sum(c["hang"] for c in codes.values())
    summary = {"inputs": args.inputs, "processes": args.processes, "seed": args.seed,
               "seconds": round(elapsed), "exit_codes": {t: dict(sorted(c.items()))
                                                         for t, c in sorted(codes.items())},
               "hangs": hangs, "problems": problems}
    print(json.dumps({k: v for k, v in summary.items() if k != "problems"}, indent=1))
    for line in problems[:50]:
        print(line)
    if args.report:
        args.report.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
