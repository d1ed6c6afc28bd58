"""Settings: read from the ini, overridden by the environment, validated once.

Every setting ``a.b_c`` can be overridden by the environment variable
``PLINTH_A_B_C``; ``PLINTH_DATABASE_URL`` overrides ``sqlalchemy.url``.  The
core and each plugin declare the settings they read, with a default and a
converter, through :func:`declare_setting` (the ``config.plinth_setting``
directive), so a bad value stops start-up with a message naming its key.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from pyramid.exceptions import ConfigurationError
from pyramid.settings import asbool, aslist

ENV_PREFIX = "PLINTH_"

# Environment names that do not follow the ``a.b_c`` rule.
ENV_ALIASES = {
    "PLINTH_DATABASE_URL": "sqlalchemy.url",
}

_MISSING = object()


class SettingError(ConfigurationError):
    """A setting is missing or has a bad value; the message names the key."""


def env_name(key: str) -> str:
    """The environment variable that overrides the setting ``key``."""
    return ENV_PREFIX + key.replace(".", "_").replace("-", "_").upper()


def apply_environment(
    settings: dict[str, Any], environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Return ``settings`` with every environment override applied."""
    environ = os.environ if environ is None else environ
    result = dict(settings)
    for key in list(result):
        value = environ.get(env_name(key))
        if value is not None:
            result[key] = value
    for name, key in ENV_ALIASES.items():
        if name in environ:
            result[key] = environ[name]
    return result


def setting_value(
    settings: Mapping[str, Any],
    key: str,
    default: Any = _MISSING,
    convert: Callable[[Any], Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Any:
    """Read ``key`` (environment first, then ini, then ``default``) and convert it.

    Raises ConfigurationError naming the key when the value is missing or bad.
    """
    environ = os.environ if environ is None else environ
    raw = environ.get(env_name(key), settings.get(key, default))
    if raw is _MISSING:
        raise SettingError(f"setting {key!r} is required: set it in the ini or as {env_name(key)}")
    if convert is None:
        return raw
    try:
        return convert(raw)
    except (TypeError, ValueError) as exc:
        raise SettingError(f"setting {key!r} has a bad value {raw!r}: {exc}") from None


def declare_setting(
    config: Any,
    key: str,
    default: Any = _MISSING,
    convert: Callable[[Any], Any] | None = None,
) -> Any:
    """Directive ``config.plinth_setting``: read, validate and store a setting.

    The value is stored in ``registry.settings`` at once (not deferred) so that
    the calling ``includeme`` can use it right away.
    """
    value = setting_value(config.registry.settings, key, default, convert)
    config.registry.settings[key] = value
    return value


# Converters ---------------------------------------------------------------


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in {"true", "false", "yes", "no", "on", "off", "1", "0", "t", "f", "y", "n"}:
        raise ValueError("expected true or false")
    return asbool(text)


def positive_int(value: Any) -> int:
    number = int(str(value).strip())
    if number <= 0:
        raise ValueError("expected a positive integer")
    return number


def word_list(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return list(aslist(value or ""))


def non_empty(value: Any) -> str:
    text = str(value).strip()
    if not text:
        raise ValueError("must not be empty")
    return text


def base_url(value: Any) -> str:
    """An absolute http(s) URL without query or fragment, or "" for none."""
    text = str(value or "").strip()
    if not text:
        return ""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("expected an absolute http:// or https:// URL")
    if parts.query or parts.fragment or "#" in text or any(c.isspace() for c in text):
        raise ValueError("expected a URL without spaces, query or fragment")
    return text.rstrip("/")


def includeme(config: Any) -> None:
    config.add_directive("plinth_setting", declare_setting)
