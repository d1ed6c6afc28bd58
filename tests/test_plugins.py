"""The plugin loader: discovery, ordering, errors, and a third-party plugin."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pyramid.exceptions import ConfigurationConflictError

from plinth import main, make_app
from plinth.plugins import PluginError, resolve_plugins


def settings(plugins: str) -> dict[str, str]:
    return {"sqlalchemy.url": "sqlite://", "plinth.plugins": plugins}


def test_plugins_are_ordered_by_dependencies() -> None:
    names = [p.name for p in resolve_plugins(["example", "stock", "auth", "reporting"])]
    assert names.index("auth") < names.index("example")
    # stock includes reporting first when it is enabled, to contribute reports
    assert names.index("reporting") < names.index("stock")


def test_dotted_module_names_work() -> None:
    plugins = resolve_plugins(["auth", "plinth_example"])
    assert plugins[-1].module.__name__ == "plinth_example"


@pytest.mark.parametrize(
    ("plugins", "message"),
    [
        ("nosuch", "unknown plugin 'nosuch'"),
        ("auth nosuch.module", "plugin 'nosuch.module' is not installed"),
        ("example", "plugin 'example' requires plugin 'auth': add 'auth' to plinth.plugins"),
        ("plinth_example.needs_missing", "requires plugin 'warehouse_robots'"),
        ("plinth_example.cycle_a plinth_example.cycle_b", "cycle"),
        ("auth auth", "listed twice"),
    ],
)
def test_bad_plugin_lists_stop_start_up_with_one_line(plugins: str, message: str) -> None:
    with pytest.raises(SystemExit) as stopped:
        main({}, **settings(plugins))
    text = str(stopped.value.code)
    assert message in text
    assert "\n" not in text
    with pytest.raises(PluginError):
        make_app(settings(plugins))


def test_unknown_plugin_in_ini_exits_non_zero(tmp_path: Path) -> None:
    ini = tmp_path / "bad.ini"
    ini.write_text(
        "[app:main]\nuse = egg:plinth\nplinth.plugins = auth nosuch\n"
        f"sqlalchemy.url = sqlite:///{tmp_path / 'x.sqlite'}\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "plinth.cli", "-c", str(ini), "plugins"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [lines[-1]] and "unknown plugin 'nosuch'" in lines[-1]


def test_two_plugins_claiming_one_tree_child_conflict() -> None:
    with pytest.raises(ConfigurationConflictError) as conflict:
        make_app(settings("auth example plinth_example.clash"))
    assert "plinth.tree" in str(conflict.value) and "hello" in str(conflict.value)


def test_main_names_a_conflict_and_both_places_in_one_line() -> None:
    with pytest.raises(SystemExit) as raised:
        main({}, **settings("auth example plinth_example.clash"))
    line = str(raised.value)
    assert "\n" not in line
    assert line.startswith("plinth: conflicting configuration: ('plinth.tree', 'hello') (")
    assert "plinth_example/__init__.py:" in line and "plinth_example/clash.py:" in line


def test_third_party_plugin_works_without_core_changes(build_app: Any, sign_in: Any) -> None:
    app = build_app("auth example", **{"example.greeting": "hi there"})
    admin = sign_in(app, "root", "admins")
    assert {"name": "example"} in app.get("/").json["plugins"]
    home = app.get("/", headers=admin).json
    assert {"name": "example", "version": "1.2.3", "distribution": "plinth-example"} in home[
        "plugins"
    ]
    assert "example" in app.get("/ready", headers=admin).json["checks"]
    assert "/hello" in app.get("/openapi.json").json["paths"]
    app.get("/hello", status=401)


def test_disabling_a_plugin_removes_its_routes_and_paths(build_app: Any, sign_in: Any) -> None:
    app = build_app("auth stock")
    paths = app.get("/openapi.json").json["paths"]
    assert "/stock/{sku}" in paths
    assert not any(p.startswith("/reports") for p in paths)
    assert "disabled_plugins" not in app.get("/").json
    home = app.get("/", headers=sign_in(app, "root", "admins")).json
    assert [p["name"] for p in home["plugins"]] == ["auth", "stock"]
    assert "reporting" in [p["name"] for p in home["disabled_plugins"]]


def test_no_plugins_everyone_is_everyone(build_app: Any) -> None:
    app = build_app("")
    assert app.get("/").json["principals"] == ["system.Everyone"]
    assert app.get("/health").json == {"status": "ok"}
