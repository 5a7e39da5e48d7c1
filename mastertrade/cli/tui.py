"""``mt tui``: the live dashboard. It attaches to the daemon over its socket and waits for it (retrying,
and saying so on screen) when it is not running, so it can be opened before the daemon starts.

``run_dashboard`` is what ``mt demo`` calls once its daemon is up: with ``demo=True`` quitting asks
whether to stop the demo's daemon too.
"""

from __future__ import annotations

from typing import Annotated

import typer


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
    code = run_dashboard(demo=demo)
    if code:
        raise typer.Exit(code)
