"""Fixtures of the admin console's tests.

Signing in is the plugin's pytest plugin (:mod:`plinth_admin.testing`):
``console_browser`` and ``console``, shared with other plugins' tests.
"""

from __future__ import annotations

# Browser fixtures (skip without Chromium): chromium, live_server, browser_session.
from .browser import browser_session, chromium, live_server  # noqa: F401
