"""The generated C++ does what the program says: a small interpreter runs the view model
of each example (the statements the template lays out, C++ expressions translated to
Python) on a case, and the tasks it submits, with their explicit deps, must be the tasks of
the instantiated graph with its explicit edges."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_compile_support import DIALECT_NAMES, EXAMPLES, ROOT, expressible, load

from pto_dsl.cases import case_names
from pto_dsl.codegen.cpp import view_model
from pto_dsl.codegen.cpp_model import BlockView, Code, FileView, Node, SubmitView
from pto_dsl.graph import TaskGraph
from pto_dsl.pipeline import Checked, case_values, instantiate_case

# (kernel, explicit deps, early resolve, (predicate op, target) or None)
Submitted = tuple[str, tuple[int, ...], bool, "tuple[str, int] | None"]


@dataclass(frozen=True)
class TaskId:
    id: int | None

    def is_valid(self) -> bool:
        return self.id is not None

    def task_id(self) -> TaskId:
        return self


_REWRITES = [
    (re.compile(r"std::(min|max)<\w+>\("), r"\1("),
    (re.compile(r"static_cast<\w+>\("), "("),
    (re.compile(r"pto_scalar_bits<\w+>\(orch_args\.scalar\((\d+)\)\)"), r"_scalar(\1)"),
    (re.compile(r"orch_args\.scalar\((\d+)\)"), r"_scalar(\1)"),
    (re.compile(r"orch_args\.tensor\((\d+)\)(?:\.ref\(\))?\.shapes\[(\d+)\]"), r"_shape(\1, \2)"),
    (re.compile(r"PTO2TaskId::invalid\(\)"), "_invalid"),
    (re.compile(r"pto_cdiv\("), "_cdiv("),
    (re.compile(r"pto_(div|mod)\("), r"_\1("),
    (re.compile(r"&&"), " and "),
    (re.compile(r"\|\|"), " or "),
    (re.compile(r"!(?!=)"), " not "),
    (re.compile(r"\btrue\b"), "True"),
    (re.compile(r"\bfalse\b"), "False"),
    (re.compile(r"pto_read<\w+, \w+>\((\w+)(?:\.get_ref\((\d+)\))?, "), r'_read("\1", '),
]
_ARRAY = re.compile(r"uint32_t (\w+)\[\d+\] = \{(.*)\};$")
_TENSOR = re.compile(r"(?:\[\[maybe_unused\]\] )?(?:const )?(?:Tensor|ChipTensor) &?(\w+) = (.*);$")
_EXTERNAL = re.compile(r"make_tensor_external\(orch_args\.tensor\((\d+)\).*?, (\w+), \d+, ")
_VIEW = re.compile(r"(\w+)\.(view|reshape)\((\w+), (\w+)")
_DECL = re.compile(r"(?:\[\[maybe_unused\]\] )?"
                   r"(?:(?:const )?(?:int64_t|double|float|bool)|PTO2TaskId) (\w+) = (.*);$")
_ASSIGN = re.compile(r"(\w+) = (.*);$")
_ELEMENT = re.compile(r"(\w+)\[(.*)\] = (.*);$")  # an id copied into a task-id array
# a CoreTaskPredicate and its fields (set up before the submit that passes it)
_PRED_DECL = re.compile(r"CoreTaskPredicate (\w+);$")
_PRED_FIELD = re.compile(r"(\w+)\.(operand\.\w+|op|target)(?:\[\d+\])? = (.*);$")
_PRED_OPS = {"EQ": "==", "NE": "!=", "GT": ">", "LT": "<", "GE": ">=", "LE": "<="}
_WRITE = re.compile(r"pto_write<\w+>\((.*)\);$")
_TASK_ARRAY = re.compile(r"PTO2TaskId (\w+)\[(\d+)\];$")
_FILL = re.compile(r"std::fill_n\((\w+), (\d+), PTO2TaskId::invalid\(\)\);$")
_FATAL = re.compile(r"(?:pto2_)?rt_report_fatal\(")


class _Returned(Exception):
    """The entry returned early (after a fatal report)."""


class _CDivision(ast.NodeTransformer):
    """`/` and `%` with C++ semantics on integers (truncation toward zero)."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        names = {ast.Div: "_div", ast.Mod: "_mod"}
        name = names.get(type(node.op))
        if name is None:
            return node
        return ast.Call(ast.Name(name, ast.Load()), [node.left, node.right], [])


