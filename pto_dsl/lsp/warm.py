"""Imported once by the checker's fork server: loads the pipeline and builds the parser there,
so that every child forked from it starts warm. Importing this module has that effect only."""

from __future__ import annotations

from pto_dsl.lsp.analysis import analyze
from pto_dsl.lsp.worker import WARM

for _ in analyze(WARM):
    pass
