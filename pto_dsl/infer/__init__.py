"""Dependency inference for manual scopes: `scope manual infer` and `pto-check --suggest-deps`.

A manual scope skips the runtime's TensorMap and trusts its explicit deps (runtime-model.md).
Here the compiler writes those deps. Every case of the program is instantiated with the
inferred submissions carrying only the deps their user wrote, while a watcher records, for
each of their tasks, which task every visible task variable holds and where the task sits
in its enclosing loops. `needs.required` says which producers each task must name (ordering
and retention, transitively reduced). Per submission site, each needed producer is named
through a task variable that holds it, and a dep that only some instances need gets the
simplest loop-position guard that matches them (`guards.choose`). The result is a program
whose inferred submissions carry those deps as if the user had written them, so every later
stage (checks, C++, simulation) sees an ordinary manual scope.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from pto_dsl import ir
from pto_dsl.cases import CaseValues
from pto_dsl.diagnostics import CompileError, Diagnostic, Note, Stage, error
from pto_dsl.dialects import DEFAULT_DIALECT, RuntimeRules
from pto_dsl.graph import Task, TaskGraph
from pto_dsl.infer.guards import Atom, Guard, atoms_for, choose
from pto_dsl.infer.needs import required
from pto_dsl.instantiate import DEFAULT_LIMITS, Frame, Instantiator, Limits, Watch, instantiate
from pto_dsl.perf import paused_gc
from pto_dsl.workers import mapped


@dataclass(frozen=True)
class Target:
    """A submission whose deps are inferred, with its enclosing loops (outermost first)."""

    submit: ir.Submit
    loops: tuple[ir.ForStmt, ...]


@dataclass(frozen=True)
class Suggestion:
    """The deps inferred for one submission site."""

    submit: ir.Submit
    deps: tuple[ir.Dep, ...]
    text: str  # "dep a, b when ..." in the program's syntax; "" when none is needed
    instances: int  # task instances over all cases
    extra: int  # instances given a dep they do not need (no guard could leave it out)

    @property
    def as_written(self) -> bool:
        """The deps the user wrote, order aside: the same variables, each unguarded or with
        the guard written there (kept when it is as good as the inferred one)."""
        def key(d: ir.Dep) -> tuple[str, int]:
            return (d.var.name, 0 if d.guard is None else id(d.guard))
        written = [d for d in self.submit.deps if not d.inferred]
        return sorted(map(key, written)) == sorted(map(key, self.deps))


def targets(program: ir.Program, every_manual: bool = False) -> list[Target]:
    """The submissions of `scope manual infer` blocks (or, with `every_manual`, of every
    manual scope), in program order."""
    return list(_walk(program.body, (), False, every_manual))


def _walk(stmts: Sequence[ir.Stmt], loops: tuple[ir.ForStmt, ...], inside: bool,
          every_manual: bool) -> Iterator[Target]:
    for s in stmts:
        if isinstance(s, ir.Submit) and inside:
            yield Target(s, loops)
        elif isinstance(s, ir.ForStmt):
            yield from _walk(s.body, loops + (s,), inside, every_manual)
        elif isinstance(s, ir.IfStmt):
            yield from _walk(s.then, loops, inside, every_manual)
            yield from _walk(s.orelse, loops, inside, every_manual)
        elif isinstance(s, ir.ScopeStmt):
            chosen = s.scope.infer or (every_manual and s.scope.manual)
            yield from _walk(s.body, loops, inside or chosen, every_manual)


def with_deps(program: ir.Program, deps: dict[int, tuple[ir.Dep, ...]]) -> ir.Program:
    """The program with the deps of the given submission sites replaced."""
    return dataclasses.replace(program, body=_replace(program.body, deps))


def _replace(stmts: tuple[ir.Stmt, ...], deps: dict[int, tuple[ir.Dep, ...]]
             ) -> tuple[ir.Stmt, ...]:
    out: list[ir.Stmt] = []
    for s in stmts:
        if isinstance(s, ir.Submit) and s.site.id in deps:
            s = dataclasses.replace(s, deps=deps[s.site.id])
        elif isinstance(s, (ir.ForStmt, ir.ScopeStmt)):
            s = dataclasses.replace(s, body=_replace(s.body, deps))
        elif isinstance(s, ir.IfStmt):
            s = dataclasses.replace(s, then=_replace(s.then, deps),
                                    orelse=_replace(s.orelse, deps))
        out.append(s)
    return tuple(out)


@dataclass
class _Instance:
    task: int
    values: tuple[int | None, ...]  # per task variable of the site: the task id it holds
    atoms: tuple[bool, ...]
    written: tuple[bool | None, ...]  # each written guard's value (None: it fails here)
    needed: frozenset[int] = frozenset()


@dataclass
class _Site:
    target: Target
    names: tuple[str, ...]
    atoms: tuple[Atom, ...]
    instances: list[_Instance] = field(default_factory=list)
    missing: Diagnostic | None = None  # a needed producer no variable holds

    @property
    def written(self) -> tuple[ir.Dep, ...]:
        """The deps the user wrote with a guard, compared with the inferred guards."""
        return tuple(d for d in self.target.submit.deps if not d.inferred and d.guard)

    def watcher(self, inst: Instantiator) -> Watch:
        site = self.target.submit.site
        slots = [site.task_vars[n].slot for n in self.names]
        evals = [inst.expr(a.expr()) for a in self.atoms]
        guards = [inst.expr(d.guard) for d in self.written if d.guard is not None]
        record = self.instances.append

        def watch(f: Frame, task: Task) -> None:
            record(_Instance(task.id, tuple(None if f[s] is None else f[s].id for s in slots),
                             tuple(bool(e(f)) for e in evals),
                             tuple(_value(g, f) for g in guards)))
        return watch


def _value(guard: Callable[[Frame], object], frame: Frame) -> bool | None:
    """A written guard on one instance; one that fails there (a division by zero, say)
    cannot stand for an inferred one."""
    try:
        return bool(guard(frame))
    except Exception:
        return None


def infer(program: ir.Program, cases: Sequence[CaseValues], chosen: Sequence[Target],
          keep_written: bool = True, rules: RuntimeRules = DEFAULT_DIALECT.rules,
          limits: Limits = DEFAULT_LIMITS,
          jobs: int | None = 1) -> tuple[ir.Program, list[Suggestion]]:
    """Infer the deps of the `chosen` submissions from every case; return the program with
    them (after any the user wrote, unless `keep_written` is false) and one suggestion per
    submission. Raises CompileError (E210) when a needed producer is in no variable.

    Each case is instantiated and analysed on its own: with `jobs` other than 1, by up to
    that many worker processes (None: one per processor; `workers.mapped`), whose findings
    are then combined in the cases' order, as one process combines them."""
    with paused_gc():  # graphs, instances and needs: many objects that stay alive
        return _infer(program, chosen, keep_written, cases, rules, limits, jobs)


