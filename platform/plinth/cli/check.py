"""``plinth check --deploy INI``: is this configuration safe for production?"""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command("check")
@click.option(
    "--deploy",
    "ini",
    required=True,
    metavar="INI",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="the production ini to check (environment overrides applied)",
)
def check(ini: Path) -> None:
    """List what is unsafe for production in INI; exit 1 if anything is."""
    from ..deploy import DeployContext, read_ini, run_checks, server_sections
    from . import load_environment

    env = load_environment(str(ini))
    parsed = read_ini(ini)
    findings = run_checks(DeployContext(ini, env.registry, parsed, server_sections(parsed)))
    for finding in findings:
        click.echo(f"unsafe [{finding.check}] {finding.problem}")
    if findings:
        click.echo(f"{len(findings)} problem(s) in {ini}: not ready for production")
        sys.exit(1)
    checks = len(env.registry.get("plinth.deploy_checks", {}))
    click.echo(f"{ini}: no problem found ({checks} checks)")
