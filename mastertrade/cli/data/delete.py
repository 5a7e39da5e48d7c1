"""``mt data delete``: remove the candles of one stored series, all of them or a time range."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from mastertrade.cli.data.options import ExchangeOption, TimeframeOption
from mastertrade.cli.output import JsonOption, info, print_json
from mastertrade.cli.runtime import open_db, run
from mastertrade.errors import UserInputError

if TYPE_CHECKING:
    from mastertrade.db.database import Database
    from mastertrade.engine.market.store import CandleStore, SeriesKey


def delete_candles(
    symbol: Annotated[str, typer.Argument(help="Symbol whose candles to delete, e.g. BTC/USDT.")],
    timeframe: Annotated[str, TimeframeOption],
    exchange: Annotated[str | None, ExchangeOption] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="First bar to delete: ISO-8601 UTC (2024-01-01) or epoch ms."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help="Delete bars opening before this time (ISO-8601 UTC or epoch ms)."),
    ] = None,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes",
            help="Delete without asking. Without it the command says what it would delete, and at a "
            "terminal asks whether to.",
        ),
    ] = False,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Delete the candles of a stored series (all of them, or those from --since until --until), e.g.
    a wrong import before importing it again. A series left with no candles is no longer listed. Nothing
    else is deleted: strategies, trials and features stay (they name the series, and find it again once
    it is stored anew); deleting a whole simulated series says how many simulated feature values were
    derived from it (they stay, with no candles behind them, until a `mt data sim` replaces them).
    Refused while the daemon runs (it reads candles); without --yes it says what it would delete and, at
    a terminal, asks (no by default), otherwise deletes nothing. Export first (`mt data export`) to keep
    a copy."""
    from mastertrade.engine.daemon import running_pid
    from mastertrade.engine.market.store import CandleStore
    from mastertrade.engine.market.timeframes import parse_when, timeframe_ms, to_iso

    timeframe_ms(timeframe)
    start = parse_when(since, what="--since date") if since is not None else None
    end = parse_when(until, what="--until date") if until is not None else None
    if start is not None and end is not None and end <= start:
        raise UserInputError(f"invalid --until {until!r}: must be after --since {to_iso(start)}")
    pid = running_pid()
    if pid is not None:
        raise UserInputError(
            f"the daemon is running (pid {pid}) and reads candles: stop it first (`mt daemon stop`)"
        )

    async def go(delete: bool) -> tuple[str, int, int, str]:
        db = await open_db()
        try:
            store = CandleStore(db)
            key = await store.resolve(symbol, timeframe, exchange)
            if not delete:
                frame = await store.read_matrix(key, start, end)
                return str(key), len(frame), -1, ""
            deleted = await store.delete(key, start, end)
            left = (await store.info(key)).rows
            note = await _derived_note(db, store, key) if deleted and not left else ""
            return str(key), deleted, left, note
        finally:
            await db.close()

    series, count, left, note = run(lambda: go(yes))
    span = (
        f" from {to_iso(start) if start is not None else 'the first bar'}"
        f" until {to_iso(end) if end is not None else 'the last'}"
        if start is not None or end is not None
        else ""
    )
    if json_out:
        print_json(
            {
                "series": series,
                "deleted": count if yes else 0,
                "matched": count,
                "left": left if yes else None,
            }
        )
        if note:
            info(note)
        return
    if not yes:
        if not count or not _interactive():
            info(f"would delete {count:,} candles of {series}{span}: add --yes to delete them")
            return
        if not typer.confirm(f"delete {count:,} candles of {series}{span}?", default=False, err=True):
            info("deleted nothing")
            return
        series, count, left, note = run(lambda: go(True))
    info(
        f"deleted {count:,} candles of {series}{span}; "
        + (f"{left:,} left" if left else "none left, so it is no longer listed (`mt data list`)")
    )
    if note:
        info(note)


async def _derived_note(db: Database, store: CandleStore, key: SeriesKey) -> str:
    """One line on the simulated features derived from the emptied series ``key``, which stay: they are
    read by backtests (the market-wide ones by every simulated symbol's) though no candles back them now
    (empty: none are derived from it)."""
    from mastertrade.engine.collectors.sim import SIM_SOURCE
    from mastertrade.engine.collectors.store import FeatureStore
    from mastertrade.engine.market.store import SIM_EXCHANGE, is_simulated_exchange

    if not is_simulated_exchange(key.exchange):  # the daemon's live series (sim-live) derive values too
        return ""
    derived = await FeatureStore(db).derived_from(SIM_SOURCE, str(key))
    if derived.values:
        wide = (
            f"; {derived.market_wide:,} of them are market-wide (sentiment, fear & greed ...), read by every"
            " simulated symbol's strategies until the next `mt data sim` replaces them"
            if derived.market_wide
            else ""
        )
        return (
            f"the {derived.values:,} simulated feature values derived from {key} stay, though no candles"
            f" back them now{wide}"
        )
    if derived.unknown and not any(
        info.key.exchange == SIM_EXCHANGE and info.rows for info in await store.list_series()
    ):
        return (
            f"the {derived.unknown:,} simulated feature values of unrecorded origin (stored by an earlier"
            " version) stay, though no simulated candles are stored now; the next"
            " `mt data sim` replaces the market-wide ones"
        )
    if derived.unknown:
        return (
            f"the {derived.unknown:,} simulated feature values of unrecorded origin (stored by an earlier"
            f" version) stay; some may be derived from {key}"
        )
    return ""


def _interactive() -> bool:
    """Whether someone at a terminal can answer a question (not a script, a pipe or cron)."""
    import sys

    return sys.stdin.isatty() and sys.stderr.isatty()
