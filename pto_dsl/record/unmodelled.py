"""What a recorded run did that pto-dsl cannot know without running kernels: the values of
orchestration reads of data a task computes (the recording runs no kernel, so it saw the
case's contents or zeros, and what the orchestration did next followed those values).

The reads themselves are in the graph (the orchestrator waits for the data's producers);
one warning (W809) at the first such read, with the counts, says that their values were
not the tasks' results, so that a finding is never silently missing. Early-resolve hints
and dispatch predicates are on the recorded tasks as a .pto program has them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pto_dsl.diagnostics import Diagnostic, Note, Stage, warning
from pto_dsl.source import Span

OPS = {1: "==", 2: "!=", 3: ">", 4: "<", 5: ">=", 6: "<="}  # the runtime's PredicateOp


@dataclass
class Unmodelled:
    computed_reads: int = 0  # orchestration reads of data a task computes
    first: Span | None = None  # the first such read's call site
    sites: set[Span] = field(default_factory=set)

    def computed_read(self, span: Span) -> None:
        self.computed_reads += 1
        if self.first is None:
            self.first = span
        self.sites.add(span)

    def warnings(self) -> list[Diagnostic]:
        if self.first is None:
            return []
        n, sites = self.computed_reads, len(self.sites)
        what = ("orchestration read of data a task computes" if n == 1 else
                "orchestration reads of data a task computes")
        return [warning(
            "W809", f"value not known without the kernels: {n} {what} (get_tensor_data) at "
            f"{sites} call site{'s' if sites != 1 else ''}; the recording run saw the case's "
            "contents or zeros there, not the task's result, and what the orchestration did "
            "next followed those values", self.first,
            notes=(Note("the read is in the graph (the orchestrator waits for the data's "
                        "producers); its value is not known without running the kernels"),),
            help=("pto-run makes the same read on the simulator, whose kernels (their impl) "
                  "compute the data, but follows the recorded run's calls",),
            stage=Stage.INSTANTIATION)]
