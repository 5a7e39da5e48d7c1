"""``mt config show|path``: the effective settings (secrets masked) and every path."""

from __future__ import annotations

from typing import Annotated

import typer

from mastertrade.cli.output import JsonOption, info, print_json, print_table, stdout

app = typer.Typer(help="Show the effective settings and where everything lives.", no_args_is_help=True)


@app.command("show")
def show(json_out: Annotated[bool, JsonOption] = False) -> None:
    """Print the effective settings (file + environment), with secrets masked."""
    from mastertrade.cli.runtime import settings
    from mastertrade.config import masked_dump, render_values

    effective = settings()
    if json_out:
        print_json(masked_dump(effective))
        return
    stdout().print(render_values(effective), markup=False, highlight=False)


@app.command("path")
def path(json_out: Annotated[bool, JsonOption] = False) -> None:
    """Print every path: config, secrets, data, database, logs, socket, pid file, cache.

    The database is the one in force: the SQLite file in the data folder, or the URL of `[db] url` (or
    MT_DB__URL) when one is set, its password masked.
    """
    from mastertrade.config import load_settings, mask_url
    from mastertrade.errors import ConfigError
    from mastertrade.locations import locations

    paths = locations().as_dict()
    try:
        url = load_settings().db.url
    except ConfigError as exc:  # the paths still print: they are how the user finds the file to fix
        url = None
        info(f"mt: warning: {exc} (the database shown is the default)", style="yellow")
    if url:
        paths["database"] = mask_url(url)
    if json_out:
        print_json(paths)
        return
    print_table(["what", "path"], list(paths.items()))
