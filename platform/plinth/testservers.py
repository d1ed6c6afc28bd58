"""Real Waitress processes for tests that need real concurrency or the real server.

WebTest runs the application in the test's own thread; races between
processes, Waitress's own limits and what reaches the socket need servers.
:func:`live_servers` starts them on the test database; ``plinth_servers`` (a
pytest fixture of :mod:`plinth.testing`) is two of them, shared by a module;
:func:`call` and :func:`race` talk to them over plain HTTP.
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# Run in a fresh interpreter: argv[1] is a JSON object with the application's
# settings, Waitress's options, the port and whether to log as in production.
# Served as production serves (egg:plinth#waitress), with its drain on SIGTERM.
SERVER = """
import json, logging, sys
import plinth
from plinth.serve import serve
spec = json.loads(sys.argv[1])
if spec["log"]:
    handler = logging.StreamHandler(sys.stderr)
    from plinth.logs import JsonFormatter
    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)
    logging.getLogger("plinth").setLevel(logging.INFO)
serve(plinth.make_app(spec["settings"]), host="127.0.0.1", port=spec["port"],
      **spec["options"])
"""


@dataclass
class LiveServer:
    """One Waitress process; ``log`` holds what it wrote (JSON lines when logging)."""

    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def log_lines(self) -> list[dict[str, Any]]:
        """The JSON log lines written so far (anything else is left out)."""
        lines = []
        for line in self.log.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                lines.append(entry)
        return lines


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def call(
    port: int,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
) -> tuple[int, Any, Any]:
    """One request; returns (status, headers, parsed JSON body or the raw bytes).

    ``body`` is sent as JSON; ``raw`` is sent as it is.  ``path`` goes on the
    request line unchanged, so it can hold bytes a client library would refuse.
    """
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        connection.putrequest(method, path, skip_accept_encoding=True)
        sent = {"Content-Type": "application/json", **(headers or {})}
        if data is not None:
            sent.setdefault("Content-Length", str(len(data)))
        for name, value in sent.items():
            connection.putheader(name, value)
        connection.endheaders(data)
        response = connection.getresponse()
        content = response.read()
        parsed: Any = content
        if response.headers.get("Content-Type", "").startswith("application/json"):
            parsed = json.loads(content)
        return response.status, response.headers, parsed  # headers: case-insensitive
    finally:
        connection.close()


def race(
    ports: Sequence[int], requests: Sequence[tuple[Any, ...]], method: str = "POST"
) -> list[tuple[int, Any, Any]]:
    """Send every request at once, alternating between the servers.

    A request is (path, body, headers), sent with ``method``, or (path, body,
    headers, method).
    """
    barrier = threading.Barrier(len(requests))

    def one(index: int) -> tuple[int, Any, Any]:
        path, body, headers, *rest = requests[index]
        barrier.wait()
        return call(ports[index % len(ports)], rest[0] if rest else method, path, body, headers)

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(one, range(len(requests))))


@contextmanager
def live_servers(
    settings: dict[str, Any],
    log_dir: Path,
    count: int = 2,
    options: dict[str, Any] | None = None,
    log: bool = False,
) -> Iterator[list[LiveServer]]:
    """``count`` Waitress processes serving ``settings``, stopped afterwards.

    ``options`` are Waitress's (``threads``, ``max_request_body_size``, ...);
    with ``log`` the processes write the production JSON log lines.
    """
    servers: list[LiveServer] = []
    try:
        for _ in range(count):
            port = free_port()
            path = log_dir / f"server-{port}.log"
            spec = {
                "settings": {k: str(v) for k, v in settings.items()},
                "port": port,
                "options": {"threads": 16, **(options or {})},
                "log": log,
            }
            with open(path, "wb") as out:
                process = subprocess.Popen(
                    [sys.executable, "-c", SERVER, json.dumps(spec)],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            servers.append(LiveServer(port, process, path))
        deadline = time.monotonic() + 30
        for server in servers:
            while True:
                assert server.process.poll() is None, server.log.read_text()
                try:
                    if call(server.port, "GET", "/health")[0] == 200:
                        break
                except OSError:
                    pass
                assert time.monotonic() < deadline, server.log.read_text()
                time.sleep(0.1)
        yield servers
    finally:
        for server in servers:
            server.process.terminate()
        for server in servers:
            try:
                server.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait()


@pytest.fixture(scope="module")
def plinth_servers(
    plinth_app: Any, plinth_settings: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[int]]:
    """The ports of two Waitress processes on the (already migrated) test database.

    Use it with ``testapp`` (or ``clean_database``) so the tables are emptied
    after each test.
    """
    with live_servers(plinth_settings, tmp_path_factory.mktemp("servers")) as servers:
        yield [server.port for server in servers]
