"""``mt data download``: candle history from an exchange (ccxt) into the store, resumably."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mastertrade.cli.output import JsonOption, info, print_json, print_table, progress
from mastertrade.cli.runtime import open_db, run, settings


def download_candles(
    symbols: Annotated[list[str], typer.Argument(help="Symbols to download, e.g. BTC/USDT ETH/USDT.")],
    since: Annotated[
        str, typer.Option("--since", help="First bar to fetch: ISO-8601 UTC (2024-01-01) or epoch ms.")
    ],
    timeframe: Annotated[str, typer.Option("--timeframe", help="Bar length: 1m, 15m, 1h, 1d ...")] = "1h",
    exchange: Annotated[
        str | None,
        typer.Option(
            "--exchange", help="ccxt exchange id (binance, kraken ...); default: exchange.id of the config."
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            "--until", help="Stop before this time (ISO-8601 UTC); default: up to the last closed bar."
        ),
    ] = None,
    refetch: Annotated[
        bool,
        typer.Option(
            "--refetch",
            help="Ask the exchange for the whole range again, even if stored, and replace the bars it has"
            " changed since (counted in `replaced`); bars outside the range are kept.",
        ),
    ] = False,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Download candles from an exchange, resuming each series from its last stored bar.

    A stored bar is not fetched again; when the exchange has corrected one since, `--refetch` with
    --since/--until asks for that range again, compares, and replaces (and counts) the bars that differ.

    Pages are stored as they arrive, so an interrupted download keeps what it got and a re-run never
    duplicates a candle. The bar still forming (by the exchange's clock as well as ours) is not stored.
    Network errors and rate limits are retried with backoff (exchange.max_retries and exchange.backoff_s
    in the config), waiting as long as a rate limit's Retry-After asks.
    """
    from mastertrade.engine.market.ccxt_venue import CcxtVenue, check_exchange_id
    from mastertrade.engine.market.download import DownloadProgress, download
    from mastertrade.engine.market.store import CandleStore
    from mastertrade.engine.market.symbols import parse_symbol
    from mastertrade.engine.market.timeframes import check_timeframe, now_ms, parse_when, to_iso
    from mastertrade.errors import UserInputError

    # Everything that can be judged without the exchange is, before any request: an empty or malformed
    # symbol used to wait through every retry of an unreachable exchange before it was refused.
    for symbol in symbols:
        parse_symbol(symbol)
    check_timeframe(timeframe, what="--timeframe")
    since_ms = parse_when(since, what="--since date")
    until_ms = parse_when(until, what="--until date") if until is not None else None
    if since_ms >= now_ms():
        raise UserInputError(
            f"invalid --since {since!r}: {to_iso(since_ms)} is in the future, no bar has closed"
        )
    if until_ms is not None and until_ms <= since_ms:
        raise UserInputError(f"invalid --until {until!r}: must be after --since {to_iso(since_ms)}")
    config = settings()
    exchange_id = (exchange or config.exchange.id).strip().lower()  # ccxt's ids: Binance is binance
    check_exchange_id(exchange_id)

    async def fetch() -> list[dict[str, Any]]:
        async with CcxtVenue(config.exchange, exchange_id=exchange_id) as venue:
            # Every argument is checked before anything is written; a symbol is stored as the exchange
            # spells it (btc/usdt is its BTC/USDT).
            venue.check_timeframe(timeframe)
            wanted = list(dict.fromkeys([await venue.check_symbol(symbol) for symbol in symbols]))
            db = await open_db(config)
            try:
                store = CandleStore(db)
                results = []
                with progress() as bar:
                    for symbol in wanted:
                        task = bar.add_task(f"{exchange_id} {symbol} {timeframe}", total=None)

                        def advance(step: DownloadProgress, task: Any = task) -> None:
                            bar.update(task, completed=step.done, total=step.total)

                        summary = await download(
                            store,
                            venue,
                            symbol,
                            timeframe,
                            since_ms,
                            until_ms,
                            progress=advance,
                            page_limit=config.exchange.page_limit,
                            refetch=refetch,
                        )
                        results.append(summary.as_dict())
            finally:
                await db.close()
        return results

    results = run(fetch)
    if json_out:
        print_json(results)
        return
    rows = [
        (
            r["series"],
            f"{r['new']:,}",
            f"{r['replaced']:,}",
            f"{r['fetched']:,}",
            r["first"] or "-",
            r["last"] or "-",
            r["requests"],
            r["retries"],
        )
        for r in results
    ]
    print_table(
        ["series", "new", "replaced", "fetched", "first", "last", "requests", "retries"],
        rows,
        right=["new", "replaced", "fetched", "requests", "retries"],
    )
    for result in results:
        for note in result["notes"]:
            info(f"{result['series']}: {note}")
