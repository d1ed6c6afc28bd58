"""Throughput of writes (PRODUCT.md section 10): movements, and reservations
under contention on one SKU from two processes.

- ``movements``: receipts posted to ``/locations/WH1/A-1/movements`` on one
  Waitress process, every client on the same stock level (they serialise on
  its row, which is the point);
- ``reservations``: reservations of one unit of A-1 at WH1 on two Waitress
  processes, load split between them, until the supply is gone.  Afterwards
  the database must hold exactly as many active reservations as were granted,
  no more than the supply, and ``reserved`` must equal them: 0 oversell.

    .venv/bin/python benchmarks/writes.py --seconds 5 --concurrency 16
    .venv/bin/python benchmarks/writes.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1/bench
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api import ROOT, prepare, start


def poster(args: tuple[list[int], str, dict[str, str], bytes, float, int]) -> dict[str, Any]:
    """Threads posting ``body`` on keep-alive connections until ``seconds`` pass
    or the server answers 409 (nothing left to reserve)."""
    import threading

    ports, path, headers, body, seconds, threads = args
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    last_success = [0.0]

    def run(index: int) -> None:
        port = ports[index % len(ports)]
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        seen: dict[int, int] = {}
        end = time.perf_counter() + seconds
        while (now := time.perf_counter()) < end:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            seen[response.status] = seen.get(response.status, 0) + 1
            if response.status == 201:
                mine.append(time.perf_counter() - now)
                last_success[0] = max(last_success[0], time.time())
            elif response.status == 409:
                break
        connection.close()
        with lock:
            latencies.extend(mine)
            for status, count in seen.items():
                statuses[status] = statuses.get(status, 0) + count

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return {"latencies": latencies, "statuses": statuses, "last_success": last_success[0]}


def load(
    ports: list[int],
    path: str,
    headers: dict[str, str],
    payload: dict[str, Any],
    seconds: float,
    concurrency: int,
) -> dict[str, Any]:
    workers = min(4, concurrency)
    body = json.dumps(payload).encode()
    headers = {**headers, "Content-Type": "application/json"}
    started = time.time()
    with multiprocessing.Pool(workers) as pool:
        results = pool.map(
            poster,
            [(ports, path, headers, body, seconds, max(1, concurrency // workers))] * workers,
        )
    latencies = sorted(x for r in results for x in r["latencies"])
    statuses: dict[int, int] = {}
    for r in results:
        for status, count in r["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    unexpected = {s: n for s, n in statuses.items() if s not in (201, 409)}
    if unexpected:
        raise SystemExit(f"unexpected answers: {unexpected}")
    elapsed = max(max(r["last_success"] for r in results) - started, 1e-9)
    count = len(latencies)
    return {
        "granted": count,
        "refused": statuses.get(409, 0),
        "per_second": count / elapsed,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else 0.0,
        "p99_ms": latencies[min(count - 1, int(count * 0.99))] * 1000 if latencies else 0.0,
    }


def level_state(url: str) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        on_hand, reserved = connection.execute(
            text(
                "SELECT l.on_hand, l.reserved FROM stock_levels l "
                "JOIN stock_items i ON i.id = l.item_id "
                "JOIN stock_locations c ON c.id = l.location_id "
                "WHERE i.sku = 'A-1' AND c.code = 'WH1'"
            )
        ).one()
        active = connection.execute(
            text(
                "SELECT coalesce(sum(r.quantity), 0) FROM stock_reservations r "
                "JOIN stock_items i ON i.id = r.item_id WHERE i.sku = 'A-1' "
                "AND r.status = 'active'"
            )
        ).scalar_one()
    engine.dispose()
    return {"on_hand": int(on_hand), "reserved": int(reserved), "active": int(active)}


def post(port: int, path: str, headers: dict[str, str], payload: dict[str, Any]) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(
        "POST",
        path,
        body=json.dumps(payload).encode(),
        headers={**headers, "Content-Type": "application/json"},
    )
    status = connection.getresponse().status
    connection.close()
    return status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default=f"sqlite:///{ROOT / 'var' / 'bench-writes.sqlite'}"
    )
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--threads", type=int, default=4, help="Waitress threads per process")
    parser.add_argument(
        "--supply", type=int, default=3000, help="units of A-1 at WH1 to reserve, one at a time"
    )
    args = parser.parse_args()
    (ROOT / "var").mkdir(exist_ok=True)
    auth = {"Authorization": f"Bearer {prepare(args.database_url)}"}
    url = args.database_url

    servers = [start("plinth", url, args.threads)]
    try:
        ports = [port for _, port in servers]
        movements = load(
            ports,
            "/locations/WH1/A-1/movements",
            auth,
            {"kind": "receipt", "quantity": 1},
            args.seconds,
            args.concurrency,
        )
    finally:
        for process, _ in servers:
            process.terminate()
            process.wait()
    print(
        f"movements      {movements['per_second']:8.0f} /s   p50 {movements['p50_ms']:6.1f} ms"
        f"   p99 {movements['p99_ms']:6.1f} ms",
        flush=True,
    )

    servers = [start("plinth", url, args.threads) for _ in range(2)]
    try:
        ports = [port for _, port in servers]
        # Everything on hand is held, then exactly ``supply`` units are free.
        state = level_state(url)
        free = state["on_hand"] - state["reserved"]
        if free:
            assert (
                post(
                    ports[0],
                    "/locations/WH1/A-1/reservations",
                    auth,
                    {"quantity": free, "reference": "hold", "ttl_seconds": 86400},
                )
                == 201
            )
        assert (
            post(
                ports[0],
                "/locations/WH1/A-1/movements",
                auth,
                {"kind": "receipt", "quantity": args.supply},
            )
            == 201
        )
        before = level_state(url)
        reservations = load(
            ports,
            "/locations/WH1/A-1/reservations",
            auth,
            {"quantity": 1, "reference": "bench", "ttl_seconds": 86400},
            max(args.seconds, 60.0),
            args.concurrency,
        )
        after = level_state(url)
    finally:
        for process, _ in servers:
            process.terminate()
            process.wait()
    granted = reservations["granted"]
    oversold = max(0, granted - args.supply) + max(0, after["reserved"] - after["on_hand"])
    print(
        f"reservations   {reservations['per_second']:8.0f} /s   "
        f"p50 {reservations['p50_ms']:6.1f} ms   p99 {reservations['p99_ms']:6.1f} ms   "
        f"granted {granted} of {args.supply}",
        flush=True,
    )
    print(
        json.dumps(
            {
                "database": url.split(":")[0],
                "concurrency": args.concurrency,
                "threads": args.threads,
                "movements_per_second": round(movements["per_second"]),
                "reservations_per_second_two_processes": round(reservations["per_second"]),
                "reservations_granted": granted,
                "supply": args.supply,
                "reserved_matches_active": after["reserved"] - before["reserved"] == granted
                and after["reserved"] == after["active"],
                "oversold": oversold,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
