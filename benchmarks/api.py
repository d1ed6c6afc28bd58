"""Throughput and latency of an authorized ``GET /stock/{sku}`` (PRODUCT.md section 10).

Prints requests/second and latency percentiles, in one run on one machine, for:

- ``hello``: a bare Pyramid view returning JSON (the ceiling);
- ``naive``: Pyramid + SQLAlchemy + pyramid_tm, one-row lookup, no authentication;
- ``plinth``: Plinth's ``GET /stock/A-1`` with a bearer token, ACL check and levels;
- ``plinth x2``: the same on two Waitress processes, load split between them;

and the ratios the targets are stated in.  Servers are real Waitress processes;
the load comes from separate processes with keep-alive connections.

    .venv/bin/python benchmarks/api.py --seconds 5 --concurrency 16
    .venv/bin/python benchmarks/api.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from plinth.interfaces import IReadEngine
from plinth.services import get_service

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Servers -------------------------------------------------------------------


def hello_app() -> Any:
    from pyramid.config import Configurator

    def hello(request: Any) -> dict[str, str]:
        return {"hello": "world"}

    with Configurator() as config:
        config.add_route("hello", "/hello")
        config.add_view(hello, route_name="hello", renderer="json")
        return config.make_wsgi_app()


def naive_app(url: str) -> Any:
    import zope.sqlalchemy
    from pyramid.config import Configurator
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import sessionmaker

    from plinth_stock.models import Item

    engine = create_engine(url)
    factory = sessionmaker(bind=engine)

    def dbsession(request: Any) -> Any:
        session = factory()
        zope.sqlalchemy.register(session, transaction_manager=request.tm)
        return session

    def item(request: Any) -> dict[str, Any]:
        row = request.db.execute(
            select(Item).where(Item.sku == request.matchdict["sku"])
        ).scalar_one()
        return {"sku": row.sku, "name": row.name, "reorder_point": row.reorder_point}

    with Configurator(settings={"tm.manager_hook": "pyramid_tm.explicit_manager"}) as config:
        config.include("pyramid_tm")
        config.add_request_method(dbsession, "db", reify=True)
        config.add_route("item", "/item/{sku}")
        config.add_view(item, route_name="item", renderer="json")
        return config.make_wsgi_app()


def serve(kind: str, port: int, url: str) -> None:
    import logging

    import waitress

    logging.disable(logging.CRITICAL)
    if kind == "hello":
        app = hello_app()
    elif kind == "naive":
        app = naive_app(url)
    else:
        from plinth import make_app

        app = make_app({"sqlalchemy.url": url, "plinth.plugins": "auth stock"})
    waitress.serve(app, host="127.0.0.1", port=port, threads=8, _quiet=True)


def start(kind: str, url: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, __file__, "serve", kind, str(port), url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{kind} server did not start")


# Load ----------------------------------------------------------------------


def worker(args: tuple[list[int], str, dict[str, str], float, int]) -> list[float]:
    """One connection per thread; returns the latencies of successful requests."""
    import threading

    ports, path, headers, seconds, threads = args
    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        port = ports[index % len(ports)]
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine = []
        end = time.perf_counter() + seconds
        while (now := time.perf_counter()) < end:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                errors.append(response.status)
                continue
            mine.append(time.perf_counter() - now)
        connection.close()
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    if errors:
        raise SystemExit(f"{len(errors)} non-200 answers, e.g. {errors[0]}")
    return latencies


def measure(
    ports: list[int], path: str, headers: dict[str, str], seconds: float, concurrency: int
) -> dict[str, float]:
    workers = min(4, concurrency)
    per_worker = max(1, concurrency // workers)
    # warm up
    worker((ports, path, headers, 0.5, 2))
    with multiprocessing.Pool(workers) as pool:
        results = pool.map(worker, [(ports, path, headers, seconds, per_worker)] * workers)
    latencies = sorted(x for r in results for x in r)
    count = len(latencies)
    return {
        "rps": count / seconds,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(count - 1, int(count * 0.99))] * 1000,
    }


# Set-up --------------------------------------------------------------------


def prepare(url: str) -> str:
    """Migrate, load the demo data and an admin; return a bearer token."""
    from click.testing import CliRunner

    from plinth import make_configurator, schema
    from plinth.cli import Environment
    from plinth.cli.core import acl_grant
    from plinth_auth import services as auth
    from plinth_stock.cli import demo

    config = make_configurator({"sqlalchemy.url": url, "plinth.plugins": "auth stock"})
    config.commit()
    registry = config.registry
    schema.upgrade(registry, get_service(registry, IReadEngine))
    env = Environment(registry, "benchmark")
    CliRunner().invoke(demo, obj=env)
    with env.session() as db:
        user = auth.user_by_name(db, "bench")
        created = user is None
        if user is None:
            # Not a superuser: the stored ACL is read and decides.
            user, _ = auth.save_user(
                db,
                registry,
                "bench",
                auth.Actor("benchmark"),
                password="load-test-password-7",
                groups=["readers"],
            )
        _, secret = auth.issue_token(db, registry, user, 3600, auth.Actor("benchmark"))
    if created:
        for path, permission in (
            ("/stock", "stock.view"),
            ("/locations", "stock.view"),
            ("/locations", "stock.receive"),
            ("/locations", "stock.reserve"),
        ):
            result = CliRunner().invoke(acl_grant, [path, "group:readers", permission], obj=env)
            assert result.exit_code == 0, result.output
    return secret


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=f"sqlite:///{ROOT / 'var' / 'bench-api.sqlite'}")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    (ROOT / "var").mkdir(exist_ok=True)
    token = prepare(args.database_url)
    auth_header = {"Authorization": f"Bearer {token}"}
    results: dict[str, dict[str, float]] = {}
    plan = [
        ("hello", "hello", "/hello", {}, 1),
        ("naive", "naive", "/item/A-1", {}, 1),
        ("plinth", "plinth", "/stock/A-1", auth_header, 1),
        ("plinth x2", "plinth", "/stock/A-1", auth_header, 2),
    ]
    for label, kind, path, headers, processes in plan:
        servers = [start(kind, args.database_url) for _ in range(processes)]
        try:
            results[label] = measure(
                [port for _, port in servers], path, headers, args.seconds, args.concurrency
            )
        finally:
            for process, _ in servers:
                process.terminate()
                process.wait()
        row = results[label]
        print(
            f"{label:10} {row['rps']:8.0f} req/s   p50 {row['p50_ms']:6.1f} ms   "
            f"p99 {row['p99_ms']:6.1f} ms",
            flush=True,
        )
    plinth, naive = results["plinth"], results["naive"]
    print(
        json.dumps(
            {
                "database": args.database_url.split(":")[0],
                "concurrency": args.concurrency,
                "plinth_vs_naive": round(plinth["rps"] / naive["rps"], 2),
                "plinth_vs_hello": round(plinth["rps"] / results["hello"]["rps"], 2),
                "two_processes_vs_one": round(results["plinth x2"]["rps"] / plinth["rps"], 2),
                "plinth_p99_ms": round(plinth["p99_ms"], 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        os.chdir(ROOT)
        main()
