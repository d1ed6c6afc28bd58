"""``plinth plugin new``: names, targets, what it writes, and the plugin at work."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_public_api import outside_the_api

from plinth.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def new(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["plugin", "new", *args])
    return result.exit_code, result.output


@pytest.fixture
def shelves(tmp_path: Path) -> Path:
    code, output = new("shelves", "--dir", str(tmp_path))
    assert code == 0, output
    return tmp_path / "plinth-shelves"


@pytest.mark.parametrize(
    "name",
    [
        "Shelves",
        "2shelves",
        "cold-store",
        "cold__store",
        "_x",
        "shelves_",
        "class",
        "plinth",
        "x" * 41,
        "éte",
        "",
    ],
)
def test_a_bad_name_is_a_usage_error_and_writes_nothing(tmp_path: Path, name: str) -> None:
    code, output = new(name, "--dir", str(tmp_path))
    assert code == 2
    assert "bad plugin name" in output or "Missing argument" in output
    assert list(tmp_path.iterdir()) == []


def test_an_existing_directory_is_not_overwritten(shelves: Path) -> None:
    readme = shelves / "README.md"
    readme.write_text("mine", encoding="utf-8")
    code, output = new("shelves", "--dir", str(shelves.parent))
    assert code == 2
    assert "already exists" in output
    assert readme.read_text(encoding="utf-8") == "mine"


def test_it_writes_a_whole_distribution(shelves: Path) -> None:
    written = {str(p.relative_to(shelves)) for p in shelves.rglob("*") if p.is_file()}
    package = "plinth_shelves"
    assert written == {
        "README.md",
        "setup.py",
        "pyproject.toml",
        "config/testing.ini",
        *(
            f"{package}/{m}.py"
            for m in (
                "__init__",
                "models",
                "resources",
                "schemas",
                "services",
                "views",
                "reports",
                "cli",
            )
        ),
        f"{package}/migrations/versions/0001_tables.py",
        *(
            f"{package}/tests/{m}.py"
            for m in (
                "__init__",
                "conftest",
                "test_views",
                "test_report",
                "test_cli",
                "test_models",
            )
        ),
    }
    setup = (shelves / "setup.py").read_text(encoding="utf-8")
    assert '"plinth.plugins": ["shelves = plinth_shelves"]' in setup
    assert '"migrations/versions/*.py"' in setup
    migration = (shelves / package / "migrations/versions/0001_tables.py").read_text()
    assert "branch_labels = ('shelves',)" in migration
    init = ast.parse((shelves / package / "__init__.py").read_text(encoding="utf-8"))
    functions = [node.name for node in init.body if isinstance(node, ast.FunctionDef)]
    assert functions == ["includeme"]


def test_two_plugins_get_two_revision_ids(tmp_path: Path) -> None:
    for name in ("one", "two"):
        assert new(name, "--dir", str(tmp_path))[0] == 0
    heads = {
        (tmp_path / f"plinth-{name}" / f"plinth_{name}" / "migrations/versions/0001_tables.py")
        .read_text()
        .split("revision = ")[1]
        .splitlines()[0]
        for name in ("one", "two")
    }
    assert len(heads) == 2


def test_the_generated_code_imports_only_the_public_api_and_passes_ruff(shelves: Path) -> None:
    files = list(shelves.rglob("*.py"))
    assert [problem for path in files for problem in outside_the_api(path, shelves)] == []
    for path in files:
        compile(path.read_text(encoding="utf-8"), str(path), "exec")
    lint = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "."],
        cwd=shelves,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


@pytest.mark.slow
def test_the_generated_plugin_installs_migrates_passes_its_tests_and_serves() -> None:
    """The CI step end to end: install, enable, migrate, its tests, HTTP."""
    result = subprocess.run(
        [sys.executable, str(ROOT / ".ci" / "plugin-new")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed in" in result.stdout
    assert result.stdout.rstrip().endswith("plugin-new: every step passed")
