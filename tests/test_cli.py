"""The ``plinth`` command against the test database."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from plinth.cli import cli


@pytest.fixture
def ini(tmp_path: Path, plinth_settings: dict[str, Any], testapp: Any) -> str:
    """An ini on the test database (``testapp`` empties the tables afterwards)."""
    path = tmp_path / "cli.ini"
    path.write_text(
        "[app:main]\nuse = egg:plinth\n"
        f"plinth.plugins = {' '.join(plinth_settings['plinth.plugins'].split())}\n"
        f"sqlalchemy.url = {plinth_settings['sqlalchemy.url']}\n"
    )
    return str(path)


def run(ini: str, *args: str, input: str | None = None, code: int = 0) -> str:
    result = CliRunner().invoke(
        cli, ["-c", ini, *args], input=input, env={"PLINTH_OPERATOR": "tester"}
    )
    assert result.exit_code == code, result.output
    return result.output


def test_users_add_contract_in_a_real_process(ini: str, testapp: Any) -> None:
    plinth = Path(sys.executable).with_name("plinth")
    result = subprocess.run(
        [
            str(plinth),
            "-c",
            ini,
            "users",
            "add",
            "olga",
            "--password-stdin",
            "--group",
            "admins",
            "--group",
            "clerks",
        ],
        input="ol-secret-pass-1\n",
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PLINTH_OPERATOR": "tester"},
    )
    assert result.returncode == 0, result.stderr
    token = testapp.post_json(
        "/auth/tokens", {"username": "olga", "password": "ol-secret-pass-1"}
    ).json["token"]
    me = testapp.get("/auth/whoami", headers={"Authorization": f"Bearer {token}"}).json
    assert {"group:admins", "group:clerks"} <= set(me["principals"])
    # running it again updates the user
    result = subprocess.run(
        [str(plinth), "-c", ini, "users", "add", "olga", "--password-stdin"],
        input="ol-secret-pass-2\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "updated" in result.stdout
    testapp.post_json(
        "/auth/tokens", {"username": "olga", "password": "ol-secret-pass-2"}, status=201
    )


def test_users_commands(ini: str) -> None:
    assert "created user pia" in run(
        ini, "users", "add", "pia", "--password-stdin", input="pi-secret-pass-1\n"
    )
    run(ini, "users", "add", "bad name", "--password-stdin", input="pi-secret-pass-1\n", code=1)
    run(ini, "users", "add", "quinn", "--password-stdin", input="short\n", code=1)
    assert re.search(r"^pia +active", run(ini, "users", "list"), re.MULTILINE)
    run(ini, "users", "disable", "pia")
    assert re.search(r"^pia +disabled", run(ini, "users", "list"), re.MULTILINE)
    assert json.loads(run(ini, "users", "list", "--json"))[0]["active"] is False
    assert "enabled user pia" in run(ini, "users", "enable", "pia")
    assert re.search(r"^pia +active", run(ini, "users", "list"), re.MULTILINE)
    run(ini, "users", "disable", "nobody", code=1)
    run(ini, "users", "enable", "nobody", code=1)


def test_ensure_admin_generates_a_password_once(
    ini: str, testapp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PLINTH_ADMIN_PASSWORD", raising=False)
    output = run(ini, "users", "ensure-admin")
    password = output.split("password: ")[1].split()[0]
    testapp.post_json("/auth/tokens", {"username": "admin", "password": password}, status=201)
    assert "exists already" in run(ini, "users", "ensure-admin")


def test_tokens_revoke(ini: str, testapp: Any, make_user: Any, login: Any) -> None:
    make_user("rae")
    headers = login("rae")
    token_id = testapp.get("/auth/tokens", headers=headers).json["items"][0]["id"]
    run(ini, "tokens", "revoke", token_id)
    testapp.get("/auth/whoami", headers=headers, status=401)
    run(ini, "tokens", "revoke", "0" * 32, code=1)


def test_plugins_and_db_commands(ini: str) -> None:
    output = run(ini, "plugins")
    assert "auth 0.1.0 (migrations applied)" in output
    assert "installed, not enabled:" in output and "example 1.2.3" in output
    assert "up to date" in run(ini, "db", "current")
    run(ini, "db", "upgrade")


def test_acl_commands_are_audited(ini: str, make_user: Any) -> None:
    make_user("sam", "receivers")
    run(ini, "acl", "grant", "/locations/WH1", "group:receivers", "stock.receive")
    run(
        ini,
        "acl",
        "grant",
        "/locations/WH1",
        "user:sam",
        "stock.issue",
        "--deny",
        "--position",
        "0",
    )
    shown = json.loads(run(ini, "acl", "show", "/locations/WH1", "--json"))
    assert [(e["action"], e["principal"]) for e in shown["entries"]] == [
        ("Deny", "user:sam"),
        ("Allow", "group:receivers"),
    ]
    explained = run(ini, "acl", "explain", "/locations/WH1/A-1", "user:sam", "stock.receive")
    assert "allowed stock.receive" in explained and "group:receivers" in explained
    run(ini, "acl", "explain", "/locations/WH1", "user:ghost", code=1)
    run(ini, "acl", "revoke", "/locations/WH1", "user:sam", "stock.issue")
    run(ini, "acl", "revoke", "/locations/WH1", "user:sam", "stock.issue", code=1)
    run(ini, "acl", "grant", "/stock", "user:sam", "no.such", code=1)
    run(ini, "acl", "show", "/no/such/thing", code=1)
    lines = [
        json.loads(line)
        for line in run(ini, "audit", "--kind", "acl.changed", "--json").splitlines()
    ]
    assert len(lines) == 3
    assert all(entry["actor"] == "cli:tester" for entry in lines)


def test_acl_lint_finds_unknown_principals(ini: str, make_user: Any) -> None:
    make_user("tia")
    run(ini, "acl", "grant", "/stock", "user:tia", "stock.view")
    assert "no problems" in run(ini, "acl", "lint")
    run(ini, "acl", "grant", "/stock", "user:ghost", "stock.view", "--force")
    assert "unknown principal 'user:ghost'" in run(ini, "acl", "lint", code=1)


def test_missing_ini_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["-c", str(tmp_path / "nope.ini"), "plugins"])
    assert result.exit_code != 0 and "not found" in result.output


def test_db_purge_removes_only_expired_idempotency_keys(
    ini: str, as_principal: Any, plinth_engine: Any, clock: Any
) -> None:
    from plinth.cli import load_environment

    app = as_principal("user:root", "group:admins")
    app.put_json("/locations/WH1", {"name": "one"})
    app.put_json("/stock/A-1", {"name": "item"})
    ttl = load_environment(ini).settings["plinth.idempotency_ttl"]
    for key in ("old", "new"):
        app.post_json(
            "/locations/WH1/A-1/movements",
            {"kind": "receipt", "quantity": 1},
            headers={"Idempotency-Key": key},
        )
        clock.advance(seconds=ttl / 2 + 1)  # "old" is past its ttl, "new" is not
    assert "removed 1 expired" in run(ini, "db", "purge")
    with plinth_engine.connect() as connection:
        keys = [k for (k,) in connection.exec_driver_sql("SELECT key FROM idempotency_keys")]
    assert keys == ["new"]


def test_users_delete_removes_grants_unless_kept(ini: str, make_user: Any) -> None:
    make_user("val")
    make_user("wyn")
    make_user("xia")
    for name in ("val", "wyn", "xia"):
        run(ini, "acl", "grant", "/stock", f"user:{name}", "stock.view")
    assert "deleted user val and 1 ACL" in run(ini, "users", "delete", "val")
    # the old flag still works: it is the default now
    assert "deleted user xia and 1 ACL" in run(ini, "users", "delete", "xia", "--remove-grants")
    run(ini, "users", "delete", "wyn", "--keep-grants", "--remove-grants", code=2)
    run(ini, "users", "delete", "wyn", "--keep-grants")
    shown = json.loads(run(ini, "acl", "show", "/stock", "--json"))
    assert [e["principal"] for e in shown["entries"]] == ["user:wyn"]
    run(ini, "users", "delete", "val", code=1)
    records = [json.loads(line) for line in run(ini, "audit", "--json").splitlines()]
    assert [r["kind"] for r in records].count("user.deleted") == 3
    # the operator is the actor: the CLI is exempt from the limits, not from the log
    assert {r["actor"] for r in records if r["kind"] == "user.deleted"} == {"cli:tester"}


def test_cli_is_exempt_from_granting_limits_but_audited(ini: str, make_user: Any) -> None:
    make_user("boss", "admins")
    # what only a superuser may do over HTTP, the operator does here
    run(ini, "acl", "grant", "/stock", "system.Everyone", "stock.view")
    run(ini, "acl", "grant", "/stock", "group:anyone", "ALL", "--force")
    entries = json.loads(run(ini, "acl", "show", "/stock", "--json"))["entries"]
    assert [e["principal"] for e in entries] == ["system.Everyone", "group:anyone"]
    records = [json.loads(line) for line in run(ini, "audit", "--json").splitlines()]
    assert {r["actor"] for r in records if r["kind"] == "acl.changed"} == {"cli:tester"}
    explained = run(ini, "acl", "explain", "/stock", "user:boss", "stock.view")
    assert "superuser through group:admins" in explained and "allowed" in explained
    # but it keeps the last superuser
    assert "last active superuser" in run(ini, "users", "disable", "boss", code=1)


def test_help_lists_the_commands_of_the_plugins_the_ini_enables(tmp_path: Path, ini: str) -> None:
    assert "stock" in run(ini, "--help")
    only_auth = tmp_path / "auth-only.ini"
    text = Path(ini).read_text()
    enabled = next(line for line in text.splitlines() if line.startswith("plinth.plugins"))
    only_auth.write_text(text.replace(enabled, "plinth.plugins = auth"))
    output = run(str(only_auth), "--help")
    assert "users" in output and "stock" not in output


def test_tables_by_default_and_json_on_request(
    ini: str, make_user: Any, testapp: Any, login: Any
) -> None:
    make_user("tom", "clerks")
    login("tom")
    run(ini, "acl", "grant", "/stock", "group:clerks", "role:stock.clerk")
    shown = run(ini, "acl", "show", "/stock").splitlines()
    assert shown[0].startswith("/stock (inherits")
    assert shown[1].split() == ["RESOURCE", "SOURCE", "#", "ACTION", "PRINCIPAL", "PERMISSION"]
    assert shown[2].split() == [
        "/stock",
        "stored",
        "0",
        "Allow",
        "group:clerks",
        "role:stock.clerk",
    ]
    # columns line up: every row starts its principal where the header does
    column = shown[1].index("PRINCIPAL")
    assert all(
        line[column:].split()[0].startswith(("group:", "system.", "PRINCIPAL"))
        for line in shown[1:]
        if len(line) > column
    )
    roles = run(ini, "roles", "list")
    assert re.search(r"^stock\.clerk +declared +stock\.issue,stock\.receive", roles, re.MULTILINE)
    assert {r["name"] for r in json.loads(run(ini, "roles", "list", "--json"))} >= {
        "stock.clerk",
        "stock.manager",
        "reports.reader",
        "acl.admin",
    }
    tokens = run(ini, "tokens", "list")
    assert re.search(r"^[0-9a-f]+ +tom +live", tokens, re.MULTILINE)
    assert json.loads(run(ini, "tokens", "list", "--json", "--user", "tom"))[0]["user"] == "tom"
    assert json.loads(run(ini, "tokens", "list", "--json", "--user", "nobody")) == []
    audit = run(ini, "audit", "--kind", "acl.changed").splitlines()
    assert audit[0].split() == ["ID", "AT", "ACTOR", "KIND", "RESOURCE"]
    assert "cli:tester" in audit[1] and "/stock" in audit[1]


def test_audit_filters(ini: str, make_user: Any) -> None:
    make_user("uma", "clerks")
    run(ini, "acl", "grant", "/stock", "user:uma", "stock.view")
    run(ini, "acl", "grant", "/locations", "user:uma", "stock.view")

    def kinds(*args: str) -> list[tuple[str, str]]:
        lines = run(ini, "audit", "--json", *args).splitlines()
        return [(json.loads(line)["kind"], json.loads(line)["resource"]) for line in lines]

    assert kinds("--kind", "acl.changed") == [
        ("acl.changed", "/locations"),
        ("acl.changed", "/stock"),
    ]
    assert kinds("--resource", "/stock") == [("acl.changed", "/stock")]
    assert kinds("--actor", "cli:tester", "--kind", "acl.changed", "--limit", "1") == [
        ("acl.changed", "/locations")
    ]
    assert kinds("--actor", "cli:nobody") == []
    assert kinds("--until", "2000-01-01") == []
    assert len(kinds("--since", "2000-01-01")) >= 3
    run(ini, "audit", "--limit", "0", code=2)
    run(ini, "audit", "--since", "yesterday", code=2)


def test_grant_is_idempotent_and_refuses_what_is_mistyped(ini: str, make_user: Any) -> None:
    make_user("vic", "clerks")
    run(ini, "acl", "grant", "/stock", "user:vic", "stock.view")
    assert "already granted" in run(ini, "acl", "grant", "/stock", "user:vic", "stock.view")
    shown = json.loads(run(ini, "acl", "show", "/stock", "--json"))
    assert len(shown["entries"]) == 1
    cases = [
        (("/stock", "user:nobody", "stock.view"), "no such user or group 'user:nobody'"),
        (("/stock", "group:nobody", "stock.view"), "no such user or group 'group:nobody'"),
        (("/stock", "user:vic", "stock.fly"), "unknown permission 'stock.fly'"),
        (("/stock", "user:vic", "role:nobody"), "unknown role 'role:nobody'"),
        (("/stock", "vic", "stock.view"), "'vic' is not user:NAME"),
        (("/no/such", "user:vic", "stock.view"), "no resource at '/no/such'"),
    ]
    for args, message in cases:
        output = run(ini, "acl", "grant", *args, code=1)
        assert message in output and "entries/" not in output, output
    # an unknown permission is never stored, even with --force
    output = run(ini, "acl", "grant", "/stock", "user:vic", "stock.fly", "--force", code=1)
    assert "unknown permission 'stock.fly'" in output and "entries/" not in output
    assert len(json.loads(run(ini, "acl", "show", "/stock", "--json"))["entries"]) == 1


def test_grant_and_revoke_dry_run_print_the_flips(ini: str, make_user: Any) -> None:
    make_user("wes", "clerks")
    output = run(ini, "acl", "grant", "/locations", "group:clerks", "stock.view", "--dry-run")
    assert output.startswith("dry run: nothing was written")
    assert re.search(r"^/locations +group:clerks +stock\.view +Deny +Allow", output, re.MULTILINE)
    assert re.search(r"^/locations +user:wes +stock\.view +Deny +Allow", output, re.MULTILINE)
    assert json.loads(run(ini, "acl", "show", "/locations", "--json"))["entries"] == []
    changes = json.loads(
        run(ini, "acl", "grant", "/locations", "group:clerks", "stock.view", "--dry-run", "--json")
    )
    assert changes["dry_run"] is True and changes["changes"]
    run(ini, "acl", "grant", "/locations", "group:clerks", "stock.view")
    output = run(ini, "acl", "revoke", "/locations", "group:clerks", "stock.view", "--dry-run")
    assert re.search(r"^/locations +user:wes +stock\.view +Allow +Deny", output, re.MULTILINE)
    assert "no decision would change" in run(
        ini,
        "acl",
        "grant",
        "/locations",
        "group:nobody",
        "stock.adjust",
        "--deny",
        "--force",
        "--dry-run",
    )
    assert len(json.loads(run(ini, "acl", "show", "/locations", "--json"))["entries"]) == 1


def test_lint_finds_and_fixes_entries_of_resources_that_are_gone(ini: str, make_user: Any) -> None:
    make_user("xan")
    # a path no resource answers to: what a disabled plugin or a deleted item leaves
    assert "which does not resolve" in run(
        ini, "acl", "grant", "/shelves/S1", "user:xan", "stock.view", "--force"
    )
    run(ini, "acl", "grant", "/shelves/S1", "user:xan", "stock.adjust", "--force")
    output = run(ini, "acl", "lint", code=1)
    assert "/shelves/S1: 2 stored entr(ies) on a resource that no longer resolves" in output
    assert "revoked at /shelves/S1" in run(
        ini, "acl", "revoke", "/shelves/S1", "user:xan", "stock.adjust"
    )
    run(ini, "acl", "revoke", "/shelves/S1", "user:xan", "stock.adjust", code=1)
    assert "removed 1 entr(ies)" in run(ini, "acl", "lint", "--fix")
    assert "no problems found" in run(ini, "acl", "lint")
    records = [
        json.loads(line)
        for line in run(ini, "audit", "--json", "--resource", "/shelves").splitlines()
    ]
    assert [r["after"]["reason"] for r in records] == [
        "the resource no longer resolves",
        "the path does not resolve",
        "the path does not resolve",
        "the path does not resolve",
    ]
    run(ini, "acl", "revoke", "/shelves/S1", "user:xan", "stock.view", code=1)
