"""Faults under load: a Waitress process killed mid-write, PostgreSQL restarted.

- Two Waitress processes take concurrent receipts while one or the other is
  killed with SIGKILL and restarted, twenty times: every write a client saw
  acknowledged (201) is in the ledger, and ``plinth stock verify`` is clean.
  Each restart is a new process forked from a parent that configured the
  application once (as a preloading server does), so that twenty restarts
  take seconds: what is under test is the death, not the start-up.
- A private PostgreSQL cluster (never the machine's) is stopped and started
  again under load: while it is down every request gets a JSON 503
  ``unavailable`` at once (no hang, no 500, no traceback), and afterwards the
  same Plinth process serves again, without a restart.
"""

from __future__ import annotations

import glob
import http.client
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from plinth.api import IReadEngine, get_service
from plinth.testservers import call, free_port

pytestmark = pytest.mark.slow

ROUNDS = 20
WRITERS = 6

SERVER = """
import sys
import plinth
from plinth.serve import serve
settings = {"sqlalchemy.url": sys.argv[1], "plinth.plugins": "auth stock"}
serve(plinth.make_app(settings), listen="127.0.0.1:" + sys.argv[2], threads=8)
"""


ZYGOTE = """
import os, signal, sys
import plinth
from plinth.api import IReadEngine, get_service
from plinth.serve import serve
app = plinth.make_app({"sqlalchemy.url": sys.argv[1], "plinth.plugins": "auth stock"})
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # killed children are reaped at once
for line in sys.stdin:
    pid = os.fork()
    if pid == 0:
        get_service(app.registry, IReadEngine).dispose(close=False)  # no connection crosses a fork
        serve(app, listen="127.0.0.1:" + line.strip(), threads=8)
        os._exit(0)
    print(pid, flush=True)
"""


class Zygote:
    """Starts Waitress processes on given ports, forked from one configured parent."""

    def __init__(self, url: str, log: Path):
        self.log = log
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-c", ZYGOTE, url],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=out,
                text=True,
            )
        self.children: dict[int, int] = {}  # port -> pid

    def start(self, port: int) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"{port}\n")
        self.process.stdin.flush()
        self.children[port] = int(self.process.stdout.readline())
        deadline = time.monotonic() + 60
        while True:
            try:
                if call(port, "GET", "/health")[0] == 200:
                    return
            except OSError:
                pass
            assert time.monotonic() < deadline, self.log.read_text()[-3000:]
            time.sleep(0.02)

    def kill(self, port: int) -> None:
        pid = self.children.pop(port)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            assert time.monotonic() < deadline, f"pid {pid} survived SIGKILL"
            time.sleep(0.01)

    def stop(self) -> None:
        for pid in self.children.values():
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        self.children.clear()
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


class Server:
    """One Waitress process on a port."""

    def __init__(self, url: str, port: int, log: Path):
        self.url, self.port, self.log = url, port, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-c", SERVER, self.url, str(self.port)],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while True:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                if call(self.port, "GET", "/health")[0] == 200:
                    return
            except OSError:
                pass
            assert time.monotonic() < deadline, self.log.read_text()[-3000:]
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def admin_token(port: int, make_user: Any) -> dict[str, str]:
    from plinth_auth.testing import PASSWORD

    make_user("admin", "admins")
    status, _, body = call(
        port, "POST", "/auth/tokens", {"username": "admin", "password": PASSWORD}
    )
    assert status == 201, body
    return {"Authorization": f"Bearer {body['token']}"}


def set_up_item(port: int, token: dict[str, str]) -> None:
    assert call(port, "PUT", "/locations/WH1", {"name": "Main"}, token)[0] == 201
    assert call(port, "PUT", "/stock/A-1", {"name": "Anchor"}, token)[0] == 201


def stock_verify(tmp_path: Path, url: str) -> Any:
    from plinth.testing import cli

    ini = tmp_path / "verify.ini"
    ini.write_text(
        f"[app:main]\nuse = egg:plinth\nplinth.plugins = auth stock\nsqlalchemy.url = {url}\n"
    )
    return CliRunner().invoke(cli, ["-c", str(ini), "stock", "verify"])


def test_kill_9_mid_write_loses_no_acknowledged_write(
    plinth_settings: dict[str, Any],
    plinth_engine: Any,
    testapp: Any,
    make_user: Any,
    tmp_path: Path,
) -> None:
    url = plinth_settings["sqlalchemy.url"]
    zygote = Zygote(url, tmp_path / "servers.log")
    ports = [free_port(), free_port()]
    stop = threading.Event()
    acknowledged: list[str] = []
    refused: list[Any] = []
    cut_off = [0]
    try:
        for port in ports:
            zygote.start(port)
        token = admin_token(ports[0], make_user)
        set_up_item(ports[1], token)

        def writer(number: int) -> None:
            sent = 0
            while not stop.is_set():
                reference = f"w{number}-{sent}"
                port = ports[(number + sent) % 2]
                sent += 1
                try:
                    status, _, body = call(
                        port,
                        "POST",
                        "/locations/WH1/A-1/movements",
                        {"kind": "receipt", "quantity": 1, "reference": reference},
                        token,
                    )
                except (OSError, http.client.HTTPException):
                    # in flight when the process died, or refused while it was down:
                    # the client cannot know, and nothing is promised
                    cut_off[0] += 1
                    continue
                if status == 201:
                    acknowledged.append(reference)
                else:
                    refused.append((status, body))

        writers = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
        for thread in writers:
            thread.start()
        rng = random.Random(20261130)
        for round_ in range(ROUNDS):
            time.sleep(rng.uniform(0.1, 0.4))
            victim = ports[round_ % 2]
            zygote.kill(victim)
            zygote.start(victim)
        stop.set()
        for thread in writers:
            thread.join(timeout=60)
    finally:
        stop.set()
        zygote.stop()

    assert refused == []
    assert cut_off[0] > 0  # the kills did land in the middle of requests
    assert len(acknowledged) > ROUNDS * 2, (len(acknowledged), cut_off)
    with plinth_engine.connect() as connection:
        ledger = set(
            connection.scalars(
                text("SELECT reference FROM stock_movements WHERE reference IS NOT NULL")
            )
        )
        on_hand = connection.scalar(text("SELECT on_hand FROM stock_levels"))
    assert set(acknowledged) <= ledger, set(acknowledged) - ledger
    assert on_hand == len(ledger)
    result = stock_verify(tmp_path, url)
    assert result.exit_code == 0, result.output


