"""pto-lsp: the language server (stdio), on pygls.

Each change schedules a check of the document (debounced); the check runs in a child process
(`worker.Checker`) that a newer version, the time limit or the memory limit stops. The front
end's diagnostics are published as soon as they exist, the graph checks' after them.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from dataclasses import dataclass
from typing import Any

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from pto_dsl import __version__
from pto_dsl.lsp import convert, features
from pto_dsl.lsp.analysis import Graph, Request, Result
from pto_dsl.lsp.documents import Document
from pto_dsl.lsp.worker import Checker, Outcome
from pto_dsl.source import SourceFile

CHECKED = "pto/checked"  # sent after the last diagnostics of a version: its checks ended


@dataclass
class Settings:
    case: str | None = None  # pto.case: the case to check (None: the default case)
    time_limit: float = 10.0  # pto.timeLimit, seconds
    memory_mib: int = 4096  # pto.memoryLimitMiB
    debounce: float = 0.01  # pto.debounce, seconds

    def update(self, values: Any) -> None:
        if not isinstance(values, dict):
            return
        values = values.get("pto", values)
        if not isinstance(values, dict):
            return
        case = values.get("case", self.case)
        self.case = case if isinstance(case, str) and case else None
        self.time_limit = _number(values.get("timeLimit"), self.time_limit)
        self.memory_mib = int(_number(values.get("memoryLimitMiB"), self.memory_mib))
        self.debounce = _number(values.get("debounce"), self.debounce)


def _number(value: object, default: float) -> float:
    return float(value) if isinstance(value, (int, float)) and value >= 0 else default


@dataclass
class _Job:
    task: asyncio.Task[None]
    cancel: threading.Event


class PtoServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("pto-lsp", __version__)
        self.settings = Settings()
        self.checker = Checker()
        self.documents: dict[str, Document] = {}
        self.jobs: dict[str, _Job] = {}

    def open(self, uri: str, version: int, text: str) -> None:
        old = self.documents.get(uri)
        doc = Document(uri, version, SourceFile(_path(uri), text))
        if old is not None:
            doc.good = old.good
        self.documents[uri] = doc
        self.schedule(doc)

    def schedule(self, doc: Document) -> None:
        job = self.jobs.pop(doc.uri, None)
        if job is not None:
            job.cancel.set()
            job.task.cancel()
        cancel = threading.Event()
        self.jobs[doc.uri] = _Job(asyncio.ensure_future(self._check(doc, cancel)), cancel)

    async def _check(self, doc: Document, cancel: threading.Event) -> None:
        await asyncio.sleep(self.settings.debounce)
        s = self.settings
        req = Request(doc.uri, doc.version, doc.source.name, doc.source.text, s.case)
        loop = asyncio.get_running_loop()

        def on_result(result: Result) -> None:
            loop.call_soon_threadsafe(self._accept, doc, result)
        outcome = await loop.run_in_executor(None, self.checker.run, req, on_result, cancel)
        if outcome is not Outcome.CANCELLED and self.documents.get(doc.uri) is doc:
            doc.stop(outcome, s.time_limit, s.memory_mib)
            if doc.graph is None:  # otherwise the graph's diagnostics were the last
                self._publish(doc)
                self._checked(doc, outcome)

    def _accept(self, doc: Document, result: Result) -> None:
        if self.documents.get(doc.uri) is doc and doc.accept(result):
            self._publish(doc)
            if isinstance(result, Graph):
                self._checked(doc, Outcome.DONE)

    def _checked(self, doc: Document, outcome: Outcome) -> None:
        """The diagnostics of this version are complete (quick fixes may still come)."""
        self.protocol.notify(CHECKED, {
            "uri": doc.uri, "version": doc.version, "outcome": outcome.value,
            "case": doc.graph.case if doc.graph else None})

    def _publish(self, doc: Document) -> None:
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
            doc.uri, doc.publish(), doc.version))

    def close(self, uri: str) -> None:
        job = self.jobs.pop(uri, None)
        if job is not None:
            job.cancel.set()
        self.documents.pop(uri, None)
        self.checker.close(uri)
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri, []))


def _path(uri: str) -> str:
    return to_fs_path(uri) or uri


server = PtoServer()


@server.feature(lsp.INITIALIZE)
def initialize(ls: PtoServer, params: lsp.InitializeParams) -> None:
    ls.settings.update(params.initialization_options)
    ls.checker.configure(ls.settings.time_limit, ls.settings.memory_mib)


@server.feature(lsp.INITIALIZED)
async def initialized(ls: PtoServer, params: lsp.InitializedParams) -> None:
    """Start the checker's fork server now rather than on the first keystroke."""
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, ls.checker.warm)


@server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
def did_change_configuration(ls: PtoServer, params: lsp.DidChangeConfigurationParams) -> None:
    ls.settings.update(params.settings)
    ls.checker.configure(ls.settings.time_limit, ls.settings.memory_mib)
    for doc in list(ls.documents.values()):
        ls.open(doc.uri, doc.version, doc.source.text)


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: PtoServer, params: lsp.DidOpenTextDocumentParams) -> None:
    d = params.text_document
    ls.open(d.uri, d.version, d.text)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: PtoServer, params: lsp.DidChangeTextDocumentParams) -> None:
    doc = ls.workspace.get_text_document(params.text_document.uri)
    ls.open(doc.uri, params.text_document.version, doc.source)


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: PtoServer, params: lsp.DidCloseTextDocumentParams) -> None:
    ls.close(params.text_document.uri)


features.register(server)


@server.command(features.SHOW_GRAPH)
async def show_graph(ls: PtoServer, uri: str) -> dict[str, str]:
    return await features.show_graph(ls, uri)


def main() -> int:
    """Serve on standard input/output. Anything else printing to standard output (a case
    generator, a library) would corrupt the protocol, so fd 1 becomes standard error."""
    if len(sys.argv) > 1 and sys.argv[1] in ("--version", "-V"):
        print(f"pto-lsp {__version__}")
        return 0
    channel = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    server.start_io(sys.stdin.buffer, channel)
    return 0


__all__ = ["PtoServer", "convert", "main", "server"]
