"""``mt init``: write a commented config file, create the database and run its migrations."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from mastertrade.cli.output import JsonOption, info, print_json, print_table, progress
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
    from mastertrade.engine.warmup import kernels_warm
    from mastertrade.errors import UserInputError

    if db_url is not None and not db_url.strip():  # `--db-url "$DATABASE_URL"` with the variable unset
        raise UserInputError(
            f"invalid --db-url {db_url!r}: blank; give a database URL, or leave the option out for SQLite"
            " in the data folder"
        )

    # Said only when it will compile: a kernel cache this installation already warmed loads in seconds.
    cached = kernels_warm()
    doing = "loading" if cached else "compiling"
    if not json_out and not cached:
        info("compiling the backtest, indicator and generation kernels (once per installation) ...")
    # The bar is drawn on stderr only when it is a terminal (``progress``), like every other command's.
    with progress() as bar:
        task = bar.add_task(f"{doing} kernels", total=None)

        def step(done: int, total: int, what: str) -> None:
            bar.update(task, completed=done, total=total, description=f"{doing}: {what}")

        report: dict[str, Any] = run(lambda: initialise(load_settings(missing_ok=True), db_url, step=step))
    report["kernels_cached"] = cached
    shadow = _environment_over_file(report)
    if shadow:
        info(f"mt: warning: {shadow}", style="yellow")
    if json_out:
        print_json(report)
        return
    rows = [
        ("config", report["config"], "written" if report["config_written"] else "kept"),
        ("database", report["database"], ", ".join(report["revisions"])),
    ]
    done = "loaded from the cache" if cached else "compiled"
    rows.append(("kernels", "numba on-disk cache", f"{done} in {report['compile_s']:.1f} s"))
    print_table(["", "path", "state"], rows, title="MasterTrade initialised")


def _environment_over_file(report: dict[str, Any]) -> str | None:
    """A warning when ``MT_DB__URL`` in this shell names another database than the config file: the
    variable wins, so commands run without it (cron, systemd, another terminal) use another database
    than the one just set up."""
    import tomllib

    env_url = os.environ.get("MT_DB__URL", "").strip()
    if not env_url:
        return None
    try:
        file_url = tomllib.loads(Path(report["config"]).read_text(encoding="utf-8")).get("db", {}).get("url")
    except (OSError, ValueError):
        file_url = None
    if (file_url or "").strip() == env_url:
        return None
    return (
        f"MT_DB__URL is set here and wins over {report['config']}, which does not name that database:"
        " commands run without the variable (cron, systemd, another shell) use "
        + ("the file's [db] url" if file_url else "SQLite in the data folder")
        + " (mt init --db-url URL writes it to the file)"
    )