def _infer(program: ir.Program, chosen: Sequence[Target], keep_written: bool,
           cases: Sequence[CaseValues], rules: RuntimeRules, limits: Limits,
           jobs: int | None) -> tuple[ir.Program, list[Suggestion]]:
    written = {t.submit.site.id: t.submit.deps if keep_written else () for t in chosen}
    base = with_deps(program, written)
    sites = {t.submit.site.id: _Site(t, tuple(sorted(t.submit.site.task_vars)),
                                     atoms_for(t.loops)) for t in chosen}
    alone = jobs == 1 or len(cases) < 2
    quiet = limits if alone else dataclasses.replace(limits, progress=None)

    def one(case: CaseValues) -> dict[int, tuple[list[_Instance], Diagnostic | None]]:
        return _observe(base, case, sites, rules, quiet)
    for found in mapped(one, cases, jobs):
        for sid, (instances, missing) in found.items():
            s = sites[sid]
            s.instances += instances
            s.missing = s.missing or missing
    problems = [s.missing for s in sites.values() if s.missing is not None]
    if problems:
        raise CompileError(problems)
    suggestions = [_generalize(s) for s in sites.values()]
    merged = {sg.submit.site.id: written[sg.submit.site.id] + sg.deps for sg in suggestions}
    return with_deps(program, merged), suggestions


def _observe(base: ir.Program, case: CaseValues, sites: dict[int, _Site], rules: RuntimeRules,
             limits: Limits) -> dict[int, tuple[list[_Instance], Diagnostic | None]]:
    """One case: per site, its task instances with the producers each needs, and the first
    needed producer that no task variable holds (E210), if any."""
    fresh = {sid: dataclasses.replace(s, instances=[], missing=None) for sid, s in sites.items()}
    graph = instantiate(base, case, {sid: s.watcher for sid, s in fresh.items()}, rules,
                        limits)
    needs = required(graph, set(fresh))
    for s in fresh.values():
        for inst in s.instances:
            inst.needed = frozenset(needs[inst.task])
            if s.missing is None:
                s.missing = _missing(s, inst, graph)
    return {sid: (s.instances, s.missing) for sid, s in fresh.items()}


