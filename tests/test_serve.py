"""SIGTERM drains in-flight requests (``plinth.serve``, a real Waitress process)."""

from __future__ import annotations

import http.client
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.slow

# Any WSGI application drains the same way; a sleeping one makes "in flight" certain.
SERVER = """
import sys, time
from plinth.serve import serve

def app(environ, start_response):
    if environ["PATH_INFO"] == "/slow":
        time.sleep(float(environ["QUERY_STRING"]))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"done " + environ["PATH_INFO"].encode()]

serve(app, listen="127.0.0.1:" + sys.argv[1], drain_timeout=float(sys.argv[2]), threads=4)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def start_server() -> Iterator[Any]:
    processes: list[subprocess.Popen[bytes]] = []

    def start(drain_timeout: float) -> tuple[subprocess.Popen[bytes], int]:
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(port), str(drain_timeout)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        processes.append(process)
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return process, port
            except OSError:
                assert process.poll() is None, process.communicate()[0]
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.05)

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.communicate()  # waits, and closes its output pipe


def get(port: int, path: str, results: dict[str, Any]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        results["status"], results["body"] = response.status, response.read()
    except (OSError, http.client.HTTPException) as exc:
        results["error"] = exc
    finally:
        results["at"] = time.monotonic()
        connection.close()


def test_sigterm_lets_the_request_in_flight_finish(start_server: Any) -> None:
    process, port = start_server(drain_timeout=30)
    # an idle keep-alive connection must not hold the process up
    idle = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        idle.request("GET", "/fast")
        assert idle.getresponse().read() == b"done /fast"

        results: dict[str, Any] = {}
        client = threading.Thread(target=get, args=(port, "/slow?2", results))
        client.start()
        time.sleep(0.5)  # the request is in the application now
        process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        with pytest.raises(ConnectionRefusedError):  # no new connections while draining
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        assert process.wait(timeout=20) == 0
        exited = time.monotonic()
    finally:
        idle.close()
    client.join(timeout=20)
    assert results.get("status") == 200, results
    assert results["body"] == b"done /slow"
    assert results["at"] <= exited


def test_draining_is_bounded_by_drain_timeout(start_server: Any) -> None:
    process, port = start_server(drain_timeout=1)
    results: dict[str, Any] = {}
    client = threading.Thread(target=get, args=(port, "/slow?20", results))
    client.start()
    time.sleep(0.5)
    signalled = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0
    assert time.monotonic() - signalled < 10  # well before the request would have finished
    client.join(timeout=20)
    assert "error" in results, results  # that client was cut off, and knows it
