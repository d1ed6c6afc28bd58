"""``plinth check --deploy INI``: the core's checks and the check directive."""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner
from pyramid.exceptions import ConfigurationConflictError

from plinth import make_configurator
from plinth.cli import cli
from plinth.deploy import DeployContext, check_debug, read_ini, run_checks, server_sections

POSTGRES = "postgresql+psycopg://plinth@db.internal/plinth"
SAFE_SERVER = "use = egg:waitress#main\nlisten = 127.0.0.1:{port}\ntrusted_proxy = 127.0.0.1\n"


def write_ini(
    directory: Path, app: str = "", servers: dict[str, str] | None = None, url: str = POSTGRES
) -> Path:
    if servers is None:
        servers = {"main": SAFE_SERVER.format(port=6543)}
    text = f"[app:main]\nuse = egg:plinth\nplinth.plugins =\nsqlalchemy.url = {url}\n{app}\n"
    for name, body in servers.items():
        text += f"[server:{name}]\n{body}\n"
    path = directory / "production.ini"
    path.write_text(text)
    return path


def check(path: Path, code: int, **env: str) -> list[str]:
    result = CliRunner().invoke(cli, ["check", "--deploy", str(path)], env=env)
    assert result.exit_code == code, result.output
    return [line for line in result.output.splitlines() if line.startswith("unsafe ")]


def test_a_safe_configuration_passes(tmp_path: Path) -> None:
    path = write_ini(
        tmp_path,
        servers={"main": SAFE_SERVER.format(port=6543), "second": SAFE_SERVER.format(port=6544)},
    )
    result = CliRunner().invoke(cli, ["check", "--deploy", str(path)])
    assert result.exit_code == 0, result.output
    assert "no problem found" in result.output


def test_sqlite_is_unsafe_but_the_environment_can_fix_it(tmp_path: Path) -> None:
    path = write_ini(tmp_path, url="sqlite:///%(here)s/plinth.sqlite")
    findings = check(path, 1)
    assert len(findings) == 1 and findings[0].startswith(
        "unsafe [database] sqlalchemy.url is SQLite"
    ), findings
    check(path, 0, PLINTH_DATABASE_URL=POSTGRES)


def test_untrusted_or_wildcard_proxies_and_tracebacks_are_unsafe(tmp_path: Path) -> None:
    path = write_ini(
        tmp_path,
        servers={
            "main": "use = egg:waitress#main\nlisten = 127.0.0.1:6543\n",
            "second": "use = egg:waitress#main\ntrusted_proxy = *\nexpose_tracebacks = true\n",
        },
    )
    findings = check(path, 1)
    assert findings == [
        (
            "unsafe [proxies] [server:main] has no trusted_proxy: behind nginx every client has "
            "the proxy's address, so the per-client login limit locks everyone out at once"
        ),
        (
            "unsafe [proxies] [server:second] trusts every proxy (trusted_proxy = *): any client "
            "can forge its address with X-Forwarded-For"
        ),
        ("unsafe [proxies] [server:second] has expose_tracebacks on: errors show code to clients"),
    ]


def test_no_server_section_is_unsafe(tmp_path: Path) -> None:
    assert check(write_ini(tmp_path, servers={}), 1) == [
        "unsafe [proxies] no [server:...] section: nothing says how the application is served"
    ]


def test_reload_and_debug_settings_are_unsafe(tmp_path: Path) -> None:
    path = write_ini(
        tmp_path,
        app="pyramid.reload_templates = true\n"
        "pyramid.debug_authorization = true\n"
        "pyramid.debug_notfound = false\n",
    )
    assert check(path, 1) == [
        "unsafe [debug] pyramid.reload_templates is on: turn it off in production",
        "unsafe [debug] pyramid.debug_authorization is on: turn it off in production",
    ]
    # the environment turns them on as well as off
    check(write_ini(tmp_path), 1, PYRAMID_RELOAD_TEMPLATES="true")


def test_the_debug_toolbar_is_unsafe(tmp_path: Path) -> None:
    # Checked on settings alone: the toolbar is not installed here, so no ini can include it.
    ini = read_ini(write_ini(tmp_path))
    context = DeployContext(
        tmp_path / "production.ini",
        SimpleNamespace(settings={"pyramid.includes": "pyramid_tm\npyramid_debugtoolbar"}),
        ini,
        server_sections(ini),
    )
    assert list(check_debug(context)) == [
        "pyramid_debugtoolbar is included: it lets visitors run code on the server"
    ]


def git(directory: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=directory, check=True, capture_output=True, timeout=30)


def test_a_secret_in_an_ini_under_version_control_is_unsafe(tmp_path: Path) -> None:
    path = write_ini(
        tmp_path,
        url="postgresql+psycopg://plinth:s3cret@db/plinth",
        app="auth.ratelimit_storage = redis://:hunter22@cache:6379/0\n",
    )
    # not under version control: the file is the operator's to protect
    check(path, 0)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", path.name)
    assert check(path, 1) == [
        (
            "unsafe [secrets] production.ini is under version control and holds a secret "
            "(auth.ratelimit_storage, sqlalchemy.url): keep secrets in the environment "
            "(PLINTH_DATABASE_URL, PLINTH_A_B_C)"
        )
    ]
    # the same file without passwords is fine under version control
    write_ini(tmp_path)
    check(path, 0)


def test_plugins_add_checks_and_two_of_one_name_conflict(tmp_path: Path) -> None:
    path = write_ini(tmp_path)
    settings = {"sqlalchemy.url": POSTGRES, "plinth.plugins": ""}
    config = make_configurator(dict(settings))
    config.add_deploy_check("shelves.height", lambda context: ["shelves are too high"])
    config.add_deploy_check("shelves.broken", lambda context: 1 / 0)
    config.commit()
    ini = read_ini(path)
    findings = run_checks(DeployContext(path, config.registry, ini, server_sections(ini)))
    assert [(f.check, f.problem) for f in findings] == [
        ("shelves.height", "shelves are too high"),
        ("shelves.broken", "the check could not run: ZeroDivisionError: division by zero"),
    ]

    def plugin(config: Any) -> None:
        config.add_deploy_check("database", lambda context: [])

    config = make_configurator(dict(settings))
    config.include(plugin)  # claims the name of the core's own check
    with pytest.raises(ConfigurationConflictError):
        config.commit()


def test_check_needs_an_existing_ini(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["check", "--deploy", str(tmp_path / "missing.ini")])
    assert result.exit_code == 2 and "does not exist" in result.output


@pytest.fixture(autouse=True)
def _no_outer_overrides(monkeypatch: Any) -> None:
    # The checks read the environment like production does: start from none of it.
    for name in ("PLINTH_DATABASE_URL", "PLINTH_SQLALCHEMY_URL"):
        monkeypatch.delenv(name, raising=False)
