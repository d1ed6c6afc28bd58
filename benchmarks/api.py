"""Throughput and latency of an authorized ``GET /stock/{sku}`` (PRODUCT.md section 10).

Prints requests/second and latency percentiles, in one run on one machine, for:

- ``hello``: a bare Pyramid view returning JSON (the ceiling);
- ``naive``: Pyramid + SQLAlchemy + pyramid_tm, one-row lookup, no authentication;
- ``plinth``: Plinth's ``GET /stock/A-1`` with a bearer token, ACL check and levels;
- ``plinth x2``: the same on two Waitress processes, load split between them;

and the ratios the targets are stated in.  Servers are real Waitress processes
(``--threads`` each, 4 by default); the load comes from ``wrk`` where it is
installed (``apt-get install wrk``), else from Python threads in separate
processes (``--load python``), over keep-alive connections.

    .venv/bin/python benchmarks/api.py --seconds 5 --concurrency 16
    .venv/bin/python benchmarks/api.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import re
import shutil
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


def serve(kind: str, port: int, url: str, threads: int) -> None:
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
    waitress.serve(app, host="127.0.0.1", port=port, threads=threads, _quiet=True)


def start(kind: str, url: str, threads: int = 4) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, __file__, "serve", kind, str(port), url, str(threads)],
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


def measure_wrk(
    ports: list[int], path: str, headers: dict[str, str], seconds: float, concurrency: int
) -> dict[str, float]:
    """The same load from wrk (one wrk per server port, connections split
    between them): a generator in C, which leaves the servers more of the
    cores than Python threads do."""
    per_port = max(1, concurrency // len(ports))
    wrk = shutil.which("wrk") or "wrk"
    header_args = [arg for name, value in headers.items() for arg in ("-H", f"{name}: {value}")]
    runs = [
        subprocess.Popen(
            [
                wrk,
                "--latency",
                "-t",
                str(min(2, per_port)),
                "-c",
                str(per_port),
                "-d",
                f"{max(1, round(seconds))}s",
                *header_args,
                f"http://127.0.0.1:{port}{path}",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for port in ports
    ]
    outputs = [run.communicate()[0] for run in runs]
    rps = p50 = p99 = 0.0
    for output in outputs:
        if "Non-2xx" in output or "Socket errors" in output:
            raise SystemExit(f"wrk saw errors:\n{output}")
        found = re.search(r"Requests/sec:\s+([\d.]+)", output)
        if found is None:
            raise SystemExit(f"no Requests/sec in wrk's output:\n{output}")
        rps += float(found.group(1))
        p50 = max(p50, _wrk_ms(output, "50%"))
        p99 = max(p99, _wrk_ms(output, "99%"))
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99}


def _wrk_ms(output: str, percentile: str) -> float:
    found = re.search(rf"^\s+{percentile}\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    if found is None:
        raise SystemExit(f"no {percentile} latency in wrk's output:\n{output}")
    value, unit = found.groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


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
    parser.add_argument("--threads", type=int, default=4, help="Waitress threads per process")
    parser.add_argument(
        "--load",
        choices=["wrk", "python"],
        default="wrk" if shutil.which("wrk") else "python",
        help="load generator: wrk where installed (apt-get install wrk), else Python threads",
    )
    args = parser.parse_args()
    load = measure_wrk if args.load == "wrk" else measure
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
        servers = [start(kind, args.database_url, args.threads) for _ in range(processes)]
        try:
            load([port for _, port in servers], path, headers, 1.0, args.concurrency)  # warm up
            results[label] = load(
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
                "threads": args.threads,
                "load": args.load,
                "plinth_vs_naive": round(plinth["rps"] / naive["rps"], 2),
                "plinth_vs_hello": round(plinth["rps"] / results["hello"]["rps"], 2),
                "two_processes_vs_one": round(results["plinth x2"]["rps"] / plinth["rps"], 2),
                "plinth_p99_ms": round(plinth["p99_ms"], 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
    else:
        os.chdir(ROOT)
        main()
