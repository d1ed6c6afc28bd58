"""Moments: the column type that stores UTC and reads back aware datetimes, and the clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select

from plinth import clock as plinth_clock
from plinth.columns import AwareDateTime, render_type

MOMENTS = Table(
    "test_moments",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("at", AwareDateTime()),
)


@pytest.fixture
def moments(plinth_engine: Any) -> Any:
    MOMENTS.create(plinth_engine)
    try:
        yield plinth_engine
    finally:
        MOMENTS.drop(plinth_engine)


def test_moments_come_back_aware_in_utc_on_either_database(moments: Any) -> None:
    tokyo = datetime(2024, 2, 29, 9, 30, tzinfo=timezone(timedelta(hours=9)))
    naive = datetime(2024, 2, 29, 0, 30)  # noqa: DTZ001 - naive on purpose: taken as UTC
    with moments.begin() as connection:
        connection.execute(
            insert(MOMENTS), [{"id": 1, "at": tokyo}, {"id": 2, "at": naive}, {"id": 3, "at": None}]
        )
    with moments.connect() as connection:
        rows = dict(connection.execute(select(MOMENTS.c.id, MOMENTS.c.at)).all())
        # comparisons happen in UTC too: the Tokyo moment is 00:30 UTC
        later = (
            connection.execute(
                select(MOMENTS.c.id).where(MOMENTS.c.at > datetime(2024, 2, 29, 0, 15, tzinfo=UTC))
            )
            .scalars()
            .all()
        )
    assert rows[1] == tokyo and rows[1].tzinfo == UTC
    assert rows[1] == datetime(2024, 2, 29, 0, 30, tzinfo=UTC)
    assert rows[2] == datetime(2024, 2, 29, 0, 30, tzinfo=UTC)
    assert rows[3] is None
    assert sorted(later) == [1, 2]


def test_the_clock_moves_forward_for_one_test_only(clock: Any) -> None:
    before = plinth_clock.now()
    assert before.tzinfo == UTC
    moved = clock.advance(hours=2)
    assert moved - before >= timedelta(hours=2)
    assert plinth_clock.now() >= moved  # it keeps ticking
    with plinth_clock.using(lambda: datetime(2000, 1, 1, tzinfo=UTC)):
        assert plinth_clock.now().year == 2000
    assert plinth_clock.now() >= moved


def test_without_the_fixture_the_clock_is_the_real_time() -> None:
    assert abs(plinth_clock.now() - datetime.now(UTC)) < timedelta(seconds=5)


def test_migrations_write_the_plain_type_underneath() -> None:
    from alembic.autogenerate import render_python_code
    from alembic.operations import ops

    create = ops.CreateTableOp.from_table(MOMENTS)
    code = render_python_code(ops.UpgradeOps(ops=[create]), render_item=render_type)
    assert "sa.DateTime(timezone=True)" in code and "AwareDateTime" not in code
