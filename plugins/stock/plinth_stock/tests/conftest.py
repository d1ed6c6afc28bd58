"""Fixtures shared by the stock plugin's tests.

``boss`` acts as a member of group:admins without a real token (fast); tests
that are about authentication itself use real users and bearer tokens.
"""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def boss(as_principal: Any) -> Any:
    """A TestApp acting as an administrator (group:admins holds everything)."""
    return as_principal("user:boss", "group:admins")
