"""``mt config show|path``: the effective settings (secrets masked) and every path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from mastertrade.cli.output import JsonOption, info, print_json, print_table, stdout

app = typer.Typer(help="Show the effective settings and where everything lives.", no_args_is_help=True)


@app.command("show")
def show(json_out: Annotated[bool, JsonOption] = False) -> None:
    """Print the effective settings (file + environment), with secrets masked.

    Alert targets are checked as `mt daemon start` checks them: one Apprise cannot build is refused.
    Each alert target is shown masked with its identity, a keyed hash of its whole URL
    (`tgram://*** #3f9a1c2e07`), as `mt alerts list` and the alert history show it: two targets of
    one scheme show apart without showing their secrets.

    A collector name in `[collectors]` that neither a built-in source nor an installed plugin has is
    refused, as `mt daemon start` refuses it."""
    from mastertrade.cli.runtime import settings
    from mastertrade.config import masked_dump, render_values
    from mastertrade.engine.alerts.targets import check_targets
    from mastertrade.engine.collectors.check import check_collector_names

    effective = settings()
    # What `mt daemon start` refuses, this check of the config refuses too: a target Apprise cannot build
    # (a tgram:// without its bot token) passes the cheap check every command makes. Apprise is imported
    # only when there are targets; the plugins, only when a collector name is not a built-in one's.
    check_targets(effective.alerts.urls)
    warning = check_collector_names(effective.collectors)
    if warning:
        info(f"mt: warning: {warning}", style="yellow")
    label = _target_label() if effective.alerts.urls else None
    if json_out:
        print_json(masked_dump(effective, label))
        return
    stdout().print(render_values(effective, label), markup=False, highlight=False)


def _target_label() -> Callable[[str], str] | None:
    """How the daemon shows a target (``identity.target_label`` with the workspace's key), or None when
    the key cannot be had."""
    key = _target_key()
    if key is None:
        return None
    from mastertrade.engine.alerts.identity import target_label

    return lambda url: target_label(url, key)


def _target_key() -> bytes | None:
    """The workspace's alert-target key (made on first use, as the daemon would make it), or None with a
    warning when the data folder cannot hold it: the targets are then shown masked only."""
    from mastertrade.engine.alerts.identity import key_file, load_key

    try:
        return load_key()
    except OSError as exc:
        info(
            f"mt: warning: cannot read or make {key_file()} ({exc.strerror or exc}): alert targets are"
            " shown without their identities",
            style="yellow",
        )
        return None


@app.command("path")
def path(json_out: Annotated[bool, JsonOption] = False) -> None:
    """Print every path: config, secrets, data, database, logs, socket, pid file, cache, kernels.

    The database is the one in force: the SQLite file in the data folder, or the URL of `[db] url` (or
    MT_DB__URL) when one is set, its password masked. `kernels` is the installation's compiled-kernel
    cache (shared by every workspace; NUMBA_CACHE_DIR overrides it), which `mt init` fills.
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
    from mastertrade.engine.backtest._numba import CACHE_DIR

    paths["kernels"] = CACHE_DIR
    if json_out:
        print_json(paths)
        return
    print_table(["what", "path"], list(paths.items()))
