"""Mistakes in a plugin's declarations stop start-up with one line naming them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

PLUGIN = """
def shelves(request):
    return {{}}


def includeme(config):
    config.declare_permission("shelves.view", "see shelves")
    config.declare_permission("shelves.manage", "change shelves")
    config.add_route("shelves", "/shelves")
    config.add_view(shelves, route_name="shelves", renderer="json", {view_options})
"""


def start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, view_options: str) -> Any:
    """main() with a plugin whose one view takes ``view_options``."""
    from plinth import main

    name = f"plinth_startup_{abs(hash(view_options))}"
    (tmp_path / f"{name}.py").write_text(PLUGIN.format(view_options=view_options))
    monkeypatch.syspath_prepend(str(tmp_path))
    return main(
        {}, **{"sqlalchemy.url": f"sqlite:///{tmp_path / 'x.sqlite'}", "plinth.plugins": name}
    )


def exit_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, view_options: str) -> str:
    with pytest.raises(SystemExit) as raised:
        start(tmp_path, monkeypatch, view_options)
    line = str(raised.value)
    assert "\n" not in line
    return line


def test_a_declared_permission_starts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = start(
        tmp_path, monkeypatch, 'permission="shelves.manage", body_schema={"type": "object"}'
    )
    assert app.registry is not None


def test_an_undeclared_permission_stops_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = exit_line(tmp_path, monkeypatch, 'permission="shelves.mange"')
    assert line.startswith("plinth: view plinth_startup_")
    assert line.endswith(
        ".shelves has permission 'shelves.mange', which no enabled plugin "
        "declares (did you mean 'shelves.manage'?)"
    )


def test_an_invalid_body_schema_stops_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = exit_line(
        tmp_path,
        monkeypatch,
        (
            'permission="shelves.manage", body_schema='
            '{"type": "object", "properties": {"height": {"type": "integr"}}}'
        ),
    )
    assert line.startswith("plinth: view plinth_startup_")
    assert (
        ".shelves has a body_schema that is not valid JSON Schema (at properties/height/type): "
    ) in line
    assert "'integr'" in line
