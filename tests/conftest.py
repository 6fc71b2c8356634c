"""Pytest options shared by the golden tests: `--update-golden` rewrites expected outputs."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite the golden files (e.g. tests/bad/*.err) from the current "
                          "output instead of comparing; review the diff before committing")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))
