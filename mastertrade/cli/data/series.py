"""``mt data list``: every stored candle series."""

from __future__ import annotations

from typing import Annotated

from mastertrade.cli.output import JsonOption, print_json, print_table
from mastertrade.cli.runtime import open_db, run


def list_series(json_out: Annotated[bool, JsonOption] = False) -> None:
    """List stored candle series: exchange, symbol, timeframe, first and last bar, rows.

    A series `mt data delete` empties is no longer listed; one an earlier version emptied and kept shows
    "(no candles)" until an import, download or simulation fills it again."""
    from mastertrade.engine.market.store import CandleStore, SeriesInfo

    async def load() -> list[SeriesInfo]:
        db = await open_db()
        try:
            return await CandleStore(db).list_series()
        finally:
            await db.close()

    series = [info.as_dict() for info in run(load)]
    if json_out:
        print_json(series)
        return
    rows = [
        (
            s["exchange"] + (" (simulated)" if s["simulated"] else ""),
            s["symbol"],
            s["timeframe"],
            s["first"] if s["rows"] else "(no candles)",
            s["last"] if s["rows"] else "(no candles)",
            f"{s['rows']:,}",
        )
        for s in series
    ]
    print_table(["exchange", "symbol", "timeframe", "first", "last", "rows"], rows, right=["rows"])
