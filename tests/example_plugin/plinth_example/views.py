from __future__ import annotations

from typing import Any

from .resources import Hello


def greet(context: Hello, request: Any) -> dict[str, Any]:
    greeting = request.registry.settings["example.greeting"]
    return {"greeting": greeting, "user": request.authenticated_userid}


def boom(context: Hello, request: Any) -> dict[str, Any]:
    raise RuntimeError("an unexpected failure, with a secret in its message")


def includeme(config: Any) -> None:
    config.add_endpoint(
        greet,
        "/hello",
        "GET",
        context=Hello,
        name="",
        permission="example.view",
        summary="A greeting (example.view)",
        tags=["example"],
        responses={"200": {"description": "the greeting"}},
    )
    config.add_endpoint(
        boom,
        "/hello/boom",
        "GET",
        context=Hello,
        name="boom",
        permission="example.view",
        tags=["example"],
        summary="Fails on purpose: what a client sees of an unexpected error",
    )
