"""The HTTP edges on real Waitress processes: what reaches the socket, and the logs.

Two servers log as production does (JSON lines at INFO); another runs with the
Waitress settings of ``production.ini``.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from plaster import get_settings
from pyramid.paster import get_appsettings

from plinth.testservers import LiveServer, call, live_servers, race

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_INI = ROOT / "production.ini"
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def logged(
    plinth_app: Any, plinth_settings: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[LiveServer]]:
    with live_servers(plinth_settings, tmp_path_factory.mktemp("logged"), log=True) as servers:
        yield servers


def production_waitress_options(section: str = "server:main") -> dict[str, Any]:
    options = dict(get_settings(str(PRODUCTION_INI), section))
    for key in ("use", "listen", "here", "__file__"):
        options.pop(key, None)
    return options


@pytest.fixture(scope="module")
def production(
    plinth_app: Any, plinth_settings: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """One Waitress process with production.ini's settings, on the test database."""
    settings = dict(get_appsettings(str(PRODUCTION_INI)))
    settings["sqlalchemy.url"] = plinth_settings["sqlalchemy.url"]
    with live_servers(
        settings,
        tmp_path_factory.mktemp("production"),
        count=1,
        options=production_waitress_options(),
    ) as servers:
        yield servers[0]


def lines_for(servers: list[LiveServer], request_id: str) -> list[dict[str, Any]]:
    """The access lines of a request (its other lines carry its id too)."""
    return [
        line
        for server in servers
        for line in server.log_lines()
        if line.get("request_id") == request_id and line["logger"] == "plinth.access"
    ]


def errors_in(servers: list[LiveServer]) -> list[dict[str, Any]]:
    return [
        line
        for server in servers
        for line in server.log_lines()
        if line.get("level") in ("ERROR", "CRITICAL")
    ]


@pytest.mark.parametrize(
    "path", ["/%ff", "/stock/%ff", "/locations/WH1/%C3%28?x=1", "/stock?q=%fe"]
)
def test_an_undecodable_url_is_a_json_400_on_waitress(logged: list[LiveServer], path: str) -> None:
    request_id = f"bad-url-{abs(hash(path))}"
    status, headers, body = call(logged[0].port, "GET", path, headers={"X-Request-ID": request_id})
    assert status == 400, body
    assert headers["Content-Type"].startswith("application/json")
    assert body["error"] == "invalid_url"
    [line] = lines_for(logged, request_id)
    assert (line["logger"], line["status"]) == ("plinth.access", 400)
    assert not errors_in(logged)


def test_the_access_log_names_the_user_on_waitress(
    logged: list[LiveServer], admin: dict[str, str]
) -> None:
    status, _, _ = call(
        logged[1].port, "GET", "/auth/whoami", headers={**admin, "X-Request-ID": "whoami-1"}
    )
    assert status == 200
    call(logged[1].port, "GET", "/health", headers={"X-Request-ID": "anonymous-1"})
    [line] = lines_for(logged, "whoami-1")
    assert (line["path"], line["user"]) == ("/auth/whoami", "user:admin")
    [line] = lines_for(logged, "anonymous-1")
    assert line["user"] is None


def server_errors(servers: list[LiveServer], headers: dict[str, str]) -> float:
    """The 500s the servers counted (``plinth_http_requests_total``)."""
    total = 0.0
    for server in servers:
        status, _, body = call(server.port, "GET", "/metrics", headers=headers)
        assert status == 200
        for match in re.finditer(
            r"^plinth_http_requests_total\{([^}]*)\} (\S+)$", body.decode(), re.MULTILINE
        ):
            if 'status="5xx"' in match.group(1):
                total += float(match.group(2))
    return total


def test_an_idempotency_key_race_is_neither_an_error_nor_a_500(
    logged: list[LiveServer], testapp: Any, admin: dict[str, str]
) -> None:
    testapp.put_json("/locations/WH1", {"name": "Main"}, headers=admin, status=201)
    testapp.put_json("/stock/A-1", {"name": "Anchor"}, headers=admin, status=201)
    before = server_errors(logged, admin)
    requests = [
        (
            "/locations/WH1/A-1/movements",
            {"kind": "receipt", "quantity": 5},
            {**admin, "Idempotency-Key": "po-1", "X-Request-ID": f"race-{n}"},
        )
        for n in range(12)
    ]
    results = race([server.port for server in logged], requests)
    assert [status for status, _, _ in results] == [201] * 12, [r[2] for r in results]
    assert len({body["movement"]["id"] for _, _, body in results}) == 1
    assert testapp.get("/locations/WH1/A-1", headers=admin).json["on_hand"] == 5
    # every request is logged once, as the client saw it, and none as an error
    for n in range(12):
        [line] = lines_for(logged, f"race-{n}")
        assert line["status"] == 201
    assert not errors_in(logged)
    assert server_errors(logged, admin) == before


# production.ini ---------------------------------------------------------------


@pytest.mark.parametrize("size", [MIB + 1, 3 * MIB])
def test_a_body_over_the_limit_is_a_json_413_with_production_settings(
    production: LiveServer, admin: dict[str, str], size: int
) -> None:
    status, headers, body = call(
        production.port, "PUT", "/stock/BIG", headers=admin, raw=b"x" * size
    )
    assert status == 413
    assert headers["Content-Type"].startswith("application/json")
    assert body["error"] == "payload_too_large" and body["details"]["limit"] == MIB


def test_a_chunked_body_over_the_limit_is_a_json_413_with_production_settings(
    production: LiveServer,
) -> None:
    chunk = b"x" * 65536
    with socket.create_connection(("127.0.0.1", production.port), timeout=60) as sock:
        sock.sendall(
            b"PUT /stock/BIG HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
            b"Connection: close\r\n\r\n"
        )
        for _ in range(MIB // len(chunk) + 1):
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        sock.sendall(b"0\r\n\r\n")
        reply = b""
        while data := sock.recv(65536):
            reply += data
    head, _, payload = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), head
    assert b"application/json" in head.lower()
    assert b'"payload_too_large"' in payload


def test_a_body_at_the_limit_is_read_with_production_settings(
    production: LiveServer, admin: dict[str, str]
) -> None:
    padding = MIB - len(b'{"name": "Big", "unit": ""}')
    raw = b'{"name": "Big", "unit": "' + b" " * padding + b'"}'
    assert len(raw) == MIB
    status, _, body = call(production.port, "PUT", "/stock/BIG", headers=admin, raw=raw)
    assert status == 400 and body["error"] != "payload_too_large", body


@pytest.mark.parametrize("section", ["server:main", "server:second"])
def test_production_waitress_leaves_the_body_limit_to_plinth(section: str) -> None:
    """Waitress answers over its own limit in plain text: it must be above Plinth's."""
    limit = int(production_waitress_options(section).get("max_request_body_size", 1073741824))
    app_limit = int(get_appsettings(str(PRODUCTION_INI)).get("plinth.max_body_size", MIB))
    assert limit > app_limit