# PostgreSQL restart ---------------------------------------------------------


class PrivatePostgres:
    """A PostgreSQL cluster in a temporary directory, on a free port."""

    def __init__(self, bindir: Path, root: Path):
        self.bindir, self.root = bindir, root
        self.data, self.sockets, self.log = root / "data", root / "sockets", root / "pg.log"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/plinth"

    def run(self, *args: str) -> None:
        # initdb refuses to run as root: run the cluster as the postgres user.
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self.sockets.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.sockets, "postgres")
        self.run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        self.start()
        engine = create_engine(
            self.url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT"
        )
        with engine.connect() as connection:
            connection.execute(text("CREATE DATABASE plinth"))
        engine.dispose()

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off"
        )
        self.run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self) -> None:
        self.run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-m",
            "fast",
            "-w",
            "-t",
            "60",
            "stop",
        )


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    bindirs = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
    )
    if not bindirs or (os.geteuid() == 0 and shutil.which("runuser") is None):
        pytest.skip("PostgreSQL's server binaries are not installed")
    root = Path(tempfile.mkdtemp(prefix="plinth-pg-"))
    cluster = PrivatePostgres(Path(bindirs[-1]), root)
    try:
        cluster.init()
        yield cluster
    finally:
        try:
            cluster.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(root, ignore_errors=True)


def migrated_with_admin(url: str) -> None:
    from plinth.api import Environment, make_app
    from plinth.testing import migrate
    from plinth_auth import services
    from plinth_auth.testing import PASSWORD

    registry = make_app({"sqlalchemy.url": url, "plinth.plugins": "auth stock"}).registry
    migrate(registry)
    with Environment(registry, "test").session() as db:
        services.save_user(
            db, registry, "admin", services.Actor("test"), password=PASSWORD, groups=["admins"]
        )
    get_service(registry, IReadEngine).dispose()


def test_postgresql_restart_under_load_is_a_json_503_then_recovers(
    private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    from plinth_auth.testing import PASSWORD

    migrated_with_admin(private_postgres.url)
    server = Server(private_postgres.url, free_port(), tmp_path / "server.log")
    results: list[tuple[str, str, int, Any, float]] = []
    hung: list[Any] = []
    phase = ["up"]
    stop = threading.Event()
    try:
        server.start()
        status, _, body = call(
            server.port, "POST", "/auth/tokens", {"username": "admin", "password": PASSWORD}
        )
        assert status == 201, body
        token = {"Authorization": f"Bearer {body['token']}"}
        set_up_item(server.port, token)

        def load(number: int) -> None:
            sent = 0
            while not stop.is_set():
                sent += 1
                started, current = time.monotonic(), phase[0]
                request = (
                    ("GET", "/stock/A-1", None)
                    if (number + sent) % 2
                    else (
                        "POST",
                        "/locations/WH1/A-1/movements",
                        {"kind": "receipt", "quantity": 1},
                    )
                )
                try:
                    status, _, body = call(server.port, request[0], request[1], request[2], token)
                except (OSError, http.client.HTTPException) as exc:
                    hung.append((current, request[1], exc))
                    continue
                results.append((current, request[0], status, body, time.monotonic() - started))
                time.sleep(0.02)

        threads = [threading.Thread(target=load, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(1)
        private_postgres.stop()
        phase[0] = "down"
        time.sleep(3)
        phase[0] = "restarting"
        private_postgres.start()
        phase[0] = "back"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            back = [r for r in results if r[0] == "back"]
            if {(method, status) for _, method, status, _, _ in back} >= {
                ("GET", 200),
                ("POST", 201),
            }:
                break
            time.sleep(0.2)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        assert server.process is not None and server.process.poll() is None  # never restarted
    finally:
        stop.set()
        server.stop()

    assert hung == []  # every request was answered (call() gives up after 60 s)
    assert max(duration for *_, duration in results) < 10
    statuses = {status for _, _, status, _, _ in results}
    assert statuses <= {200, 201, 503}, [r for r in results if r[2] not in (200, 201, 503)]
    down = [r for r in results if r[0] == "down"]
    assert down and {status for _, _, status, _, _ in down} == {503}
    for _, _, status, body, _ in results:
        if status == 503:
            assert body["error"] == "unavailable" and body["status"] == 503, body
    back = {(method, status) for phase_, method, status, _, _ in results if phase_ == "back"}
    assert {("GET", 200), ("POST", 201)} <= back
    log = (tmp_path / "server.log").read_text()
    assert "Traceback" not in log
