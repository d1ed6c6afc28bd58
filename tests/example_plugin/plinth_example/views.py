from __future__ import annotations

from typing import Any

from .resources import Hello


def greet(context: Hello, request: Any) -> dict[str, Any]:
    greeting = request.registry.settings["example.greeting"]
    return {"greeting": greeting, "user": request.authenticated_userid}


def boom(context: Hello, request: Any) -> dict[str, Any]:
    raise RuntimeError("an unexpected failure, with a secret in its message")


def includeme(config: Any) -> None:
    config.add_view(greet, context=Hello, name="", request_method="GET",
                    permission="example.view", renderer="json")
    config.add_view(boom, context=Hello, name="boom", request_method="GET",
                    permission="example.view", renderer="json")
