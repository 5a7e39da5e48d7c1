"""What ``mt validate`` and ``mt optimize`` share: the strategy argument, the series options and how a
strategy and its series are resolved from them (the strategy's own symbol and timeframe by default);
the ``--start``/``--end`` range, which ``mt backtest`` reads the same way."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from mastertrade.config import Settings
    from mastertrade.db.database import Database
    from mastertrade.engine.signals.strategy import Strategy

StrategyArgument = typer.Argument(
    help="A built-in name, a genome JSON file, a stored strategy id or a plugin name."
)
SymbolOption = typer.Option("--symbol", help="Market symbol (default: the strategy's own).")
TimeframeOption = typer.Option("--timeframe", help="Bar length (default: the strategy's own).")
ExchangeOption = typer.Option("--exchange", help="Whose stored candles, when several have the series.")
StartOption = typer.Option("--start", help="First bar to use (ISO-8601 UTC).")
EndOption = typer.Option("--end", help="Use bars opening before this (ISO-8601 UTC).")


def given_timeframe(timeframe: str | None) -> str | None:
    """``--timeframe`` as typed, when it is a timeframe spelled its one way (``60m`` is refused, naming
    ``1h``: stored under the text given, it would be a second series of the same bars); None stays None.
    Every command that reads or writes a series by ``--timeframe`` checks it here first."""
    if timeframe is not None:
        from mastertrade.engine.market.timeframes import check_timeframe

        check_timeframe(timeframe, what="--timeframe")
    return timeframe


def date_range(start: str | None, end: str | None) -> tuple[int | None, int | None]:
    """``--start`` and ``--end`` as epoch ms (either may be None): the bars opening in ``[start, end)``.
    ``UserInputError`` naming the bad value when one is no date or ``--end`` is not after ``--start``.
    The one reading of the pair for ``mt backtest``, ``mt validate`` and ``mt optimize``."""
    from mastertrade.engine.market.timeframes import parse_when
    from mastertrade.errors import UserInputError

    start_ms = parse_when(start, what="--start date") if start else None
    end_ms = parse_when(end, what="--end date") if end else None
    if start_ms is not None and end_ms is not None and start_ms >= end_ms:
        raise UserInputError(f"invalid --end {end!r}: it must be after --start {start!r}")
    return start_ms, end_ms


async def replay_until(
    config: Settings, db: Database, start_ms: int | None = None, end_ms: int | None = None
) -> int | None:
    """Where research stops in a workspace that replays (``[market] venue = "replay"``): its market time
    (``market.as_of.workspace_market_time``), None elsewhere. The store holds the bars the replay has yet
    to play; a --start or --end after that time would read them, and is refused naming both times
    (``UserInputError``) before anything is read or written. The one check of ``mt backtest``, ``mt
    validate`` and ``mt optimize``; ``mt ml`` and ``mt rl train`` read up to it too."""
    from mastertrade.engine.market.as_of import workspace_market_time

    until = await workspace_market_time(config, db)
    if until is None:
        return None
    from mastertrade.errors import UserInputError
    from mastertrade.utc import iso_ms

    where = f'the market time of this replay workspace ([market] venue = "replay"), {iso_ms(until)}'
    ways = (
        "; or research the whole history in another workspace (another MT_HOME or [db] url)."
        " Nothing was read or written"
    )
    if end_ms is not None and end_ms > until:
        raise UserInputError(
            f"invalid --end {iso_ms(end_ms)}: after {where}, and the replay has yet to play the bars"
            f" after it. Give --end {iso_ms(until)} or earlier (without --end the command stops there)" + ways
        )
    if start_ms is not None and start_ms >= until:
        raise UserInputError(
            f"invalid --start {iso_ms(start_ms)}: not before {where}, and the replay has yet to play the"
            " bars from there. Give an earlier --start" + ways
        )
    return until


def resolve(spec: str, symbol: str | None, timeframe: str | None) -> tuple[Strategy, str, str]:
    """The strategy named ``spec`` and the series to use: the given symbol and timeframe, else the
    strategy's own; ``UserInputError`` naming what is missing."""
    import mastertrade.engine.backtest  # noqa: F401  (numba's cache folder, before anything loads numba)
    from mastertrade.cli.strategy import stored_lookup
    from mastertrade.engine.signals.loader import load_strategy
    from mastertrade.errors import UserInputError

    loaded = load_strategy(spec, symbol, given_timeframe(timeframe), stored=stored_lookup(spec))
    symbol = symbol or loaded.symbol
    timeframe = timeframe or loaded.timeframe
    if not symbol:
        raise UserInputError(f"missing --symbol: strategy {spec!r} does not name one")
    if not timeframe:
        raise UserInputError(f"missing --timeframe: strategy {spec!r} does not name one")
    return loaded, symbol, timeframe


def number(value: float | None, digits: int = 2) -> str:
    """A figure for a table: ``n/a`` when undefined."""
    return "n/a" if value is None else f"{value:,.{digits}f}"


def own_exchange(spec: str, symbol: str, timeframe: str, exchange: str | None) -> str | None:
    """``--exchange`` as given; else, for a stored strategy on its own market, the exchange whose series
    it was generated on, when that series is still stored: with the same market stored for several
    exchanges, `mt backtest ID` (the command `mt strategy export` prints) and `mt validate ID` then read
    the bars the strategy's figures came from instead of asking for --exchange."""
    if exchange is not None:
        return exchange
    from mastertrade.cli.strategy import stored_record

    record = stored_record(spec)
    if record is None or not record.exchange:
        return None
    from mastertrade.engine.market.symbols import same_symbol

    if not same_symbol(record.symbol, symbol) or record.timeframe != timeframe:
        return None
    own = record.exchange

    async def stored() -> bool:
        from mastertrade.cli.runtime import open_db
        from mastertrade.engine.market.store import CandleStore

        db = await open_db()
        try:
            return any(
                info.key.exchange == own
                and same_symbol(info.key.symbol, symbol)
                and info.key.timeframe == timeframe
                and info.rows > 0
                for info in await CandleStore(db).list_series()
            )
        finally:
            await db.close()

    from mastertrade.cli.runtime import run

    return own if run(stored) else None
