"""The development workflow: reproducible property tests in CI and the CI script."""

from __future__ import annotations

import importlib
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ci_profile_wanted
from hypothesis import settings

from pto_dsl.__main__ import main as module_main
from pto_dsl.cli import check_main

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


def test_every_property_test_follows_the_profile() -> None:
    """Settings written on a test (max_examples, deadline) keep the profile's derandomize."""
    found = 0
    for path in sorted(Path(__file__).parent.glob("test_*.py")):
        module = importlib.import_module(path.stem)
        for value in vars(module).values():
            chosen = getattr(value, "_hypothesis_internal_use_settings", None)
            if chosen is not None and hasattr(value, "hypothesis"):
                assert chosen.derandomize is ci_profile_wanted(), f"{path.name}: {value}"
                found += 1
    assert found >= 8


def test_ci_script_runs_the_tests_as_ci_does() -> None:
    assert re.search(r"^export CI=\$\{CI:-true\}$", CI_RUN, re.M), "CI must be set"
    assert re.search(r"-m pytest --durations=15$", CI_RUN, re.M)


def test_ci_script_installs_system_packages_lean() -> None:
    update = CI_RUN.index("apt-get update")
    install = CI_RUN.index("apt-get install")
    assert update < install
    assert "--no-install-recommends" in CI_RUN[install:CI_RUN.index("\n", install) + 80]


# ---- python -m pto_dsl ---------------------------------------------------------------------

def _module(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pto_dsl", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)


def test_python_m_runs_every_tool(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    done = _module("check", "examples/teaching/chain.pto", "examples/paged_attention/auto.pto")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(": entry '") == 2
    chain = str(ROOT / "examples" / "teaching" / "chain.pto")
    out = tmp_path / "chain.cpp"
    assert module_main(["compile", chain, "-o", str(out)]) == 0
    assert out.read_text("utf-8").startswith("//")
    assert module_main(["run", chain, "--no-numerics"]) == 0
    assert "case Small" in capsys.readouterr().out
    assert module_main(["graph", chain, "-o", str(tmp_path / "g.dot")]) == 0
    assert (tmp_path / "g.dot").exists()


def test_python_m_usage(capsys: pytest.CaptureFixture[str],
                        monkeypatch: pytest.MonkeyPatch) -> None:
    assert module_main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(f"  {c} " in out for c in ("check", "compile", "graph", "run"))
    assert module_main([]) == 2
    assert module_main(["lint"]) == 2
    assert "unknown command 'lint'" in capsys.readouterr().err
    assert module_main(["check", "--version"]) == 0
    assert capsys.readouterr().out == "pto-check 0.1.0\n"
    assert module_main(["check", "--bogus"]) == 2
    assert capsys.readouterr().err.startswith("usage: python -m pto_dsl check [-h]")
    assert module_main(["graph", "--help"]) == 0
    assert capsys.readouterr().out.startswith("usage: python -m pto_dsl graph [-h]")
    with pytest.raises(SystemExit):  # the console script's own name again
        check_main(["--bogus"])
    assert capsys.readouterr().err.startswith("usage: pto-check [-h]")
    chain = (ROOT / "examples" / "teaching" / "chain.pto").read_bytes()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(chain)))
    assert module_main(["check", "-"]) == 0
    assert capsys.readouterr().out.startswith("<stdin>: entry 'chain'")


# ---- the pre-commit hook -------------------------------------------------------------------

HOOK_KEYS = {"id", "name", "entry", "language", "files", "exclude", "types", "types_or",
             "exclude_types", "args", "description", "pass_filenames", "require_serial",
             "stages", "minimum_pre_commit_version", "always_run", "verbose", "alias"}


def _hooks() -> list[dict[str, str]]:
    """The hooks of .pre-commit-hooks.yaml: a YAML list of flat mappings (the only YAML
    this file needs, so read without a YAML library)."""
    hooks: list[dict[str, str]] = []
    for line in (ROOT / ".pre-commit-hooks.yaml").read_text("utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = re.fullmatch(r"(- |  )(\w+): (.+)", line)
        assert match, f"not a flat hook mapping line: {line!r}"
        if match.group(1) == "- ":
            hooks.append({})
        hooks[-1][match.group(2)] = match.group(3)
    return hooks


def test_pre_commit_hook_file_is_valid() -> None:
    [hook] = _hooks()
    assert {"id", "name", "entry", "language"} <= set(hook) <= HOOK_KEYS
    assert (hook["id"], hook["language"]) == ("pto-check", "python")
    scripts = (ROOT / "pyproject.toml").read_text("utf-8")
    assert f'\n{hook["entry"]} = "pto_dsl.' in scripts, "the entry is a console script"
    files = re.compile(hook["files"])
    assert files.search("examples/teaching/chain.pto") and not files.search("golden.py")
    assert hook.get("types") == "[file]"


def test_pre_commit_hook_runs_on_staged_files(tmp_path: Path) -> None:
    """What pre-commit does: the entry with the staged files that `files` matches."""
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    [hook] = _hooks()
    entry = shutil.which(hook["entry"], path=os.pathsep.join(
        [str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    if entry is None:
        pytest.skip("the pto-check console script is not installed")
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(ROOT / "examples" / "teaching" / "chain.pto", repo / "chain.pto")
    (repo / "notes.txt").write_text("not a program\n", encoding="utf-8")
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}

    def staged_run() -> subprocess.CompletedProcess[str]:
        subprocess.run([git, "add", "-A"], cwd=repo, env=env, check=True)
        names = subprocess.run([git, "diff", "--cached", "--name-only"], cwd=repo, env=env,
                               check=True, capture_output=True, text=True).stdout.split()
        files = [n for n in names if re.search(hook["files"], n)]
        return subprocess.run([entry, *files], cwd=repo, capture_output=True, text=True,
                              timeout=120, check=False)

    subprocess.run([git, "init", "-q"], cwd=repo, env=env, check=True)
    done = staged_run()
    assert done.returncode == 0 and done.stdout.startswith("chain.pto: entry 'chain'")
    (repo / "broken.pto").write_text("entry e() { K() }\n", encoding="utf-8")
    done = staged_run()
    assert done.returncode == 1 and "broken.pto:1:13: error[E" in done.stderr


def test_readme_says_which_tests_skip_and_how_long_the_suite_takes() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme[readme.index("### Tests that skip"):]
    for needed in ("Graphviz", "Chromium", "g++", "PTO_SIMPLER_ROOT", "PTO_DSL_SKIP_PACKAGING",
                   "npm"):
        assert needed in section, f"README does not say what skips without {needed}"
    assert re.search(r"The whole suite takes [\w .]+ minutes", readme)
    assert "CI=true" in readme and "derandomized" in readme
