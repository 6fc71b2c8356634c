"""Instantiation stage: structured IR + case values -> TaskGraph.

The IR is compiled once into Python closures over a slot frame, then run: loops run,
data-dependent reads read the case's tensor contents, and every submission becomes a
task whose fanin follows the runtime's submit pipeline (runtime-model.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from pto_dsl import instantiate_host as host
from pto_dsl import ir
from pto_dsl.cases import CaseValues
from pto_dsl.diagnostics import CompileError, Note, Stage, error
from pto_dsl.dialects import DEFAULT_DIALECT, RuntimeRules
from pto_dsl.graph import Access, Buffer, ScopeInstance, Task, TaskGraph
from pto_dsl.instantiate_arrays import compile_copy, compile_decl, compile_fatal
from pto_dsl.instantiate_expr import compile_expr
from pto_dsl.instantiate_gen import Gen, generate
from pto_dsl.instantiate_submit import compile_alloc, compile_submit
from pto_dsl.perf import paused_gc
from pto_dsl.regions import Region
from pto_dsl.source import Span
from pto_dsl.tensormap import TensorMap
from pto_dsl.types import DEFAULT_MAX_TASKS, INT64_MAX, INT64_MIN
from pto_dsl.values import Tensor, TensorVal

Frame = list[Any]
Eval = Callable[[Frame], Any]
Run = Callable[[Frame], None]
# Called with each task of a site right after its submission, before its target variable is
# assigned; made per site from the Instantiator (to compile expressions). Dependency
# inference uses it to see the task variables and loop positions of every instance.
Watch = Callable[[Frame, Task], None]
WatchFactory = Callable[["Instantiator"], Watch]

MAX_RING = 3  # ring = min(scope depth, 3) (runtime-model.md)
ITERATIONS_PER_TASK = 10  # loop iterations allowed per allowed task (loops without tasks)
PROGRESS_EVERY = 4096  # tasks between progress reports


@dataclass(frozen=True)
class Limits:
    """What bounds one instantiation: the task limit (E176), the task window past which a
    scope stops it early (`WindowPassed`; None: no early stop), and a progress callback
    called with the count of tasks made."""

    max_tasks: int = DEFAULT_MAX_TASKS
    task_window: int | None = None
    progress: Callable[[int], None] | None = None


DEFAULT_LIMITS = Limits()


class InstantiationError(CompileError):
    pass


class WindowPassed(Exception):
    """A scope (or the entry's level) reached the task window: the runtime would stop with
    SCOPE_DEADLOCK there, so instantiating further is pointless. `graph` is the prefix."""

    def __init__(self, graph: TaskGraph) -> None:
        super().__init__("a scope passed the task window")
        self.graph = graph


class Instantiator:
    # run the body as generated Python (instantiate_gen), not through the closures; the
    # tests compare the two
    generated = True
    writer: type[Gen] = Gen  # what writes that Python

    def __init__(self, program: ir.Program, case: CaseValues, rules: RuntimeRules,
                 watchers: Mapping[int, WatchFactory] | None = None,
                 limits: Limits = DEFAULT_LIMITS) -> None:
        self.program = program
        self.case = case
        self.watchers = watchers or {}
        self.bounds = limits
        self.tasks_made = 0
        self.iterations = 0
        self.scope_sizes: dict[int, int] = {}  # scope instance id (-1: entry level) -> tasks
        self.graph = TaskGraph(program.name, case.name, rules)
        self.tmap = TensorMap(rules.overlap)
        self.scope_stack: list[ScopeInstance] = []
        self.manual_depth: int | None = None  # depth where the outermost manual scope began
        self.instance: tuple[tuple[str, int], ...] = ()
        self.placement = self.place()
        # regions written so far by tasks (any mode) or the orchestration (host.HOST), per
        # buffer, for orchestration reads; the elements the orchestration wrote, by
        # (buffer, flat index); initial values of allocated buffers
        self.written: dict[int, list[tuple[Region, int]]] = {}
        self.host_values: dict[tuple[int, int], Any] = {}
        self.initial_values: dict[int, Any] = {}

    # ---- errors ----------------------------------------------------------------
    def fail(self, code: str, message: str, span: Span, help: tuple[str, ...] = ()) -> NoReturn:
        notes = []
        if self.instance:
            inst = ", ".join(f"{k}={v}" for k, v in self.instance)
            notes.append(Note(f"in the iteration {inst} of case '{self.case.name}'"))
        else:
            notes.append(Note(f"in case '{self.case.name}'"))
        raise InstantiationError([error(code, message, span, notes=notes, help=help,
                                        stage=Stage.INSTANTIATION)])

    # ---- limits ----------------------------------------------------------------
    def count_task(self, span: Span) -> None:
        """After each task: the task limit, progress, and the scope's size (when checked)."""
        self.tasks_made = made = self.tasks_made + 1
        bounds = self.bounds
        if made > bounds.max_tasks:
            self.fail("E176", f"this submission makes task number {made}, above the limit of "
                      f"{bounds.max_tasks} tasks", span,
                      help=("a loop bound is probably larger than meant; if the program "
                            "really makes this many tasks, raise the limit with --max-tasks",))
        if bounds.progress is not None and not made % PROGRESS_EVERY:
            bounds.progress(made)
        if bounds.task_window is not None:
            top = self.placement[0]
            key = top.id if top is not None else -1
            size = self.scope_sizes[key] = self.scope_sizes.get(key, 0) + 1
            if size >= bounds.task_window:
                raise WindowPassed(self.graph)

    def count_iterations(self, count: int, span: Span) -> None:
        """Before a loop runs: loops without tasks are bounded too."""
        self.iterations += count
        limit = self.bounds.max_tasks * ITERATIONS_PER_TASK
        if self.iterations > limit:
            self.fail("E176", f"this loop runs {count} iterations, which takes the case above "
                      f"its limit of {limit} loop iterations ({ITERATIONS_PER_TASK} per "
                      "allowed task)", span,
                      help=("a loop bound is probably larger than meant; if the program "
                            "really runs this many iterations, raise the limit with "
                            "--max-tasks",))

    # ---- run -------------------------------------------------------------------
    def run(self) -> TaskGraph:
        frame: Frame = [None] * self.program.slot_count
        for t in self.program.tensors:
            shape = self.case.shape(t.name)
            buf = self.new_buffer(t.name, t.dtype, shape, None)
            frame[t.var.slot] = TensorVal(buf, Region(shape, (0,) * len(shape), shape), False)
        for s in self.program.scalars:
            frame[s.var.slot] = value = self.case.scalars[s.name]
            if type(value) is int and not INT64_MIN <= value <= INT64_MAX:
                self.fail("E170", f"scalar '{s.name}' is {value}, which the generated C++ "
                          "holds in an int64_t (as every integer) and cannot represent", s.span)
        for name, var in self.program.symbols.items():
            frame[var.slot] = self.case.symbols[name]
        self.check_shapes()
        body = self.body(self.program.body)
        try:
            body(frame)
        except host.UnknownUsed as exc:
            host.unknown_error(self, exc)
        self.graph.tensormap_lookups = self.tmap.lookups
        self.graph.tensormap_inserts = self.tmap.inserts
        return self.graph

    def check_shapes(self) -> None:
        for t in self.program.tensors:
            if 0 in self.case.shape(t.name):
                self.fail("E170", f"entry tensor '{t.name}' is empty in this case", t.span)

    def new_buffer(self, name: str, dtype: str, shape: tuple[int, ...],
                   owner: int | None) -> Buffer:
        buf = Buffer(len(self.graph.buffers), name, dtype, shape, owner)
        self.graph.buffers.append(buf)
        return buf

    def place(self) -> tuple[ScopeInstance | None, bool, int]:
        """Where a task submitted now goes: its scope, manual mode and ring (runtime-model.md)."""
        top = self.scope_stack[-1] if self.scope_stack else None
        return top, self.manual_depth is not None, min(len(self.scope_stack), MAX_RING)

    # ---- statements ------------------------------------------------------------
    def body(self, stmts: tuple[ir.Stmt, ...]) -> Run:
        """The entry's body (or a loop's, see instantiate_gen) as one function: generated
        Python or, without `generated`, the statements' closures."""
        return generate(self, stmts) if self.generated else self.block(stmts)

    def block(self, stmts: tuple[ir.Stmt, ...]) -> Run:
        runs = [self.stmt(s) for s in stmts]
        if len(runs) == 1:
            return runs[0]

        def run(f: Frame) -> None:
            for r in runs:
                r(f)
        return run

    def stmt(self, s: ir.Stmt) -> Run:
        if isinstance(s, (ir.LetStmt, ir.AssignStmt)):
            slot, value = s.var.slot, self.expr(s.value)

            def assign(f: Frame) -> None:
                f[slot] = value(f)
            return assign
        if isinstance(s, ir.Submit):
            return compile_submit(self, s)
        if isinstance(s, ir.AllocStmt):
            return compile_alloc(self, s)
        if isinstance(s, ir.SetElement):
            return host.compile_set(self, s)
        if isinstance(s, ir.ForStmt):
            return self.for_(s)
        if isinstance(s, ir.TaskArrayDecl):
            return compile_decl(s)
        if isinstance(s, ir.CopyTaskId):
            return compile_copy(self, s)
        if isinstance(s, ir.FatalStmt):
            return compile_fatal(self, s)
        if isinstance(s, ir.IfStmt):
            cond, then, orelse = self.expr(s.cond), self.block(s.then), self.block(s.orelse)

            def if_(f: Frame) -> None:
                (then if cond(f) else orelse)(f)
            return if_
        return self.scope(s)

    def for_(self, s: ir.ForStmt, body: Run | None = None) -> Run:
        """The loop; `body` runs each iteration (default: the body's closures)."""
        start, stop = self.expr(s.start), self.expr(s.stop)
        step = self.expr(s.step) if s.step is not None else (lambda f: 1)
        slot, name = s.var.slot, s.var.name
        body = self.block(s.body) if body is None else body

        def loop(f: Frame) -> None:
            step_value = step(f)
            if step_value <= 0:
                self.fail("E170", f"the loop step is {step_value}; it must be positive",
                          s.step.span if s.step else s.span)
            outer = self.instance
            first, last = start(f), stop(f)
            if last > first:
                self.count_iterations((last - first + step_value - 1) // step_value, s.span)
            for i in range(first, last, step_value):
                f[slot] = i
                self.instance = outer + ((name, i),)
                body(f)
            self.instance = outer
        return loop

    def scope(self, s: ir.ScopeStmt) -> Run:
        body, decl = self.block(s.body), s.scope

        def scope(f: Frame) -> None:
            self.open_scope(decl)
            body(f)
            self.close_scope()
        return scope

    def open_scope(self, decl: ir.ScopeDecl) -> None:
        """Begin an instance of a scope block (the runtime's scope_begin)."""
        parent = self.scope_stack[-1] if self.scope_stack else None
        inst = ScopeInstance(len(self.graph.scopes), decl, parent, self.instance)
        self.graph.scopes.append(inst)
        self.scope_stack.append(inst)
        if decl.manual and self.manual_depth is None:
            self.manual_depth = len(self.scope_stack)
        self.placement = self.place()

    def close_scope(self) -> None:
        """End the innermost open scope instance (the runtime's scope_end)."""
        if self.manual_depth == len(self.scope_stack):
            self.manual_depth = None
        self.scope_stack.pop()
        self.placement = self.place()

    # ---- expressions -----------------------------------------------------------
    def expr(self, e: ir.Expr) -> Eval:
        return compile_expr(self, e)

    def task_maker(self, site: ir.Site) -> Callable[..., Task]:
        """A constructor of this site's tasks; scope, ring and mode come from the open
        scopes at submission time."""
        kernel = site.kernel
        fixed = (site.id, site.label, kernel.core if kernel else "alloc",
                 kernel.func_id if kernel and kernel.func_ids else None)

        def make(tid: int, accesses: tuple[Access, ...], scalars: tuple[Any, ...],
                 explicit: tuple[int, ...] = (), dep_items: tuple[int, ...] = ()) -> Task:
            top, manual, ring = self.placement
            return Task(tid, *fixed, top, manual, ring, accesses, scalars, self.instance,
                        site.span, explicit, dep_items)
        return make

    def host_read(self, tv: Tensor, index: tuple[int, ...], span: Span) -> Any:
        """`get_tensor_data` (runtime-model.md): one TensorMap lookup, then the value."""
        return host.host_read(self, tv, index, span)

    def core_count(self, kind: str) -> int:
        """rt_available_cluster_count (`cluster`) / rt_available_aiv_count (`aiv`)."""
        return host.core_count(kind)


def instantiate(program: ir.Program, case: CaseValues,
                watchers: Mapping[int, WatchFactory] | None = None,
                rules: RuntimeRules = DEFAULT_DIALECT.rules,
                limits: Limits = DEFAULT_LIMITS) -> TaskGraph:
    """Run the program on a case under a target's rules (its TensorMap overlap test);
    raises InstantiationError at the first problem, and WindowPassed if `limits` gives a
    task window that a scope reaches. `watchers` (site id -> factory) observe the tasks of
    those sites."""
    with paused_gc():
        return Instantiator(program, case, rules, watchers, limits).run()
