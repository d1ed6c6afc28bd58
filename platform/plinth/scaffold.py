"""Write a new plugin distribution from the templates in ``plugin_template``.

The templates are ``string.Template`` files (``$name``, ``${package}``...):
they only need names substituted, with no loops or conditions, so the
standard library does the job without adding a dependency to the core, and
``substitute`` fails loudly on a placeholder nobody filled.  A literal ``$``
is written ``$$``.  The template folder ``package`` becomes the plugin's
package, and ``.tmpl`` is dropped from every file name.
"""

from __future__ import annotations

import keyword
import re
import uuid
from datetime import UTC, datetime
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template

# A plugin name is a Python identifier in lower case, so that it serves as the
# package suffix, the URL segment, the branch label and the prefix of its
# permissions and settings alike.
NAME = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
MAX_NAME = 40
SUFFIX = ".tmpl"


class ScaffoldError(Exception):
    """A name or a target the generator refuses; the message says why."""


def check_name(name: str) -> None:
    if not NAME.fullmatch(name) or len(name) > MAX_NAME:
        raise ScaffoldError(
            f"bad plugin name {name!r}: lower-case letters and digits, words joined by "
            f"single underscores, starting with a letter, at most {MAX_NAME} characters "
            f"(e.g. shelves or cold_store)"
        )
    if keyword.iskeyword(name) or name == "plinth":
        raise ScaffoldError(f"bad plugin name {name!r}: it is a reserved word")


def substitutions(name: str) -> dict[str, str]:
    return {
        "name": name,
        "package": f"plinth_{name}",
        "distribution": f"plinth-{name}",
        "classname": "".join(word.capitalize() for word in name.split("_")),
        "title": name.replace("_", " ").capitalize(),
        "upper": name.upper(),
        # Report names take '-' and no '_'.
        "report": f"{name.replace('_', '-')}-entries",
        # A fresh revision id, as ``alembic revision`` would choose.
        "revision": uuid.uuid4().hex[:12],
        "created": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
    }


def _walk(folder: Traversable, relative: Path) -> list[tuple[Path, Traversable]]:
    found = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            if entry.name != "__pycache__":
                found.extend(_walk(entry, relative / entry.name))
        elif entry.name.endswith(SUFFIX):
            found.append((relative / entry.name[: -len(SUFFIX)], entry))
    return found


def generate(name: str, directory: Path) -> Path:
    """Write ``plinth-NAME`` in ``directory``; returns its path.

    Refuses a bad name and an existing target: nothing is overwritten.
    """
    check_name(name)
    values = substitutions(name)
    target = directory / values["distribution"]
    if target.exists():
        raise ScaffoldError(f"{target} already exists: choose another --dir or remove it")
    rendered = []
    for relative, source in _walk(files("plinth") / "plugin_template", Path()):
        parts = [values["package"] if part == "package" else part for part in relative.parts]
        rendered.append(
            (Path(*parts), Template(source.read_text(encoding="utf-8")).substitute(values))
        )
    # Render everything before writing anything, so that a broken template
    # leaves no half-written plugin behind.
    for relative, text in rendered:
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return target
