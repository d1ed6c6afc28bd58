"""A plugin that claims stock's ``low-stock`` report: start-up must fail (test_registry)."""

from __future__ import annotations

from typing import Any

from .sample_reports import claim_low_stock

requires: tuple[str, ...] = ("reporting",)


def includeme(config: Any) -> None:
    claim_low_stock(config)
