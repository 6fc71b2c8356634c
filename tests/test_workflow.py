"""The development workflow: reproducible property tests in CI and the CI script."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import ci_profile_wanted
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
CI_RUN = (ROOT / ".ci" / "run").read_text("utf-8")


@pytest.mark.parametrize("value, ci", [("true", True), ("1", True), ("yes", True),
                                       ("", False), ("0", False), ("false", False)])
def test_ci_in_the_environment_selects_the_derandomized_profile(value: str, ci: bool) -> None:
    assert ci_profile_wanted({"CI": value}) is ci
    assert ci_profile_wanted({}) is False


def test_the_profiles() -> None:
    assert settings.get_profile("ci").derandomize is True
    assert settings.get_profile("dev").derandomize is False
    wanted = "ci" if ci_profile_wanted() else "dev"
    assert settings.get_current_profile_name() == wanted


def test_ci_script_runs_the_tests_as_ci_does() -> None:
    assert re.search(r"^export CI=\$\{CI:-true\}$", CI_RUN, re.M), "CI must be set"
    assert re.search(r"-m pytest --durations=15$", CI_RUN, re.M)


def test_ci_script_installs_system_packages_lean() -> None:
    update = CI_RUN.index("apt-get update")
    install = CI_RUN.index("apt-get install")
    assert update < install
    assert "--no-install-recommends" in CI_RUN[install:CI_RUN.index("\n", install) + 80]
