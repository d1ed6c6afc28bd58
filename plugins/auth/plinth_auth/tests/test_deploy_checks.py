"""The auth plugin's checks in ``plinth check --deploy INI``, on the test database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from plinth.testing import cli
from plinth_auth import deploy
from plinth_auth.models import User
from plinth_auth.passwords import hash_password

SERVER = "use = egg:waitress#main\nlisten = 127.0.0.1:{port}\ntrusted_proxy = 127.0.0.1\n"
REDIS = "redis://127.0.0.1:6379/10"


@pytest.fixture
def write_ini(tmp_path: Path, plinth_settings: dict[str, Any], testapp: Any) -> Any:
    """An ini on the test database (``testapp`` empties the tables afterwards)."""

    def write(app: str = "", servers: int = 1, storage: str = REDIS) -> Path:
        text = (
            "[app:main]\nuse = egg:plinth\nplinth.plugins = auth\n"
            f"sqlalchemy.url = {plinth_settings['sqlalchemy.url']}\n"
            f"auth.ratelimit_storage = {storage}\n{app}\n"
        )
        for n in range(servers):
            text += f"[server:s{n}]\n{SERVER.format(port=6543 + n)}\n"
        path = tmp_path / "production.ini"
        path.write_text(text)
        return path

    return write


def auth_findings(path: Path) -> tuple[int, list[str]]:
    result = CliRunner().invoke(cli, ["check", "--deploy", str(path)])
    assert result.exit_code in (0, 1), result.output
    lines = [line for line in result.output.splitlines() if line.startswith("unsafe [auth.")]
    return result.exit_code, lines


def weaken(engine: Any, name: str, password: str) -> None:
    """Store a listed password, as an older policy or a direct edit might have."""
    with engine.begin() as connection:
        connection.execute(
            update(User).where(User.name == name).values(password_hash=hash_password(password))
        )


def test_a_clean_configuration_passes(
    write_ini: Any, make_user: Any, plinth_settings: dict[str, Any]
) -> None:
    make_user("admin", "admins")  # a strong password: the whole list is tried against it
    make_user("clerk", "clerks")
    result = CliRunner().invoke(cli, ["check", "--deploy", str(write_ini(servers=2))])
    if plinth_settings["sqlalchemy.url"].startswith("sqlite"):
        # the only complaint left is the test database itself
        assert result.exit_code == 1
        assert [line for line in result.output.splitlines() if line.startswith("unsafe")] == [
            line for line in result.output.splitlines() if "[database]" in line
        ]
    else:
        assert result.exit_code == 0, result.output
        assert "no problem found" in result.output


def test_several_processes_without_shared_limits_are_unsafe(write_ini: Any) -> None:
    assert auth_findings(write_ini(servers=2, storage="memory://")) == (
        1,
        [
            (
                "unsafe [auth.ratelimit_storage] 2 server sections but login limits are kept "
                "in each process's memory: set auth.ratelimit_storage to redis://... "
                "(PLINTH_AUTH_RATELIMIT_STORAGE) so that every process counts the same failures"
            )
        ],
    )
    # one process may keep them in memory
    assert auth_findings(write_ini(servers=1, storage="memory://"))[1] == []


def test_a_superuser_with_a_common_password_is_unsafe(
    write_ini: Any, make_user: Any, plinth_engine: Any
) -> None:
    make_user("root", "admins")
    make_user("clerk", "clerks")
    make_user("gone", "admins", active=False)
    for name in ("root", "clerk", "gone"):
        weaken(plinth_engine, name, "00000000")
    # a clerk and a disabled admin cannot use their weak passwords to administer
    assert auth_findings(write_ini()) == (
        1,
        [
            (
                "unsafe [auth.superuser_passwords] superuser 'root' has a password from the "
                "common-password list: change it (plinth users add NAME --password-stdin)"
            )
        ],
    )


def test_superusers_follow_the_superusers_setting(
    write_ini: Any, make_user: Any, plinth_engine: Any
) -> None:
    make_user("clerk", "clerks")
    make_user("boss")
    weaken(plinth_engine, "clerk", "00000000")
    weaken(plinth_engine, "boss", "00000000")
    code, findings = auth_findings(write_ini("plinth.superusers = group:clerks user:boss\n"))
    assert code == 1
    assert [f.split("'")[1] for f in findings] == ["boss", "clerk"]


def test_too_many_superusers_are_reported(
    write_ini: Any, make_user: Any, plinth_engine: Any
) -> None:
    names = [f"admin{n:02}" for n in range(deploy.MAX_SUPERUSERS + 1)]
    for name in names:
        make_user(name, "admins")
        # the first listed password: each check stops at once
        weaken(plinth_engine, name, deploy.listed_passwords()[0])
    code, findings = auth_findings(write_ini())
    assert code == 1
    assert findings[0] == (
        f"unsafe [auth.superuser_passwords] {len(names)} superusers (group:admins): only the "
        f"first {deploy.MAX_SUPERUSERS} by name were checked for common passwords; keep fewer"
    )
    assert [f.split("'")[1] for f in findings[1:]] == names[: deploy.MAX_SUPERUSERS]


def test_an_unreachable_database_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "production.ini"
    path.write_text(
        "[app:main]\nuse = egg:plinth\nplinth.plugins = auth\n"
        f"sqlalchemy.url = sqlite:///{tmp_path}/missing/none.sqlite\n"
        "[server:main]\n" + SERVER.format(port=6543)
    )
    code, findings = auth_findings(path)
    assert code == 1
    assert findings == [
        (
            "unsafe [auth.superuser_passwords] cannot read the superusers from the database "
            "(OperationalError): run the check where the database is reachable and migrated"
        )
    ]
