"""Replaying a recorder trace: the trace of one run -> the TaskGraph instantiation builds.

Drives an `Instantiator` as the IR's closures would: scopes open and close, every submit
becomes a task added by `instantiate_submit.add_task` (the same fanin rules), orchestration
reads are checked like the .pto path's. Submission sites and scope blocks are the C++ call
sites: the program returned has one site per (call site, kernel), so the graph checks and
pictures work unchanged. It does not build or run anything (toolchain.py, child.py do).

The trace is one event per line, fields separated by spaces (see pto_recorder.cpp):

    F id path                  a file the call sites below name
    C n                        aicpu_orchestration_config's expected_arg_count
    G / Q depth                the entry begins / returns (with `depth` scopes still open)
    N                          the program defines no entry function
    B h dtype nd shape.. f l   a buffer first made by make_tensor_external (unknown address)
    S M|A f l / E f l          scope begin (manual or auto) / end
    T kind aic aiv0 aiv1 blocks sync f l   a submit (kind: k kernel, d dummy, a alloc_tensors)
    A tag h dtype manual nd layout.. offsets.. sizes..   one tensor argument (h is -1 for
                               a new output: it gets the next handle, as B buffers do)
    V kind size bits           one scalar argument: f float, i signed, u unsigned; its bytes
    D id..                     explicit deps, in order
    P e                        the task allows early resolve
    P p op target h dtype manual nd layout.. offsets.. sizes.. index..   its dispatch predicate
    Z                          the end of the submit
    R|W h dtype manual nd layout.. offsets.. sizes.. index.. f l bits   orchestration
                               read / write, with the bits of the value read or written
    L level func text          a log line
    X f l code func | text     a fatal report;  U f l text / I f l text  unsupported / misuse
    K signal f l               killed by a signal after the call at f:l
    M f l size                 the same device memory invalidated again: a poll
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from pto_dsl import instantiate_host as host
from pto_dsl import ir
from pto_dsl.cases import CaseValues
from pto_dsl.diagnostics import CompileError, Note, Stage, error
from pto_dsl.dialects import DEFAULT_DIALECT, Dialect
from pto_dsl.graph import Access, Buffer, HostRead, TaskGraph
from pto_dsl.instantiate import Instantiator
from pto_dsl.instantiate_dispatch import PREDICATE_PARAM
from pto_dsl.instantiate_submit import add_task
from pto_dsl.record.child import entry_names
from pto_dsl.record.fields import dep_clauses, scalar_value, typed_value
from pto_dsl.record.spans import load, whole_line
from pto_dsl.record.submit_checks import ACCEPTS, TAGS, SubmitChecks
from pto_dsl.record.toolchain import no_entry
from pto_dsl.record.unmodelled import OPS, Unmodelled
from pto_dsl.regions import Overlap, Region, classify
from pto_dsl.source import SourceFile, Span
from pto_dsl.types import DTYPES
from pto_dsl.values import TensorVal

INVALID_ID = (1 << 64) - 1


# per distinct submit line: kernel, task maker, file id, line, launch (blocks, sync)
Head = tuple[ir.Kernel | None, Callable[..., Any], int, int, tuple[int, bool] | None]


class Replay(SubmitChecks):
    def __init__(self, signature: ir.Program, case: CaseValues, main: SourceFile,
                 main_path: str, dialect: Dialect = DEFAULT_DIALECT) -> None:
        self.dialect = dialect.name
        self.program = ir.Program(signature.name, dict(signature.kernels), signature.tensors,
                                  signature.scalars, signature.symbols, (), signature.cases,
                                  span=signature.span, extern=True)
        self.inst = Instantiator(self.program, case, dialect.rules)  # the target's TensorMap
        self.main, self.main_path = main, main_path
        self.buffers: dict[int, Buffer] = {}
        for i, t in enumerate(signature.tensors):
            self.buffers[i] = self.inst.new_buffer(t.name, t.dtype, case.shape(t.name), None)
        self.files: dict[int, SourceFile | None] = {}
        self.sites: dict[tuple[int, int, str], ir.Site] = {}
        self.makers: dict[int, Callable[..., Any]] = {}
        self.dep_counts: dict[int, int] = {}
        self.decls: dict[tuple[int, int, bool, int | None], ir.ScopeDecl] = {}
        self.decl_stack: list[ir.ScopeDecl] = []
        self.kernels = _kernel_table(signature)
        # func_ids that several kernels declare (views of one in-core kernel with other
        # argument directions): each submit takes the one its arguments' tags fit
        self.views = _shared_ids(signature)
        self.logs: list[str] = []
        self.expected_args: int | None = None
        self.last: tuple[int, int] = (-1, 0)
        self.finished = False
        # parsed once per distinct line (loops repeat the same calls and descriptors)
        self.heads: dict[str, Head] = {}
        self.accesses: dict[tuple[str, str], Access] = {}
        self.scalars: dict[tuple[str, str], int | float] = {}
        self.regions: dict[str, Region] = {}
        self.outputs_seen: dict[str, tuple[str, Region]] = {}
        self.shapes: dict[tuple[str, str, int], tuple[list[str], list[int]]] = {}
        # what the orchestration did, in order, for pto-run (record/simulate.py): scope
        # begins ("S", manual) and ends ("E",), submits ("T", task id), reads and writes
        # ("R"/"W", tensor, index, span, bits read or written, read of computed data)
        self.events: list[tuple[Any, ...]] = []
        self.unmodelled = Unmodelled()
        self.types: dict[str, list[str]] = {}

    # ---- locations ---------------------------------------------------------------------
    def span(self, fid: int, line: int) -> Span:
        source = self.files.get(fid)
        if source is None:
            source = self.main
            line = line if fid < 0 else 1
        return whole_line(source, line)

    def fail(self, code: str, message: str, fid: int, line: int,
             help: tuple[str, ...] = (), notes: tuple[Note, ...] = ()) -> NoReturn:
        raise CompileError([error(code, message, self.span(fid, line), help=help,
                                  notes=(*notes, Note(f"in case '{self.inst.case.name}'")),
                                  stage=Stage.INSTANTIATION)])

    # ---- the trace ---------------------------------------------------------------------
    def run(self, lines: list[str]) -> TaskGraph:
        self.inst.check_shapes()
        handlers = {"F": self.file, "C": self.config, "G": _ignore, "Q": self.done,
                    "B": self.buffer, "S": self.scope_begin, "E": self.scope_end,
                    "R": self.read, "W": self.write, "L": self.log, "X": self.fatal,
                    "U": self.unsupported, "I": self.invalid, "K": self.killed,
                    "M": self.poll, "N": self.no_entry}
        i, count = 0, len(lines)
        while i < count:
            line = lines[i]
            if line[:1] == "T":  # a submit: its lines up to the next "Z"
                try:
                    end = lines.index("Z", i)
                except ValueError:  # cut off by a crash or a timeout: not submitted
                    break
                self.task(lines, i, end)
                i = end + 1
                continue
            if line:
                handlers[line[0]](line.split(" "))
            i += 1
        self.program.body = dep_clauses(self.program, self.inst.graph)
        graph = self.inst.graph
        graph.tensormap_lookups = self.inst.tmap.lookups
        graph.tensormap_inserts = self.inst.tmap.inserts
        return graph

    def file(self, f: list[str]) -> None:
        name = " ".join(f[2:])
        self.files[int(f[1])] = self.main if name == self.main_path else load(name)

    def config(self, f: list[str]) -> None:
        self.expected_args = int(f[1])

    def done(self, f: list[str]) -> None:
        self.finished = True

    def log(self, f: list[str]) -> None:
        self.logs.append(f"{f[1]} {f[2]}: {' '.join(f[3:])}")

    def buffer(self, f: list[str]) -> None:
        handle, dtype, nd = int(f[1]), DTYPES[int(f[2])], int(f[3])
        shape = tuple(int(x) for x in f[4:4 + nd])
        self.last = (int(f[4 + nd]), int(f[5 + nd]))
        self.buffers[handle] = self.inst.new_buffer(f"external#{handle}", dtype, shape, None)

    # ---- scopes --------------------------------------------------------------------------
    def scope_begin(self, f: list[str]) -> None:
        fid, line = int(f[2]), int(f[3])
        self.last = (fid, line)
        parent = self.decl_stack[-1] if self.decl_stack else None
        manual = f[1] == "M"
        key = (fid, line, manual, parent.id if parent else None)
        decl = self.decls.get(key)
        if decl is None:
            decl = ir.ScopeDecl(len(self.program.scopes), manual, len(self.decl_stack) + 1,
                                parent, self.span(fid, line))
            self.decls[key] = decl
            self.program.scopes.append(decl)
        self.decl_stack.append(decl)
        self.inst.open_scope(decl)
        self.events.append(("S", manual))

    def scope_end(self, f: list[str]) -> None:
        self.last = (int(f[1]), int(f[2]))
        self.decl_stack.pop()
        self.inst.close_scope()
        self.events.append(("E",))

    # ---- submits -------------------------------------------------------------------------
    def task(self, lines: list[str], start: int, end: int) -> None:
        """The submit written on lines[start:end] (its "T" line first)."""
        head = self.heads.get(lines[start])
        if head is None:
            head = self.heads[lines[start]] = self.head(lines[start])
        kernel, make, fid, line, launch = head
        self.last = (fid, line)
        tid = len(self.inst.graph)
        args: list[str] = []
        scalars: list[str] = []
        dep_line = None
        extra: list[str] = []
        for ln in lines[start + 1:end]:
            if ln[0] == "A":
                args.append(ln)
            elif ln[0] == "V":
                scalars.append(ln)
            elif ln[0] == "D":
                dep_line = ln
            else:
                extra.append(ln)
        if kernel is not None and frozenset(kernel.func_ids) in self.views:
            tags = "".join(a[2] for a in args)
            kernel = next((k for k in self.views[frozenset(kernel.func_ids)]
                           if _fits(k, tags)), kernel)
            make = self.maker(self.site(fid, line, kernel))
        names, writes = self.param_names(kernel, args, len(scalars), fid, line)
        outputs: dict[str, Access] = {}
        accesses = tuple([self.access(a, name, kernel, tid, outputs)
                          for a, name in zip(args, names)])
        types = self.scalar_types(kernel)
        values = tuple([self.scalar(v, types[i] if i < len(types) else "")
                        for i, v in enumerate(scalars)])
        explicit, items = self.deps(dep_line, tid, fid, line) if dep_line else ((), ())
        early, predicate = self.dispatch(extra)
        if predicate is not None:  # the element the scheduler reads: a read, no edge
            accesses = (*accesses, predicate[0])
        task = make(tid, accesses, values, outputs, explicit, items)
        if launch is not None:
            task.blocks, task.sync_start = launch
        task.early_resolve = early
        task.predicate = predicate[1] if predicate is not None else None
        self.events.append(("T", tid))
        if kernel is None:  # alloc_tensors: outputs only, no fanin (as the .pto path)
            self.inst.graph.add_task(task, {})
            return
        add_task(self.inst, task, writes)

    def dispatch(self, extra: list[str]) -> tuple[bool, tuple[Access, tuple[str, int]] | None]:
        """The task's dispatch settings from its `P` lines, as the .pto graph has them:
        `P e` (set_allow_early_resolve) and `P p op target h dtype manual nd box.. index..`
        (set_predicate: the element becomes a read of the task named `predicate`)."""
        early, predicate = False, None
        for ln in extra:
            f = ln.split(" ")
            if f[0] != "P":
                continue
            if f[1] == "e":
                early = True
                continue
            nd = int(f[7])
            box = self.region(f[:8 + 3 * nd], 7)
            index = tuple(int(x) for x in f[8 + 3 * nd:])
            region = Region(box.layout, tuple(o + i for o, i in zip(box.offsets, index)),
                            (1,) * len(index))
            access = Access(self.buffers[int(f[4])], region, ir.Tag.INPUT, PREDICATE_PARAM,
                            True)
            predicate = (access, (OPS.get(int(f[2]), "?"), int(f[3])))
        return early, predicate

    def head(self, text: str) -> Head:
        """What a submit's first line decides once per distinct line: the kernel, the
        site's task maker, the call site and the SPMD launch (None: one block)."""
        f = text.split(" ")
        fid, line = int(f[7]), int(f[8])
        self.last = (fid, line)
        kernel = self.kernel(f[1], [int(x) for x in f[2:5]], fid, line)
        launch = None
        if f[1] == "k":  # a dummy task or an alloc ignores the launch settings
            launch = self.launch(kernel, int(f[5]), f[6] == "1", fid, line)
        return kernel, self.maker(self.site(fid, line, kernel)), fid, line, launch

    def scalar(self, text: str, type_name: str) -> int | float:
        """A scalar argument as the kernel reads its 64-bit slot: by the parameter's type
        (an orchestration often passes a float's bits as a u64), else by the C++ type."""
        key = (text, type_name)
        value = self.scalars.get(key)
        if value is None:
            f = text.split(" ")
            bits = int(f[3])
            value = self.scalars[key] = (typed_value(bits, type_name) if type_name else
                                         scalar_value(f[1], int(f[2]), bits))
        return value

    def scalar_types(self, kernel: ir.Kernel | None) -> list[str]:
        """The kernel's scalar parameter types (once per kernel: every submit asks)."""
        if kernel is None:
            return []
        types = self.types.get(kernel.name)
        if types is None:
            types = self.types[kernel.name] = [p.type for p in kernel.scalar_params]
        return types

    def main_span(self) -> Span:
        return whole_line(self.main, 1)

    def site(self, fid: int, line: int, kernel: ir.Kernel | None) -> ir.Site:
        key = (fid, line, kernel.name if kernel else "alloc")
        site = self.sites.get(key)
        if site is None:
            scope = self.decl_stack[-1] if self.decl_stack else None
            site = ir.Site(len(self.program.sites), kernel, (), scope, (), self.span(fid, line))
            self.sites[key] = site
            self.program.sites.append(site)
        return site

    def maker(self, site: ir.Site) -> Callable[..., Any]:
        make = self.makers.get(site.id)
        if make is None:
            make = self.makers[site.id] = self.inst.task_maker(site)
        return make

    def param_names(self, kernel: ir.Kernel | None, args: list[str], scalars: int, fid: int,
                    line: int) -> tuple[list[str], list[int]]:
        """The parameter name of each tensor argument, and which arguments may write an
        existing buffer; checked against the kernel once per shape of call."""
        tags = "".join(a[2] for a in args)
        key = (kernel.name if kernel else "", tags, scalars)
        found = self.shapes.get(key)
        if found is None:
            names = self.check_args(kernel, tags, scalars, fid, line)
            writes = [i for i, t in enumerate(tags) if TAGS[t] is not ir.Tag.INPUT]
            found = self.shapes[key] = (names, writes)
        return found

    def access(self, text: str, name: str, kernel: ir.Kernel | None, tid: int,
               outputs: dict[str, Access]) -> Access:
        if text[2] != "O":  # the same descriptor recurs: parse it once
            known = self.accesses.get((text, name))
            if known is None:
                f = text.split(" ")
                tag, region = f[1], self.region(f, 5)
                known = self.accesses[(text, name)] = Access(
                    self.buffers[int(f[2])], region, TAGS[tag], name, f[4] == "1" or tag == "N")
            return known
        parsed = self.outputs_seen.get(text)
        if parsed is None:
            f = text.split(" ")
            parsed = self.outputs_seen[text] = (DTYPES[int(f[3])], self.region(f, 5))
        dtype, region = parsed
        label = kernel.name if kernel else "alloc"
        buf = self.buffers[len(self.buffers)] = self.inst.new_buffer(
            f"{label}#{tid}.{name}", dtype, region.layout, tid)
        access = outputs[name] = Access(buf, region, ir.Tag.OUTPUT, name, False)
        return access

    def region(self, f: list[str], at: int) -> Region:
        """The box written as `nd layout.. offsets.. sizes..` from field `at`."""
        key = " ".join(f[at:])
        known = self.regions.get(key)
        if known is None:
            nd = int(f[at])
            nums = tuple(map(int, f[at + 1:at + 1 + 3 * nd]))
            known = self.regions[key] = Region(nums[:nd], nums[nd:2 * nd], nums[2 * nd:])
        return known

    def deps(self, line_text: str | None, tid: int, fid: int,
             line: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        if line_text is None:
            return (), ()
        explicit, items = [], []
        for index, raw in enumerate(int(x) for x in line_text.split(" ")[1:]):
            if raw == INVALID_ID:  # an invalid id adds no edge, like a dep on `none`
                continue
            producer = raw & 0xFFFFFFFF
            if producer >= tid:
                self.fail("E807", f"explicit dep {index} is not the id of a submitted task "
                          f"(0x{raw:x})", fid, line)
            explicit.append(producer)
            items.append(index)
        return tuple(explicit), tuple(items)

    # ---- orchestration reads and writes ---------------------------------------------------
    def read(self, f: list[str]) -> None:
        self.element(f, False)

    def write(self, f: list[str]) -> None:
        self.element(f, True)

    def element(self, f: list[str], write: bool) -> None:
        """An element access, recorded with the runtime's wait (the C++ itself computed the
        values, so none is needed here)."""
        handle, manual, nd = int(f[1]), f[3] == "1", int(f[4])
        nums = [int(x) for x in f[5:5 + 4 * nd]]
        fid, line = int(f[5 + 4 * nd]), int(f[6 + 4 * nd])
        self.last = (fid, line)
        buf = self.buffers[handle]
        region = Region(tuple(nums[:nd]), tuple(nums[nd:2 * nd]), tuple(nums[2 * nd:3 * nd]))
        index = tuple(nums[3 * nd:])
        span = self.span(fid, line)
        tv = TensorVal(buf, region, manual)
        point = host.point(tv, index)
        value = int(f[7 + 4 * nd]) if len(f) > 7 + 4 * nd else 0
        computed = not write and (buf.owner is not None or self.computed(buf, point))
        self.events.append(("W" if write else "R", tv, index, span, value, computed))
        if computed:
            self.unmodelled.computed_read(span)  # the recording ran no kernel: its value
        if buf.owner is not None or handle < len(self.program.tensors):
            host.record(self.inst, tv, point, span, write)
            if write:
                host.note_write(self.inst, tv, point, None)
            return
        tag = ir.Tag.OUTPUT_EXISTING if write else ir.Tag.INPUT
        self.inst.graph.host_reads.append(HostRead(span, Access(buf, point, tag, "", manual),
                                                   len(self.inst.graph), write=write))

    def computed(self, buf: Buffer, point: Region) -> bool:
        """Whether a task (not the orchestration) has written this element already."""
        return any(task != host.HOST and classify(point, written) is not Overlap.NO_OVERLAP
                   for written, task in self.inst.written.get(buf.id, ()))

    # ---- how a run ends early ------------------------------------------------------------------
    def fatal(self, f: list[str]) -> None:
        fid, line, code, func = int(f[1]), int(f[2]), int(f[3]), f[4]
        text = " ".join(f[6:])
        self.fail("E807", f"the orchestration reports a fatal error (code {code}) in {func}: "
                  f"{text}", fid, line,
                  help=("the runtime stops the orchestration here; nothing after it runs",))

    def unsupported(self, f: list[str]) -> None:
        self.fail("E806", f"pto-dsl's recording API does not implement {' '.join(f[3:])}",
                  int(f[1]), int(f[2]),
                  help=("the run stops here; what was recorded before it is not checked",))

    def invalid(self, f: list[str]) -> None:
        self.fail("E807", f"the runtime rejects this: {' '.join(f[3:])}", int(f[1]), int(f[2]))

    def poll(self, f: list[str]) -> None:
        self.fail("E810", "orchestration polls device memory that a task writes; a recording "
                  "runs no kernel, so the poll can never end", int(f[1]), int(f[2]),
                  notes=(Note(f"it invalidates the same {f[3]} bytes again, with no submit, "
                              "scope or element read or write since it last did"),),
                  help=("record a case whose path does not wait on device memory; the graph "
                        "up to here is not checked",))

    def no_entry(self, f: list[str]) -> None:
        raise CompileError([no_entry(self.main, entry_names(self.program), self.dialect)])

    def killed(self, f: list[str]) -> None:
        sig, fid, line = int(f[1]), int(f[2]), int(f[3])
        self.last = (fid, line)
        raise _Killed(sig)

class _Killed(Exception):
    def __init__(self, signal: int) -> None:
        super().__init__(signal)
        self.signal = signal


def _ignore(f: list[str]) -> None:
    pass


def _kernel_table(program: ir.Program) -> dict[frozenset[tuple[str, int]], ir.Kernel]:
    return {frozenset(k.func_ids): k for k in program.kernels.values()}


def _shared_ids(program: ir.Program) -> dict[frozenset[tuple[str, int]], list[ir.Kernel]]:
    by_ids: dict[frozenset[tuple[str, int]], list[ir.Kernel]] = {}
    for k in program.kernels.values():
        by_ids.setdefault(frozenset(k.func_ids), []).append(k)
    return {ids: ks for ids, ks in by_ids.items() if len(ks) > 1}


def _fits(kernel: ir.Kernel, tags: str) -> bool:
    """Whether a submit's tensor tags fit the kernel's parameter directions."""
    params = kernel.tensor_params
    return len(params) == len(tags) and all(t in ACCEPTS[p.direction]
                                            for p, t in zip(params, tags))
