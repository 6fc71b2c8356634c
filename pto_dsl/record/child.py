"""Running a recorder executable on one case: the case file in, the trace out.

Writes the entry tensors (contents of those small enough to load) and scalars of a case in
the recorder's binary case format, runs the executable in a child process with a timeout,
and returns its trace and how it ended. It does not interpret the trace (replay.py does).
"""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pto_dsl import ir
from pto_dsl.cases import CaseValues
from pto_dsl.types import DTYPE_INFO, DTYPES, FLOAT_TYPES

# Entry tensors larger than this are reserved but not loaded: the orchestration reading
# one gets a located error instead of pto-dsl making gigabytes of contents nobody reads.
LOAD_LIMIT = 64 << 20
MAGIC = b"PTOREC1\0"


@dataclass(frozen=True)
class Outcome:
    trace: str
    returncode: int  # negative: killed by that signal
    timed_out: bool
    stderr: str


def tensor_bytes(values: np.ndarray, dtype: str) -> bytes:
    """The tensor's contents in the runtime's element encoding."""
    if dtype == "bf16":  # kept as float32 by the cases; the top half, rounded to nearest even
        bits: np.ndarray = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
        wide = bits.astype(np.uint64)
        rounded = (wide + 0x7FFF + ((wide >> 16) & 1)) >> 16
        return np.asarray(rounded).astype(np.uint16).tobytes()
    return np.ascontiguousarray(values).tobytes()


def scalar_bits(value: int | float | bool, type_name: str) -> int:
    """An entry scalar as the runtime passes it: its own bits, zero-extended to 64."""
    if type_name in FLOAT_TYPES:
        if type_name == "f64":
            return int(struct.unpack("<Q", struct.pack("<d", float(value)))[0])
        if type_name == "f32":
            return int(struct.unpack("<I", struct.pack("<f", float(value)))[0])
        if type_name == "f16":
            return int(np.array(value, dtype=np.float16).view(np.uint16))
        return int.from_bytes(tensor_bytes(np.array([value], dtype=np.float32), "bf16"), "little")
    return int(value) & ((1 << 64) - 1)


def case_file(program: ir.Program, case: CaseValues, path: Path) -> None:
    with open(path, "wb") as out:
        out.write(MAGIC)
        out.write(struct.pack("<II", len(program.tensors), len(program.scalars)))
        for t in program.tensors:
            shape = case.shape(t.name)
            nbytes = int(np.prod(shape, dtype=np.int64)) * DTYPE_INFO[t.dtype][1]
            load = nbytes <= LOAD_LIMIT
            dims = list(shape) + [0] * (5 - len(shape))
            out.write(struct.pack("<7IQB", DTYPES.index(t.dtype), len(shape), *dims, nbytes,
                                  int(load)))
            if load:
                out.write(tensor_bytes(case.contents(t.name), t.dtype))
        for s in program.scalars:
            out.write(struct.pack("<Q", scalar_bits(case.scalars[s.name], s.type)))


ENTRY, CONFIG = "aicpu_orchestration_entry", "aicpu_orchestration_config"


def entry_names(program: ir.Program) -> list[str]:
    """The C functions tried as the entry: the runtime's default name, then the signature's
    entry name (the runtime's harness can name another function)."""
    return [ENTRY] + ([program.name] if program.name != ENTRY else [])


def run(executable: Path, program: ir.Program, case: CaseValues, timeout: float) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="pto-record-") as tmp:
        path = Path(tmp) / "case.bin"
        case_file(program, case, path)
        read_fd, write_fd = os.pipe()
        chunks: list[bytes] = []
        reader = threading.Thread(target=_drain, args=(read_fd, chunks), daemon=True)
        reader.start()
        try:
            names = entry_names(program)
            configs = [CONFIG] + [n + "_config" for n in names[1:]]
            proc = subprocess.Popen([str(executable), str(path), str(write_fd),
                                     ",".join(names), ",".join(configs)],
                                    pass_fds=(write_fd,), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        finally:
            os.close(write_fd)
        timed_out = False
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            proc.send_signal(signal.SIGTERM)  # its handler writes where it was
            try:
                _, err = proc.communicate(timeout=2)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
        reader.join()
    trace = b"".join(chunks).decode("utf-8", errors="replace")
    return Outcome(trace, proc.returncode, timed_out, err.decode("utf-8", errors="replace"))


def _drain(fd: int, chunks: list[bytes]) -> None:
    with os.fdopen(fd, "rb") as f:
        while True:
            block = f.read(1 << 16)
            if not block:
                return
            chunks.append(block)