def _missing(s: _Site, inst: _Instance, graph: TaskGraph) -> Diagnostic | None:
    for producer in sorted(inst.needed):
        if producer not in inst.values:
            task, need = graph.task(inst.task), graph.task(producer)
            return error(
                "E210", f"cannot infer the deps of '{task.kernel}': it must wait for "
                f"'{need.kernel}', which no task variable holds here", task.span,
                notes=[Note(f"'{need.kernel}' is submitted here", need.span),
                       Note(f"first instance: {need.label} and {task.label}, case "
                            f"'{graph.case}'")],
                help=(f"keep the '{need.kernel}' task in a variable visible at "
                      f"{task.span.file}:{task.span.line} (e.g. `let prev = ...` before the "
                      "loop, reassigned in it), or write this dep yourself",),
                stage=Stage.VALIDATION)
    return None


def _generalize(s: _Site) -> Suggestion:
    """Name every needed producer through a variable; guard deps needed only sometimes."""
    site = s.target.submit.site
    holders = [(i, [k for k, v in enumerate(inst.values) if v == p])
               for i, inst in enumerate(s.instances) for p in inst.needed]
    coverage = [0] * len(s.names)
    for _, ks in holders:
        for k in ks:
            coverage[k] += 1
    named = {d.var.name for d in s.target.submit.deps if not d.inferred}
    rank = sorted(range(len(s.names)), key=lambda k: (  # the user's own variables first
        -coverage[k], s.names[k] not in named, len(site.reaching[s.names[k]]), s.names[k]))
    must: dict[int, set[int]] = {}
    for i, ks in holders:
        must.setdefault(min(ks, key=rank.index), set()).add(i)
    deps: list[tuple[ir.Var, ir.Dep, str]] = []
    extra_edges = 0
    for k, instances in must.items():
        avoid = [i for i, inst in enumerate(s.instances) if inst.values[k] is not None
                 and inst.values[k] not in inst.needed]
        guard, extra = choose(len(s.atoms), [s.instances[i].atoms for i in instances],
                              [s.instances[i].atoms for i in avoid])
        var = site.task_vars[s.names[k]]
        mine = _written_guard(s, k, guard, set(instances), set(avoid))
        if mine is not None:
            text, dep, extra = f"{var.name} when {_source(mine)}", mine, 0
        else:
            text = var.name + (f" when {guard.text(s.atoms)}" if guard.literals else "")
            dep = ir.Dep(var, guard.expr(s.atoms), s.target.submit.span, inferred=True)
        deps.append((var, dep, text))
        extra_edges += extra
    deps.sort(key=lambda d: d[0].span.start)
    text = ("dep " + ", ".join(t for _, _, t in deps)) if deps else ""
    return Suggestion(s.target.submit, tuple(d for _, d, _ in deps), text, len(s.instances),
                      extra_edges)


def _written_guard(s: _Site, k: int, guard: Guard, must: set[int], avoid: set[int]
                   ) -> ir.Dep | None:
    """A dep the user wrote on variable k whose guard is as good as the inferred one on
    every instance of every case: the same value wherever the variable holds a task, or
    exact (true on every `must` instance, false on every `avoid` one) where the inferred
    guard is not. That dep is kept as written, so a guard the loop-position atoms cannot
    express (`when i >= n - 2`) is recognised rather than replaced."""
    exact = not any(guard.holds(s.instances[i].atoms) for i in avoid)
    name = s.names[k]
    for w, dep in enumerate(s.written):
        if dep.var.name != name:
            continue
        values = [(i, inst.written[w]) for i, inst in enumerate(s.instances)
                  if inst.values[k] is not None]
        if any(v is None for _, v in values):
            continue
        same = all(v == guard.holds(s.instances[i].atoms) for i, v in values)
        separates = all(v for i, v in values if i in must) and \
            not any(v for i, v in values if i in avoid)
        if (same and exact) or separates:
            return ir.Dep(dep.var, dep.guard, s.target.submit.span, inferred=True)
    return None


def _source(dep: ir.Dep) -> str:
    assert dep.guard is not None
    span = dep.guard.span
    return span.source.text[span.start:span.end]
