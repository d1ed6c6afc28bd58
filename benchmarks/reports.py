r"""Benchmark the reports on a large ledger, through a real Waitress server.

    python benchmarks/reports.py                          # 100,000 items, 1,000,000 movements
    python benchmarks/reports.py --items 10000 --movements 100000
    python benchmarks/reports.py --reset \
        --database-url postgresql+psycopg://postgres@127.0.0.1/bench

It builds the schema with ``plinth db upgrade``, generates items x locations
and a ledger in bulk (INSERT ... SELECT over a generated series: seconds, not
minutes), derives the stock levels from the ledger, starts ``waitress.serve``
on the application in a subprocess, and for every report and format prints the
time to the first byte, the total time, the size, and how much the server's
resident memory grew during the request (its peak, from /proc/<pid>/status).
CSV and JSON are streamed: their memory growth should not depend on the rows.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = f"sqlite:///{ROOT / 'var' / 'bench-reports.sqlite'}"
PLUGINS = "auth stock reporting"
LOCATIONS = 5
DAYS = 365

SERVER = """
import json, os, sys, waitress, plinth
settings = json.loads(os.environ["BENCH_SETTINGS"])
app = plinth.make_app(settings)
print("ready", flush=True)
waitress.serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=4, ident=None,
               _quiet=True)
"""


# Data -------------------------------------------------------------------------------


def run_cli(ini: Path, *args: str, stdin: str | None = None) -> None:
    plinth = Path(sys.executable).with_name("plinth")
    command = [str(plinth)] if plinth.exists() else [sys.executable, "-m", "plinth.cli"]
    subprocess.run(
        [*command, "-c", str(ini), *args],
        input=stdin,
        text=True,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def write_ini(path: Path, url: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "[app:main]\nuse = egg:plinth\n"
        f"plinth.plugins = {PLUGINS}\nsqlalchemy.url = {url}\n"
        "[loggers]\nkeys = root\n[handlers]\nkeys = console\n"
        "[formatters]\nkeys = generic\n[logger_root]\nlevel = WARN\n"
        "handlers = console\n[handler_console]\nclass = StreamHandler\n"
        "args = (sys.stderr,)\nformatter = generic\n[formatter_generic]\n"
        "format = %(levelname)s %(message)s\n"
    )


def reset_database(url: str) -> None:
    from sqlalchemy import create_engine, text

    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]
        for suffix in ("", "-wal", "-shm"):
            Path(path + suffix).unlink(missing_ok=True)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def has_items(url: str) -> bool:
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(url)
    try:
        if not inspect(engine).has_table("stock_items"):
            return False
        with engine.connect() as connection:
            return bool(connection.execute(text("SELECT COUNT(*) FROM stock_items")).scalar())
    finally:
        engine.dispose()


def series(dialect: str, count: int) -> str:
    """A FROM clause of integers n = 0 .. count-1."""
    if dialect == "postgresql":
        return f"generate_series(0, {count - 1}) AS s(n)"
    return (
        f"(WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s "
        f"WHERE n < {count - 1}) SELECT n FROM s) AS s"
    )


def load(url: str, items: int, movements: int) -> dict[str, float]:
    """Locations, items, a ledger, levels derived from it, and a few reservations."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    dialect = engine.dialect.name
    levels = items * LOCATIONS
    per_level = math.ceil(movements / levels)
    # The first movement of a level receives enough that no later issue
    # (at most 7 each) can take it below zero.
    first = 100 + 8 * per_level
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=DAYS)
    step = DAYS * 86400 / max(movements, 1)
    now_text = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    if dialect == "postgresql":
        stamp = f"(TIMESTAMPTZ '{start.isoformat()}' + n * INTERVAL '{step} seconds')"
        now = "now()"
        later = "now() + INTERVAL '30 days'"
        sku = "'SKU-' || lpad(n::text, 7, '0')"
        rid = "lpad(id::text, 32, '0')"

        def text_of(expr: str) -> str:
            return f"({expr})::text"
    else:
        # SQLAlchemy's own storage format, so that its comparisons hold.
        stamp = (
            f"(strftime('%Y-%m-%d %H:%M:%S', {start.timestamp()} + n * {step}, "
            f"'unixepoch') || '.000000')"
        )
        now = f"'{now_text}.000000'"
        later = "strftime('%Y-%m-%d %H:%M:%S', 'now', '+30 days') || '.000000'"
        sku = "'SKU-' || printf('%07d', n)"
        rid = "printf('%032d', id)"

        def text_of(expr: str) -> str:
            return f"CAST({expr} AS TEXT)"

    level = f"(n % {levels})"
    quantity = (
        f"CASE WHEN n < {levels} THEN {first} WHEN n % 3 = 0 THEN -((n % 7) + 1) "
        f"ELSE (n % 11) + 1 END"
    )
    kind = (
        f"CASE WHEN n < {levels} THEN 'receipt' WHEN n % 15 = 0 THEN 'adjustment' "
        f"WHEN n % 3 = 0 THEN 'issue' ELSE 'receipt' END"
    )
    steps = [
        (
            "locations",
            f"""
            INSERT INTO stock_locations (id, code, name, version, created_at, updated_at)
            SELECT n + 1, 'L' || {text_of("n")}, 'Location ' || {text_of("n")}, 1, {now}, {now}
            FROM {series(dialect, LOCATIONS)}""",
        ),
        (
            "items",
            f"""
            INSERT INTO stock_items (id, sku, name, unit, reorder_point, unit_cost, active,
                                     version, created_at, updated_at)
            SELECT n + 1, {sku}, 'Item ' || {text_of("n")}, 'each', (n % 100) * 10,
                   ((n % 1000) + 5) / 100.0, {"TRUE" if dialect == "postgresql" else 1},
                   1, {now}, {now}
            FROM {series(dialect, items)}""",
        ),
        (
            "movements",
            f"""
            INSERT INTO stock_movements (id, item_id, location_id, kind, quantity, balance,
                                         reason, reference, actor, created_at)
            SELECT n + 1, {level} % {items} + 1, {level} / {items} + 1, {kind}, {quantity},
                   -- each line's on hand after it, as the application writes it
                   SUM({quantity}) OVER (PARTITION BY {level} ORDER BY n
                                         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
                   CASE WHEN n >= {levels} AND n % 15 = 0 THEN 'count' END,
                   CASE WHEN n % 3 = 0 THEN 'SO-' ELSE 'PO-' END || {text_of("n % 5000")},
                   'bench', {stamp}
            FROM {series(dialect, movements)}""",
        ),
        (
            "levels",
            """
            INSERT INTO stock_levels (item_id, location_id, on_hand, reserved)
            SELECT item_id, location_id, SUM(quantity), 0 FROM stock_movements
            GROUP BY item_id, location_id""",
        ),
        (
            "reservations",
            f"""
            INSERT INTO stock_reservations (id, item_id, location_id, quantity, reference,
                                            status, actor, expires_at, created_at, updated_at)
            SELECT {rid}, item_id, location_id, 1, 'bench', 'active', 'bench', {later},
                   {now}, {now}
            FROM stock_levels WHERE id % 100 = 0 AND on_hand > 0""",
        ),
        (
            "reserved",
            """
            UPDATE stock_levels SET reserved = 1 WHERE id % 100 = 0 AND on_hand > 0""",
        ),
    ]
    timings: dict[str, float] = {}
    with engine.begin() as connection:
        if dialect == "sqlite":
            connection.exec_driver_sql("PRAGMA cache_size = -400000")
        for name, sql in steps:
            began = time.perf_counter()
            # text(): SQLAlchemy escapes '%' for drivers that use it as a placeholder.
            connection.execute(text(sql))
            timings[name] = time.perf_counter() - began
        if dialect == "postgresql":
            # Explicit ids leave the sequences behind: later inserts would clash.
            for table in ("stock_locations", "stock_items", "stock_movements"):
                connection.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT MAX(id) FROM {table}))"
                )
    began = time.perf_counter()
    with engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
        connection.commit()
    timings["analyze"] = time.perf_counter() - began
    engine.dispose()
    return timings


