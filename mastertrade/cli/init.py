"""``mt init``: write a commented config file, create the database and run its migrations."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mastertrade.cli.output import JsonOption, info, print_json, print_table
from mastertrade.cli.runtime import run


def init(
    db_url: Annotated[
        str | None,
        typer.Option(
            "--db-url",
            help="Database URL to store in the config (default: SQLite in the data folder).",
        ),
    ] = None,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Write config.toml (kept if it exists), create the database and bring its schema up to date."""
    from mastertrade.config import load_settings
    from mastertrade.engine.setup import initialise

    if not json_out:
        info("compiling the backtest and indicator kernels (once per installation) ...")
    report: dict[str, Any] = run(lambda: initialise(load_settings(), db_url))
    if json_out:
        print_json(report)
        return
    rows = [
        ("config", report["config"], "written" if report["config_written"] else "kept"),
        ("database", report["database"], ", ".join(report["revisions"])),
    ]
    rows.append(("kernels", "numba on-disk cache", f"ready in {report['compile_s']:.1f} s"))
    print_table(["", "path", "state"], rows, title="MasterTrade initialised")