def _div(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int):
        q = abs(a) // abs(b)
        return q if (a < 0) == (b < 0) else -q
    return a / b


def _mod(a: int, b: int) -> int:
    return a - _div(a, b) * b


@dataclass(frozen=True)
class TensorRef:
    """Enough of a descriptor to read elements: the entry tensor, its raw shape, offsets."""

    entry: str
    raw: tuple[int, ...]
    offsets: tuple[int, ...]


class Interpreter:
    """Runs a FileView on one case, recording (kernel, explicit dep ids) per task."""

    def __init__(self, model: FileView, checked: Checked, case: str) -> None:
        self.model = model
        self.values = case_values(checked, case)
        self.program = checked.program
        self.env: dict[str, Any] = {
            "_scalar": self._scalar, "_shape": self._shape, "_read": self._read,
            "_cdiv": lambda a, b: -((-a) // b), "_invalid": TaskId(None),
            "min": min, "max": max, "_div": _div, "_mod": _mod,
            "rt_available_cluster_count": lambda: 24, "rt_available_aiv_count": lambda: 48}
        self.written: dict[tuple[str, int], Any] = {}  # (entry, flat index) -> value
        self.writes: list[tuple[str, int]] = []  # element writes of entry tensors, in order
        self.arrays: dict[str, list[int]] = {}
        self.tensors: dict[str, TensorRef] = {}
        self.tensor_names: set[str] = set()  # every descriptor declared, entry-backed or not
        self.kernels = {k.name: k.comment.split()[0] for k in model.kernels}
        self.tasks: list[Submitted] = []
        self.predicates: dict[str, dict[str, Any]] = {}

    def _scalar(self, index: int) -> Any:
        return self.values.scalars[self.program.scalars[index].name]

    def _shape(self, index: int, dim: int) -> int:
        return self.values.shape(self.program.tensors[index].name)[dim]

    def _read(self, name: str, *index: int) -> Any:
        t = self.tensors.get(name)
        if t is None:  # a task's output: computed, and (pto-check made sure) steering nothing
            return 0
        flat = self._flat(t, index)
        if (t.entry, flat) in self.written:
            return self.written[(t.entry, flat)]
        return self.values.contents(t.entry).reshape(-1)[flat].item()

    @staticmethod
    def _flat(t: TensorRef, index: tuple[int, ...]) -> int:
        at = tuple(o + i for o, i in zip(t.offsets, index))
        return int(np.ravel_multi_index(at, t.raw))

    def _write(self, args: str) -> None:
        """`pto_write<T>(tensor, value, index...)`: later reads of the element see it."""
        for pattern, replacement in _REWRITES:  # pto_read<V, T>(...) has a comma in <>
            args = pattern.sub(replacement, args)
        name, value, *index = self._items(args, evaluate=False)
        t = self.tensors.get(name)
        if t is not None:
            flat = self._flat(t, tuple(self.eval(i) for i in index))
            self.written[(t.entry, flat)] = self.eval(value)
            self.writes.append((t.entry, flat))

    def eval(self, text: str) -> Any:
        for pattern, replacement in _REWRITES:
            text = pattern.sub(replacement, text)
        tree = ast.fix_missing_locations(_CDivision().visit(ast.parse(text.strip(), mode="eval")))
        return eval(compile(tree, "<generated>", "eval"), self.env)  # our own generated code

    def tensor(self, name: str, value: str) -> None:
        """A descriptor declared or assigned: entry-backed ones are followed for reads."""
        self.tensor_names.add(name)
        self.tensors.pop(name, None)
        external = _EXTERNAL.search(value)
        view = _VIEW.search(value)
        if external:
            entry = self.program.tensors[int(external.group(1))].name
            shape = tuple(self.arrays[external.group(2)])
            self.tensors[name] = TensorRef(entry, shape, (0,) * len(shape))
        elif view and view.group(1) in self.tensors:
            base = self.tensors[view.group(1)]
            if view.group(2) == "reshape":
                shape = tuple(self.arrays[view.group(3)])
                self.tensors[name] = TensorRef(base.entry, shape, (0,) * len(shape))
            else:
                offsets = self.arrays[view.group(4)]
                self.tensors[name] = TensorRef(base.entry, base.raw, tuple(
                    a + b for a, b in zip(base.offsets, offsets)))
        elif value in self.tensors:
            self.tensors[name] = self.tensors[value]

    def run(self) -> list[Submitted]:
        try:
            self.nodes(self.model.prologue)
            self.nodes(self.model.body)
        except _Returned:
            pass
        return self.tasks

    def nodes(self, nodes: tuple[Node, ...]) -> None:
        for node in nodes:
            if isinstance(node, Code):
                self.code(node.lines)
            elif isinstance(node, SubmitView):
                self.submit(node)
            else:
                self.block(node)

    def code(self, lines: tuple[str, ...]) -> None:
        for line in lines:
            array, tensor = _ARRAY.match(line), _TENSOR.match(line)
            ids, fill, write = _TASK_ARRAY.match(line), _FILL.match(line), _WRITE.match(line)
            if write:
                self._write(write.group(1))
            elif ids:  # uninitialised on the stack: garbage until filled
                self.env[ids.group(1)] = [None] * int(ids.group(2))
            elif fill:
                self.env[fill.group(1)][: int(fill.group(2))] = [TaskId(None)] * int(
                    fill.group(2))
            elif _FATAL.match(line) or line == "return;":
                raise _Returned
            elif array:
                self.arrays[array.group(1)] = self._items(array.group(2))
            elif tensor:
                self.tensor(tensor.group(1), tensor.group(2))
            elif _PRED_DECL.match(line) or _PRED_FIELD.match(line):
                self.predicate(line)
            elif (element := _ELEMENT.match(line)) is not None:
                array = self.env[element.group(1)]
                array[self.eval(element.group(2))] = self.eval(element.group(3))
            elif (assign := _ASSIGN.match(line)) is not None \
                    and assign.group(1) in self.tensor_names:  # a tensor variable reassigned
                self.tensor(assign.group(1), assign.group(2))
            elif not line.startswith(("TensorCreateInfo", "//")) \
                    and ".set_initial_value(" not in line:  # no task-graph effect
                match = _DECL.match(line) or _ASSIGN.match(line)
                assert match, line
                self.env[match.group(1)] = self.eval(match.group(2))

    def predicate(self, line: str) -> None:
        decl, field = _PRED_DECL.match(line), _PRED_FIELD.match(line)
        if decl:
            self.predicates[decl.group(1)] = {}
        elif field and field.group(2) == "op":
            self.predicates[field.group(1)]["op"] = _PRED_OPS[field.group(3).split("::")[1]]
        elif field and field.group(2) == "target":
            self.predicates[field.group(1)]["target"] = self.eval(field.group(3))

    def _items(self, text: str, evaluate: bool = True) -> list[Any]:
        """The items of a brace or argument list, split at top-level commas."""
        items: list[Any] = []
        depth, start = 0, 0
        for i, c in enumerate(text + ","):
            depth += (c == "(") - (c == ")")
            if c == "," and depth == 0:
                item = text[start:i].strip()
                items.append(self.eval(item) if evaluate else item)
                start = i + 1
        return items

    def submit(self, s: SubmitView) -> None:
        self.code(s.setup)
        deps = []
        for d in s.deps:
            if d.condition is None or self.eval(d.condition):
                tasks = [self.eval(d.task_id)] if d.run is None else \
                    self.env[d.task_id][self.eval(d.run[2]):self.eval(d.run[3])]
                for task in tasks:
                    assert task.is_valid(), \
                        f"{s.origin}: a dep on an invalid id reaches the runtime"
                    deps.append(task.id)
        if s.kind == "alloc":
            kernel = "alloc"
        elif s.call.startswith("rt_submit_dummy_task("):
            kernel = "dummy"
        elif s.kernels_name is not None:  # a mix kernel: MixedKernels names every slot
            kernel = self.kernels[s.kernel_slots[0][1]]
        elif s.call.startswith("rt_submit_dummy_task("):
            kernel = "dummy"
        else:
            const = re.match(r"\w+\((\w+),", s.call)
            assert const is not None
            kernel = self.kernels[const.group(1)]
        early = "set_allow_early_resolve(true)" in s.launch
        pred = None
        for call in s.launch:
            named = re.fullmatch(r"set_predicate\((\w+)\)", call)
            if named:
                fields = self.predicates[named.group(1)]
                pred = (fields["op"], fields["target"])
        result = TaskId(len(self.tasks))
        self.tasks.append((str(kernel), tuple(deps), early, pred))
        element = re.fullmatch(r"(\w+)\[(.*)\]", s.target or "")
        if element is not None:  # an element of a task-id array
            self.env[element.group(1)][self.eval(element.group(2))] = result
        elif s.target is not None:
            self.env[s.target] = result

    def block(self, b: BlockView) -> None:
        if b.kind == "scope":
            self.nodes(b.body)
        elif b.kind == "if":
            self.nodes(b.body if self.eval(b.condition) else b.orelse)
        else:
            loop = b.loop
            assert loop is not None
            self.env[loop.var] = self.eval(loop.start)
            for name, value in loop.bounds:
                self.env[name] = self.eval(value)
            step = 1 if loop.step is None else self.eval(loop.step)
            while self.env[loop.var] < self.eval(loop.stop):
                self.nodes(b.body)
                self.env[loop.var] += step


def graph_tasks(graph: TaskGraph) -> list[Submitted]:
    return [(t.kernel, tuple(t.explicit_deps), t.early_resolve, t.predicate)
            for t in graph.tasks()]


def _small_cases(checked: Checked) -> list[str]:
    """The cases the graph tests run: those of at most a few thousand tasks."""
    return [c for c in case_names(checked.program) if not c.startswith("Case")
            or c in ("CaseSmall1", "CaseSmall2", "CaseVarSeq2", "CaseVarSeq4")]


CURRENT_CONSTRUCTS = sorted((ROOT / "tests" / "compile" / "current").glob("*.pto"))
PARAMS = [(p, d) for p in [*EXAMPLES, *sorted((ROOT / "tests" / "compile").glob("*.pto"))]
          for d in DIALECT_NAMES if expressible(p, d)] + [
              (p, "current") for p in CURRENT_CONSTRUCTS]


@pytest.mark.parametrize(("path", "dialect"), PARAMS,
                         ids=[f"{p.stem}-{d}" for p, d in PARAMS])
def test_emitted_deps_are_the_graph_edges(path: Path, dialect: str) -> None:
    checked = load(path, dialect)
    model = view_model(checked.program, dialect, path.name)
    for case in _small_cases(checked):
        graph = instantiate_case(checked, case)
        interpreter = Interpreter(model, checked, case)
        ran = interpreter.run()
        assert ran == graph_tasks(graph), f"{path.name} case {case}"
        assert interpreter.writes == [  # the same element writes of entry tensors
            (r.access.buffer.name, r.access.region.flat_range()[0]) for r in graph.host_reads
            if r.write and r.access.buffer.owner is None], f"{path.name} case {case}"


def test_manual_examples_have_explicit_edges() -> None:
    """The comparison above is not vacuous: the manual examples' graphs have explicit edges."""
    for name in ("manual", "unroll_manual"):
        checked = load(ROOT / "examples" / "paged_attention" / f"{name}.pto", "current")
        graph = instantiate_case(checked, None)
        assert graph.edges_by_origin().get("explicit", 0) > 0
