"""The checks a replayed submit gets once per distinct call (record/replay.py): which kernel
of the signature its func_ids name (E805), whether its launch and its arguments are what the
runtime accepts and the kernel declares (E807). A mixin of `Replay`, which provides `fail`,
`program`, `kernels` and `main_span`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

from pto_dsl import ir, machine
from pto_dsl.diagnostics import Note
from pto_dsl.source import Span

TAGS = {"I": ir.Tag.INPUT, "O": ir.Tag.OUTPUT, "X": ir.Tag.OUTPUT_EXISTING,
        "U": ir.Tag.INOUT, "N": ir.Tag.INPUT}  # NO_DEP: read, never tracked
ACCEPTS = {"in": ("I", "N"), "out": ("O", "X", "N"), "inout": ("U", "N")}


class SubmitChecks:
    if TYPE_CHECKING:
        program: ir.Program
        kernels: dict[frozenset[tuple[str, int]], ir.Kernel]

        def fail(self, code: str, message: str, fid: int, line: int,
                 help: tuple[str, ...] = (), notes: tuple[Note, ...] = ()) -> NoReturn: ...

        def main_span(self) -> Span: ...

    def kernel(self, kind: str, ids: list[int], fid: int, line: int) -> ir.Kernel | None:
        if kind == "a":
            return None
        if kind == "d":
            return self.dummy()
        slots = frozenset((slot, k) for slot, k in zip(("aic", "aiv0", "aiv1"), ids) if k >= 0)
        if not slots:
            self.fail("E807", "this submit names no kernel (every slot of its MixedKernels "
                      "is INVALID_KERNEL_ID); the runtime asserts at least one", fid, line,
                      help=("a task that runs nothing is rt_submit_dummy_task",))
        found = self.kernels.get(slots)
        if found is None and len(slots) == 1 and next(iter(slots))[0] == "aiv1":
            found = self.kernels.get(frozenset({("aiv0", next(iter(slots))[1])}))
        if found is None:
            text = ", ".join(f"{s} {k}" for s, k in sorted(slots)) or "no kernel"
            known = ", ".join(f"{k.name} ({', '.join(f'{s} {i}' for s, i in k.func_ids)})"
                              for k in self.program.kernels.values() if k.func_ids) or "none"
            self.fail("E805", f"this submit names func_id {text}, which no kernel of the "
                      "signature has", fid, line,
                      help=(f"the signature's kernels: {known}",
                            "declare the kernel in the signature with the func_id the "
                            "runtime registers it under"))
        return found

    def dummy(self) -> ir.Kernel:
        kernel = self.program.kernels.get("dummy")
        if kernel is None:
            kernel = ir.Kernel("dummy", "dummy", (), (), None, None, self.main_span())
            self.program.kernels["dummy"] = kernel
        return kernel

    def launch(self, kernel: ir.Kernel | None, blocks: int, sync: bool, fid: int,
               line: int) -> tuple[int, bool] | None:
        """A kernel submit's (block count, require_sync_start), checked as the runtime's
        submit does: at least one block, and a sync start no wider than the machine."""
        if blocks < 1:
            self.fail("E807", f"this submit launches {blocks} blocks; the runtime asserts "
                      "block_num >= 1", fid, line)
        limit = machine.sync_start_limit(kernel.shape if kernel else "aiv")
        if sync and blocks > limit:
            self.fail("E807", f"this submit needs all {blocks} blocks to start together, but "
                      f"the machine has {limit} slots of its kind", fid, line,
                      help=("the runtime stops with fatal error 7 "
                            "(REQUIRE_SYNC_START_INVALID)",))
        return None if blocks == 1 and not sync else (blocks, sync)

    def check_args(self, kernel: ir.Kernel | None, tags: str, scalars: int, fid: int,
                   line: int) -> list[str]:
        if kernel is None or kernel.name == "dummy":
            return [f"out{i}" if kernel is None else f"arg{i}" for i in range(len(tags))]
        params, sparams = kernel.tensor_params, kernel.scalar_params
        if len(params) != len(tags) or len(sparams) != scalars:
            self.fail("E807", f"this submit passes {len(tags)} tensor and {scalars} "
                      f"scalar arguments, but kernel '{kernel.name}' takes {len(params)} and "
                      f"{len(sparams)}", fid, line,
                      notes=(Note("the kernel is declared here", kernel.span),))
        for i, (p, tag) in enumerate(zip(params, tags)):
            if tag not in ACCEPTS[p.direction]:
                added = {"I": "add_input", "O": "add_output", "X": "add_output",
                         "U": "add_inout", "N": "add_no_dep"}[tag]
                self.fail("E807", f"tensor argument {i} of '{kernel.name}' is added with "
                          f"{added}, but the kernel's parameter '{p.name}' is '{p.direction}'",
                          fid, line, notes=(Note("the parameter is declared here", p.span),))
        return [p.name for p in params]
