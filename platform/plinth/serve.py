"""Waitress that stops gracefully: SIGTERM drains in-flight requests, then exits.

Waitress itself leaves SIGTERM to Python's default, which kills the process at
once: every request in flight is cut off, and a client (or nginx) cannot tell
whether a write it sent was applied.  This runner (``use = egg:plinth#waitress``
in a ``[server:...]`` section; every Waitress option still applies) answers
SIGTERM by closing its listening sockets, so that nginx sends new requests to
the other processes, then keeps serving the requests it already has until they
are answered, closing idle keep-alive connections as it goes, and exits once
none is left or ``drain_timeout`` seconds (default 30) have passed.  systemd's
``TimeoutStopSec`` should be longer than that.
"""

from __future__ import annotations

import logging
import signal
import time
from typing import Any

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, MultiSocketServer, create_server

log = logging.getLogger(__name__)

DEFAULT_DRAIN_TIMEOUT = 30.0


def _server_map(server: Any) -> dict[int, Any]:
    return server.map if isinstance(server, MultiSocketServer) else server._map


def _listeners(socket_map: dict[int, Any]) -> list[BaseWSGIServer]:
    return [d for d in socket_map.values() if isinstance(d, BaseWSGIServer)]


def _idle(channel: HTTPChannel) -> bool:
    """No request being received, waiting, running or still being sent."""
    return not channel.requests and channel.request is None and not channel.total_outbufs_len


def drain(server: Any, timeout: float) -> int:
    """Stop accepting, finish what is in flight; returns the connections cut off."""
    socket_map = _server_map(server)
    for listener in _listeners(socket_map):
        # dispatcher.close, not the server's close: that would close the shared trigger.
        wasyncore.dispatcher.close(listener)
    deadline = time.monotonic() + timeout
    adj = server.adj
    while True:
        channels = [d for d in list(socket_map.values()) if isinstance(d, HTTPChannel)]
        busy = 0
        for channel in channels:
            if _idle(channel):
                channel.handle_close()
            else:
                busy += 1
        if not busy or time.monotonic() >= deadline:
            break
        wasyncore.loop(timeout=0.05, map=socket_map, use_poll=adj.asyncore_use_poll, count=1)
    server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
    wasyncore.close_all(socket_map)
    return busy


def serve(app: Any, drain_timeout: float = DEFAULT_DRAIN_TIMEOUT, **options: Any) -> None:
    """Serve ``app`` with Waitress ``options`` until SIGTERM (or SIGINT), then drain."""
    server = create_server(app, **options)
    socket_map = _server_map(server)
    trigger = _listeners(socket_map)[0].trigger
    stopping: list[int] = []

    def stop(signum: int, _frame: Any) -> None:
        stopping.append(signum)
        trigger.pull_trigger()  # wake the poll at once

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.print_listen("Serving on http://{}:{}")
    adj = server.adj
    while not stopping:
        wasyncore.loop(
            timeout=adj.asyncore_loop_timeout,
            map=socket_map,
            use_poll=adj.asyncore_use_poll,
            count=1,
        )
    log.info("stopping: draining in-flight requests for up to %s s", drain_timeout)
    cut_off = drain(server, drain_timeout)
    if cut_off:
        log.warning("stopped with %d request(s) still in flight after %s s", cut_off, drain_timeout)
    else:
        log.info("stopped: every request in flight was answered")


def serve_paste(app: Any, global_conf: Any, **options: Any) -> int:
    """The paste ``server_runner`` behind ``use = egg:plinth#waitress``."""
    drain_timeout = float(options.pop("drain_timeout", DEFAULT_DRAIN_TIMEOUT))
    serve(app, drain_timeout=drain_timeout, **options)
    return 0
