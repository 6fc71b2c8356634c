"""Pytest options shared by the golden tests (`--update-golden` rewrites expected outputs),
and the hypothesis profiles of the property tests.

With `CI` set in the environment (any value but empty, `0` or `false`, as CI services and
`.ci/run` set it) the property tests run the `ci` profile: derandomized, so a CI run is
reproducible and a red build stays red until fixed. Locally they run the `dev` profile:
random, a new search every run. `--hypothesis-profile NAME` chooses explicitly.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# Explicit both ways: hypothesis's own default also derandomizes when it sees CI variables.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev", derandomize=False, print_blob=True)


def ci_profile_wanted(environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    return environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


settings.load_profile("ci" if ci_profile_wanted() else "dev")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite the golden files (e.g. tests/bad/*.err) from the current "
                          "output instead of comparing; review the diff before committing")


def pytest_report_header(config: pytest.Config) -> str:
    return f"hypothesis profile: {settings.get_current_profile_name()}"


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))
