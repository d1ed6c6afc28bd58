"""Pytest fixtures for tests that need real users and tokens (a pytest plugin).

Loaded through the ``pytest11`` entry point, beside the core's
``plinth.testing``: ``make_user``, ``login`` and ``admin``; and
``PrivateRedis``, a redis-server a test starts and stops itself.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from typing import Any

import pytest

PASSWORD = "correct-horse-battery-staple"  # noqa: S105 - the test users' password


@pytest.fixture
def make_user(plinth_registry: Any) -> Callable[..., str]:
    """Create a user (real argon2 hashing) and return its name."""
    from plinth.api import Environment

    from . import services

    env = Environment(plinth_registry, "testing.ini")

    def make(name: str, *groups: str, password: str = PASSWORD, active: bool = True) -> str:
        with env.session() as db:
            services.save_user(
                db,
                plinth_registry,
                name,
                services.Actor("test"),
                password=password,
                groups=list(groups),
                active=active,
            )
        return name

    return make


@pytest.fixture
def login(testapp: Any) -> Callable[..., dict[str, str]]:
    """Issue a token through the API and return the Authorization header."""

    def do(name: str, password: str = PASSWORD) -> dict[str, str]:
        response = testapp.post_json(
            "/auth/tokens", {"username": name, "password": password}, status=201
        )
        return {"Authorization": f"Bearer {response.json['token']}"}

    return do


@pytest.fixture
def admin(make_user: Callable[..., str], login: Callable[..., dict[str, str]]) -> dict[str, str]:
    make_user("admin", "admins")
    return login("admin")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateRedis:
    """A redis-server this test owns: no persistence, stopped and started at will."""

    def __init__(self, port: int):
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        # redis-server from PATH, as the tests that use it skip without it.
        self.process = subprocess.Popen(
            [  # noqa: S607
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            assert time.monotonic() < deadline, "the private redis-server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
