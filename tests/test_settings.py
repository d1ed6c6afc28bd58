"""Settings: ini values, environment overrides, validation naming the key."""

from __future__ import annotations

import pytest
from pyramid.config import Configurator

from plinth.settings import (
    SettingError,
    apply_environment,
    declare_setting,
    env_name,
    positive_int,
    to_bool,
    word_list,
)


def test_env_name() -> None:
    assert env_name("auth.token_ttl") == "PLINTH_AUTH_TOKEN_TTL"
    assert env_name("plinth.plugins") == "PLINTH_PLINTH_PLUGINS"


def test_environment_overrides_ini() -> None:
    settings = {"auth.token_ttl": "60", "sqlalchemy.url": "sqlite://"}
    result = apply_environment(
        settings, {"PLINTH_AUTH_TOKEN_TTL": "120", "PLINTH_DATABASE_URL": "postgresql+psycopg:///x"}
    )
    assert result["auth.token_ttl"] == "120"
    assert result["sqlalchemy.url"] == "postgresql+psycopg:///x"
    assert settings["auth.token_ttl"] == "60"  # the input is left alone


def test_declared_setting_reads_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    config = Configurator(settings={})
    monkeypatch.setenv("PLINTH_STOCK_RESERVATION_TTL", "30")
    assert declare_setting(config, "stock.reservation_ttl", 900, positive_int) == 30
    assert config.registry.settings["stock.reservation_ttl"] == 30


def test_default_applies() -> None:
    config = Configurator(settings={})
    assert declare_setting(config, "x.flag", False, to_bool) is False


@pytest.mark.parametrize("value", ["0", "-5", "ten", ""])
def test_bad_value_names_the_key(value: str) -> None:
    config = Configurator(settings={"auth.token_ttl": value})
    with pytest.raises(SettingError, match=r"'auth\.token_ttl'"):
        declare_setting(config, "auth.token_ttl", 60, positive_int)


def test_missing_required_setting_names_key_and_variable() -> None:
    config = Configurator(settings={})
    with pytest.raises(SettingError, match="PLINTH_SQLALCHEMY_URL"):
        declare_setting(config, "sqlalchemy.url")


def test_bad_setting_stops_start_up_with_one_line() -> None:
    from plinth import main

    with pytest.raises(SystemExit) as stopped:
        main({}, **{"sqlalchemy.url": "sqlite://", "plinth.max_body_size": "lots"})
    message = str(stopped.value.code)
    assert "plinth.max_body_size" in message and "\n" not in message


def test_converters() -> None:
    assert word_list("auth stock\nreporting") == ["auth", "stock", "reporting"]
    assert to_bool("yes") is True
    with pytest.raises(ValueError, match="expected true or false"):
        to_bool("maybe")
