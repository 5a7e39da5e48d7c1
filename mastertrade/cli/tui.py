"""``mt tui``: the live dashboard. It attaches to the daemon over its socket and waits for it (retrying,
and saying so on screen) when it is not running, so it can be opened before the daemon starts.

``run_dashboard`` is what ``mt demo`` calls once its daemon is up: with ``demo=True`` quitting asks
whether to stop the demo's daemon too.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer


def missing_terminal() -> str | None:
    """Why the dashboard cannot be shown here, or None. Textual draws on stderr and reads keys from stdin:
    with stderr redirected to a file it would write escape codes there for ever and show nothing."""
    if sys.__stderr__ is None or not sys.__stderr__.isatty():
        return "its stderr is not a terminal (redirected with 2> or piped?), and the dashboard draws there"
    if sys.__stdin__ is None or not sys.__stdin__.isatty():
        return "its stdin is not a terminal, and the dashboard reads its keys there"
    return None


def run_dashboard(*, demo: bool = False) -> int:
    """Run the dashboard until the user quits; the exit code (1 when stopping the demo daemon failed)."""
    from mastertrade.client import DaemonClient
    from mastertrade.tui.app import MasterTradeApp

    app = MasterTradeApp(DaemonClient(), demo=demo)
    app.run()
    return app.return_code or 0


def tui(
    demo: Annotated[
        bool, typer.Option("--demo", help="On quit, offer to stop the daemon too (what `mt demo` uses).")
    ] = False,
) -> None:
    """Open the live dashboard: prices, charts, strategies, orders, risk, alerts.

    Keys 1-6 switch screens, ? lists every key, ctrl+p opens the command palette, q quits.
    """
    from mastertrade.errors import UserInputError

    reason = missing_terminal()
    if reason is not None:
        raise UserInputError(
            f"cannot open the dashboard: {reason}; run `mt tui` in a terminal (the daemon's logs are in "
            "`mt daemon logs`)"
        )
    code = run_dashboard(demo=demo)
    if code:
        raise typer.Exit(code)
