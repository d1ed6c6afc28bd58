"""Shipped plugins import only the declared public API of the core."""

from __future__ import annotations

import ast
from pathlib import Path

import plinth.api

ROOT = Path(__file__).resolve().parents[1]
PLUGIN_SOURCES = [ROOT / "plugins", ROOT / "tests" / "example_plugin"]
# Tests may use the core's pytest plugin and its real-server helpers too.
PUBLIC_MODULES = {"plinth.api", "plinth.testing", "plinth.testservers"}


def plinth_imports(path: Path) -> list[tuple[int, str, str | None]]:
    """(line, module, name) of every import of the core in one file."""
    found: list[tuple[int, str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [
                (node.lineno, alias.name, None)
                for alias in node.names
                if alias.name.split(".")[0] == "plinth"
            ]
        elif (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and node.module
            and node.module.split(".")[0] == "plinth"
        ):
            found += [(node.lineno, node.module, alias.name) for alias in node.names]
    return found


def outside_the_api(path: Path, root: Path = ROOT) -> list[str]:
    """``file:line: what`` for each import of the core outside its public API."""
    wrong = []
    for line, module, name in plinth_imports(path):
        where = f"{path.relative_to(root)}:{line}"
        if module not in PUBLIC_MODULES or name == "*":
            wrong.append(f"{where}: {module} {name or ''}".strip())
        elif module == "plinth.api" and name not in plinth.api.__all__:
            wrong.append(f"{where}: plinth.api.{name} is not public")
    return wrong


def test_shipped_plugins_import_only_the_public_api() -> None:
    files = [path for source in PLUGIN_SOURCES for path in source.rglob("*.py")]
    assert len(files) > 50
    wrong = [problem for path in files for problem in outside_the_api(path)]
    assert wrong == []


def test_the_scan_finds_every_kind_of_import_outside_the_api(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import plinth.db\nfrom plinth import schema\n"
        "from plinth.api import api_error, schema\n"
        "from plinth.testing import migrate\nimport plinth_auth\n"
        "def later():\n    from plinth.security import Identity\n"
    )
    found = {(module, name) for _, module, name in plinth_imports(sample)}
    assert ("plinth_auth", None) not in found
    problems = [p.partition(": ")[2] for p in outside_the_api(sample, tmp_path)]
    assert problems == [
        "plinth.db",
        "plinth schema",
        "plinth.api.schema is not public",
        "plinth.security Identity",
    ]


def test_everything_listed_exists() -> None:
    missing = [name for name in plinth.api.__all__ if not hasattr(plinth.api, name)]
    assert missing == []
    assert len(set(plinth.api.__all__)) == len(plinth.api.__all__)
