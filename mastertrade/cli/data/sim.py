"""``mt data sim``: write a simulated market (exchange id ``sim``) for offline use, demos and tests."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mastertrade.cli.output import JsonOption, info, print_json, progress
from mastertrade.cli.runtime import open_db, run


def simulate(
    symbols: Annotated[list[str], typer.Argument(help="Symbols to simulate, e.g. BTC/USDT ETH/USDT.")],
    timeframe: Annotated[str, typer.Option("--timeframe", help="Bar length: 1m, 15m, 1h, 1d ...")] = "1h",
    bars: Annotated[int, typer.Option("--bars", help="How many bars per symbol.")] = 8760,
    seed: Annotated[
        int,
        typer.Option("--seed", min=0, max=2**32 - 1, help="Random seed: the same seed, the same prices."),
    ] = 7,
    end: Annotated[
        str | None,
        typer.Option("--end", help="Open time after the last bar (ISO-8601 UTC); default: the current bar."),
    ] = None,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Generate seeded, realistic simulated candles and store them under exchange `sim`.

    An existing simulated series of the same symbol and timeframe is replaced as a whole, so the stored
    history is always one continuous simulated path. A symbol whose base ends in -EDGE (BTC-EDGE/USDT)
    carries a documented planted edge (large moves are taken back on the next bar); no other does.
    """
    from mastertrade.engine.collectors.sim import write_sim_features
    from mastertrade.engine.market.sim import planted_edge
    from mastertrade.engine.market.sim import simulate as generate
    from mastertrade.engine.market.store import SIM_EXCHANGE, CandleStore, rows_from_frame
    from mastertrade.engine.market.symbols import parse_symbol
    from mastertrade.engine.market.timeframes import parse_when, timeframe_ms, to_iso

    timeframe_ms(timeframe)
    end_ms = parse_when(end, what="--end date") if end else None
    symbols = list(dict.fromkeys(parse_symbol(symbol) for symbol in symbols))

    async def write() -> list[dict[str, Any]]:
        db = await open_db()
        results = []
        written: list[str] = []  # as stored (a series kept from before may be spelt otherwise)
        try:
            store = CandleStore(db)
            with progress() as bar:
                task = bar.add_task("simulating", total=len(symbols))
                for symbol in symbols:
                    frame = generate(symbol, timeframe, bars, seed, end=end_ms)
                    key = await store.key_for(SIM_EXCHANGE, symbol, timeframe)
                    written.append(key.symbol)
                    replaced = await store.replace(key, rows_from_frame(frame))
                    stamps = frame.index
                    results.append(
                        {
                            "series": str(key),
                            "simulated": True,
                            "planted_edge": planted_edge(symbol),
                            "rows": len(frame),
                            "replaced": replaced,
                            "first": to_iso(int(stamps[0].value // 1_000_000)),
                            "last": to_iso(int(stamps[-1].value // 1_000_000)),
                            "last_close": float(frame["close"].iloc[-1]),
                            "seed": seed,
                        }
                    )
                    bar.advance(task)
            # Matching simulated alternative data (sentiment, fear & greed, on-chain), derived from
            # these candles, so strategies with feature terms run offline too.
            features = await write_sim_features(db, written, timeframe, seed)
            for result in results:
                result["features"] = features
        finally:
            await db.close()
        return results

    results = run(write)
    if json_out:
        print_json(results)
        return
    for result in results:
        info(
            f"simulated {result['rows']} bars of {result['series']} (seed {seed}), "
            f"{result['first']} .. {result['last']}, last close {result['last_close']:.6g}"
        )
