"""``plinth db upgrade`` on a fresh checkout and on a database it cannot reach."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from plinth.cli import cli
from plinth.testservers import free_port


def write_ini(path: Path, url: str) -> str:
    path.write_text(
        f"[app:main]\nuse = egg:plinth\nplinth.plugins = auth stock\nsqlalchemy.url = {url}\n"
    )
    return str(path)


def test_db_upgrade_creates_the_directory_of_a_sqlite_database(tmp_path: Path) -> None:
    ini = write_ini(tmp_path / "development.ini", "sqlite:///%(here)s/var/plinth.sqlite")
    assert not (tmp_path / "var").exists()
    result = CliRunner().invoke(cli, ["-c", ini, "db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "var" / "plinth.sqlite").is_file()
    assert "stock: at" in result.output
    result = CliRunner().invoke(cli, ["-c", ini, "db", "current"])
    assert result.exit_code == 0, result.output


def test_an_unusable_database_is_one_clear_line(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    for url in (
        f"sqlite:///{blocker}/var/plinth.sqlite",
        f"postgresql+psycopg://plinth:secret@127.0.0.1:{free_port()}/plinth",
    ):
        ini = write_ini(tmp_path / "broken.ini", url)
        result = CliRunner().invoke(cli, ["-c", ini, "db", "upgrade"])
        assert result.exit_code == 1, result.output
        assert isinstance(result.exception, SystemExit), result.exception  # not a crash
        [line] = result.output.strip().splitlines()
        assert line.startswith("Error: cannot use the database "), line
        assert "secret" not in line


def test_a_command_on_a_database_behind_the_code_names_the_fix(tmp_path: Path) -> None:
    """A migration not yet applied (a column the code reads is missing) is one
    line saying what to run, not a traceback."""
    from alembic import command

    from plinth.cli import load_environment
    from plinth.schema import alembic_config

    ini = write_ini(tmp_path / "behind.ini", f"sqlite:///{tmp_path / 'behind.sqlite'}")
    env = load_environment(ini)
    cfg = alembic_config(env.registry)
    with env.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "core@head")
        command.upgrade(cfg, "auth@head")
        command.upgrade(cfg, "570c00000001")  # stock's first revision only
    result = CliRunner().invoke(cli, ["-c", ini, "stock", "verify"])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    [line] = result.output.strip().splitlines()
    assert line == (
        "Error: the database is behind the code (pending: stock): run 'plinth db upgrade'"
    ), line
    assert CliRunner().invoke(cli, ["-c", ini, "db", "upgrade"]).exit_code == 0
    assert CliRunner().invoke(cli, ["-c", ini, "stock", "verify"]).exit_code == 0
