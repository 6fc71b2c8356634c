"""Imported once by the checker's fork server: loads the pipeline and builds the parser there,
so that every child forked from it starts warm. Importing this module has that effect only."""

from __future__ import annotations

from pto_dsl.lsp import analysis

for _ in analysis.analyze(analysis.Request("warm:", 0, "warm.pto", "kernel K aiv 0 (in x)\n"
                                           "entry e(in a: f32[N]) { K(a) }\ncase c { N = 1 }\n")):
    pass