# Server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(url: str, replica: str | None, port: int) -> subprocess.Popen[str]:
    settings = {"sqlalchemy.url": url, "plinth.plugins": PLUGINS}
    if replica:
        settings["reporting.database_url"] = replica
    env = {**os.environ, "BENCH_SETTINGS": json.dumps(settings)}
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port)], env=env, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    if process.stdout.readline().strip() != "ready":
        raise SystemExit("the server did not start")
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the server does not accept connections")


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class PeakSampler:
    """The server's peak RSS during a request.

    Resets the kernel's high-water mark (``5`` to clear_refs) when allowed, and
    samples VmRSS every few milliseconds as well, in case it is not.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self.stop = threading.Event()
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
            self.hwm_reset = True
        except OSError:
            self.hwm_reset = False
        self.before = status_kib(pid, "VmRSS")
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()

    def sample(self) -> None:
        while not self.stop.wait(0.005):
            self.peak = max(self.peak, status_kib(self.pid, "VmRSS"))

    def finish(self) -> tuple[int, int]:
        """(RSS before, peak growth) in KiB."""
        self.stop.set()
        self.thread.join()
        peak = max(self.peak, status_kib(self.pid, "VmRSS"))
        if self.hwm_reset:
            peak = max(peak, status_kib(self.pid, "VmHWM"))
        return self.before, max(0, peak - self.before)


@dataclass
class Result:
    case: str
    fmt: str
    status: int
    size: int
    ttfb: float
    total: float
    rss_kib: int
    growth_kib: int


def fetch(port: int, path: str, token: str, pid: int) -> Result:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
    sampler = PeakSampler(pid)
    began = time.perf_counter()
    connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    response = connection.getresponse()
    first = response.read1(65536) if response.status == 200 else response.read()
    ttfb = time.perf_counter() - began
    size = len(first)
    while chunk := response.read1(1 << 20):
        size += len(chunk)
    total = time.perf_counter() - began
    rss, growth = sampler.finish()
    connection.close()
    return Result("", "", response.status, size, ttfb, total, rss, growth)


def token_for(port: int, username: str, password: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request(
        "POST",
        "/auth/tokens",
        body=json.dumps({"username": username, "password": password}),
        headers={"Content-Type": "application/json"},
    )
    response = connection.getresponse()
    body = json.loads(response.read())
    if response.status != 201:
        raise SystemExit(f"cannot log in: {body}")
    return str(body["token"])


def report_formats(port: int, token: str) -> dict[str, list[str]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", "/reports", headers={"Authorization": f"Bearer {token}"})
    listing = json.loads(connection.getresponse().read())
    return {r["name"]: r["formats"] for r in listing["reports"]}


def default_cases(movements: int) -> list[str]:
    mid = (datetime.now(UTC) - timedelta(days=DAYS // 2)).date().isoformat()
    return [
        "stock-on-hand",
        f"stock-on-hand?as_of={mid}",
        "low-stock",
        "movements",
        "movements?sku=SKU-0000001",
        f"movements?date_from={mid}",
        "stock-balance",
        "stock-balance?period=week",
        "valuation",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--items",
        type=int,
        default=100_000,
        help="items; each is stocked at every location (default 100000)",
    )
    parser.add_argument(
        "--movements", type=int, default=1_000_000, help="ledger lines (default 1000000)"
    )
    parser.add_argument(
        "--database-url",
        default=DEFAULT_URL,
        help="where to build the data (default: a SQLite file under var/, recreated on every run)",
    )
    parser.add_argument(
        "--reset",
        action="store_true",
        help="wipe a PostgreSQL database's public schema first (required when it holds items)",
    )
    parser.add_argument(
        "--reuse", action="store_true", help="keep the data already there: no generation"
    )
    parser.add_argument(
        "--replica-url", default=None, help="set reporting.database_url to this (e.g. a replica)"
    )
    parser.add_argument(
        "--case",
        action="append",
        dest="cases",
        metavar="REPORT[?QUERY]",
        help="a report to run (repeatable); default: every report, some with filters",
    )
    parser.add_argument(
        "--formats",
        default="json,csv,svg",
        help="comma-separated formats (default json,csv,svg; svg only "
        "where the report has a chart)",
    )
    args = parser.parse_args(argv)
    if args.items < 1 or args.movements < args.items * LOCATIONS:
        parser.error(
            f"need --items >= 1 and --movements >= {LOCATIONS} x --items "
            f"(every item x location gets a first receipt)"
        )
    url = args.database_url
    is_sqlite = url.startswith("sqlite")
    ini = ROOT / "var" / "bench-reports.ini"
    write_ini(ini, url)
    password = secrets.token_urlsafe(18)
    if not args.reuse:
        if not is_sqlite and has_items(url) and not args.reset:
            raise SystemExit("the database holds items: pass --reset to wipe it, or --reuse")
        reset_database(url)
        print(f"building the schema on {url.split('@')[-1]} ...", flush=True)
        run_cli(ini, "db", "upgrade")
        began = time.perf_counter()
        timings = load(url, args.items, args.movements)
        print(
            f"loaded {args.items:,} items x {LOCATIONS} locations, {args.movements:,} "
            f"movements in {time.perf_counter() - began:.1f}s ("
            + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items())
            + ")",
            flush=True,
        )
    run_cli(
        ini, "users", "add", "bench", "--password-stdin", "--group", "admins", stdin=password + "\n"
    )

    port = free_port()
    server = start_server(url, args.replica_url, port)
    try:
        token = token_for(port, "bench", password)
        formats = report_formats(port, token)
        # Warm up: imports (matplotlib), pools, caches; then measure.
        for name, fmts in formats.items():
            for fmt in fmts:
                fetch(
                    port,
                    f"/reports/{name}?format={fmt}&"
                    + ("sku=SKU-0000001" if name != "valuation" else "location=L0"),
                    token,
                    server.pid,
                )
        wanted = [f.strip() for f in args.formats.split(",") if f.strip()]
        cases = args.cases or default_cases(args.movements)
        print(
            f"\nserver pid {server.pid}, RSS {status_kib(server.pid, 'VmRSS') / 1024:.0f} "
            f"MiB after warm-up; {args.items:,} items, {args.movements:,} movements\n"
        )
        header = (
            f"{'report':44} {'fmt':4} {'status':>6} {'size':>10} {'TTFB s':>8} "
            f"{'total s':>8} {'MB/s':>7} {'RSS MiB':>8} {'peak +MiB':>9}"
        )
        print(header)
        print("-" * len(header))
        for case in cases:
            name, _, query = case.partition("?")
            for fmt in wanted:
                if fmt not in formats.get(name, []):
                    continue
                path = f"/reports/{quote(name)}?format={fmt}" + (f"&{query}" if query else "")
                result = fetch(port, path, token, server.pid)
                rate = result.size / 1e6 / result.total if result.total else 0.0
                print(
                    f"{case:44.44} {fmt:4} {result.status:>6} {result.size:>10,} "
                    f"{result.ttfb:>8.2f} {result.total:>8.2f} {rate:>7.1f} "
                    f"{result.rss_kib / 1024:>8.0f} {result.growth_kib / 1024:>9.1f}",
                    flush=True,
                )
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
