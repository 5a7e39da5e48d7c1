"""The options that name a stored candle series, shared by the ``mt data`` commands that read one."""

from __future__ import annotations

import typer

TimeframeOption = typer.Option("--timeframe", help="Bar length: 1m, 1h, 1d ...")
ExchangeOption = typer.Option("--exchange", help="Exchange id, when the symbol is stored for several.")
