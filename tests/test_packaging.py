"""Each distribution's wheel carries everything its package needs at run time.

An editable install reads migrations, templates and static files from the
checkout; a wheel carries only what setup.py lists.  Each test builds a wheel
from a copy of the sources (the checkout stays clean) and compares its files
with the package folder's.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LEFT_OUT = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "tests")

# distribution folder (relative to the checkout), package folder inside it
DISTRIBUTIONS = {
    "plinth": (".", "platform/plinth"),
    "plinth-auth": ("plugins/auth", "plinth_auth"),
    "plinth-stock": ("plugins/stock", "plinth_stock"),
    "plinth-reporting": ("plugins/reporting", "plinth_reporting"),
    "plinth-admin": ("plugins/admin", "plinth_admin"),
}


def package_files(package: Path) -> set[str]:
    """The files a wheel must hold, as paths below the package's parent."""
    return {
        str(path.relative_to(package.parent))
        for path in package.rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and "tests" not in path.relative_to(package).parts
        and path.suffix != ".pyc"
    }


def build_wheel(source: Path, out: Path) -> tuple[Path, str]:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--verbose",
            "--wheel-dir",
            str(out),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    [wheel] = out.glob("*.whl")
    return wheel, result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
def test_a_wheel_carries_migrations_templates_and_static_files(name: str, tmp_path: Path) -> None:
    folder, package = DISTRIBUTIONS[name]
    source = tmp_path / "src"
    shutil.copytree(ROOT / folder / package, source / package, ignore=LEFT_OUT)
    shutil.copy(ROOT / folder / "setup.py", source / "setup.py")
    if name == "plinth":
        shutil.copy(ROOT / "README.md", source / "README.md")

    wheel, output = build_wheel(source, tmp_path / "dist")

    assert "absent from the `packages` configuration" not in output
    with zipfile.ZipFile(wheel) as archive:
        carried = {n for n in archive.namelist() if ".dist-info/" not in n}
    expected = package_files(source / package)
    assert expected - carried == set()
    assert not any("/tests/" in n or "__pycache__" in n for n in carried)
    # the files that were missing from wheels before, by name
    must = {
        "plinth": [
            "plinth/migrations/versions/0001_core_tables.py",
            "plinth/migrations/script.py.mako",
            "plinth/static/docs.html",
        ],
        "plinth-stock": ["plinth_stock/migrations/versions/0001_stock_tables.py"],
        "plinth-auth": ["plinth_auth/migrations/versions/0001_auth_tables.py"],
    }
    assert set(must.get(name, [])) <= carried
