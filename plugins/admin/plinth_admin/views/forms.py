"""Every admin form is a POST that carries the CSRF token."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ..csrf import check_csrf


def form_post(view: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Refuse (403) a POST whose CSRF token is missing or wrong, before ``view``."""

    @functools.wraps(view)
    def checked(context: Any, request: Any) -> Any:
        check_csrf(request)
        return view(context, request)

    checked.admin_csrf = True  # type: ignore[attr-defined]
    return checked
