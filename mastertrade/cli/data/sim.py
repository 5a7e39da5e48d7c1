"""``mt data sim``: write a simulated market (exchange id ``sim``) for offline use, demos and tests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from mastertrade.cli.output import JsonOption, info, print_json, progress
from mastertrade.cli.runtime import open_db, run

if TYPE_CHECKING:
    from mastertrade.engine.collectors.origins import Origin
    from mastertrade.engine.collectors.sim import SimWrite


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
        typer.Option(
            "--end",
            help="Open time after the last bar (ISO-8601 UTC, not in the future); default: the current bar.",
        ),
    ] = None,
    replace_features: Annotated[
        bool,
        typer.Option(
            "--replace-features",
            help="Derive a coin's simulated features from this symbol though another quote of the coin"
            " derived them (BTC/EUR after BTC/USDT): they are kept per coin, so those go.",
        ),
    ] = False,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Generate seeded, realistic simulated candles and store them under exchange `sim`.

    An existing simulated series of the same symbol and timeframe is replaced as a whole, so the stored
    history is always one continuous simulated path. A symbol whose base ends in -EDGE (BTC-EDGE/USDT)
    carries a documented planted edge (large moves are taken back on the next bar); no other does.

    The simulated alternative data (sentiment, fear & greed, on-chain) is derived from the candles and
    stored with them in one transaction. There is one set of it for the simulated market: simulating
    another symbol keeps the market-wide values stored and only adds times not stored yet (and says so);
    re-simulating a symbol that produced them (another timeframe too) replaces those its earlier candles
    produced, and says so: each value records the run it was derived from.

    A coin's features (sentiment, mentions ... of BTC) are kept per coin, so they are derived from one of
    its series: simulating BTC/EUR once BTC/USDT derived them keeps them and says so (BTC/EUR's strategies
    read those); --replace-features derives them from BTC/EUR instead.
    """
    from mastertrade.engine.collectors.sim import write_sim_market
    from mastertrade.engine.market.sim import planted_edge
    from mastertrade.engine.market.sim import simulate as generate
    from mastertrade.engine.market.store import SIM_EXCHANGE, CandleStore
    from mastertrade.engine.market.symbols import parse_symbol
    from mastertrade.engine.market.timeframes import (
        canonical_timeframe,
        check_timeframe,
        now_ms,
        parse_when,
        timeframe_ms,
        to_iso,
    )
    from mastertrade.errors import UserInputError

    check_timeframe(timeframe, what="--timeframe")
    end_ms = parse_when(end, what="--end date") if end else None
    if end_ms is not None and end_ms > now_ms():
        raise UserInputError(
            f"invalid --end {end!r}: {to_iso(end_ms)} is in the future; simulated history ends at the "
            "current bar at the latest (the default)"
        )
    symbols = list(dict.fromkeys(parse_symbol(symbol) for symbol in symbols))
    # The first bar is at or after 1970-01-01 (epoch 0): `--end 0001-01-01` stored bars of the year 0
    # and then failed on a pandas OverflowError traceback, and `--bars 5000000 --timeframe 1w` (95,000
    # years) failed inside the simulation's random draws (ValueError: lam value too large).
    last_ms = end_ms if end_ms is not None else now_ms()
    if bars >= 1 and last_ms - (bars - 1) * timeframe_ms(timeframe) < 0:
        span = f"{bars:,} bars of {timeframe} ending {to_iso(last_ms)} would start before 1970-01-01"
        if end is not None:
            raise UserInputError(f"invalid --end {end!r}: {span}; give a later --end or fewer --bars")
        raise UserInputError(f"invalid --bars {bars}: {span}; give fewer --bars or a shorter --timeframe")

    async def write() -> tuple[list[dict[str, Any]], list[str], SimWrite]:
        db = await open_db()
        try:
            store = CandleStore(db)
            others = sorted(
                {
                    info.key.timeframe
                    for info in await store.list_series()
                    if info.key.exchange == SIM_EXCHANGE and info.key.timeframe != timeframe and info.rows
                },
                key=timeframe_ms,
            )
            frames = {}  # by the key as stored (a series kept from before may be spelt otherwise)
            with progress() as bar:
                task = bar.add_task("simulating", total=len(symbols))
                for symbol in symbols:
                    key = await store.key_for(SIM_EXCHANGE, symbol, timeframe)
                    frames[key] = generate(symbol, timeframe, bars, seed, end=end_ms)
                    bar.advance(task)
            # The candles and the matching simulated alternative data (sentiment, fear & greed,
            # on-chain) derived from them, so strategies with feature terms run offline too, are stored
            # in one transaction: a failure leaves the database as it was.
            written = await write_sim_market(db, frames, timeframe, seed, replace_features=replace_features)
        finally:
            await db.close()
        return (
            [
                {
                    "series": str(key),
                    "simulated": True,
                    "planted_edge": planted_edge(key.symbol),
                    "rows": len(frame),
                    "replaced": written.replaced[key],
                    "first": to_iso(int(frame.index[0].value // 1_000_000)),
                    "last": to_iso(int(frame.index[-1].value // 1_000_000)),
                    "last_close": float(frame["close"].iloc[-1]),
                    "seed": seed,
                    "features": written.features,
                    "market_features_kept": written.kept,
                    "market_features_replaced": written.replaced_wide,
                    "features_derived": key.symbol in written.deriving,
                    "coin_features_kept": sum(
                        coin.values for coin in written.coins if key.symbol in coin.symbols and not coin.by
                    ),
                    "coin_features_replaced": sum(
                        coin.values for coin in written.coins if coin.by == key.symbol
                    ),
                }
                for key, frame in frames.items()
            ],
            others,
            written,
        )

    results, others, written = run(write)
    if json_out:
        print_json(results)
    for result in [] if json_out else results:
        info(
            f"simulated {result['rows']:,} bars of {result['series']} (seed {seed}), "
            f"{result['first']} .. {result['last']}, last close {result['last_close']:.6g}"
            + (f"; replaced the {result['replaced']:,} bars stored before" if result["replaced"] else "")
        )
    if results and written.deriving and not json_out:
        info(
            f"stored {results[0]['features']:,} simulated feature values (source sim), derived from the"
            f" simulated {timeframe} series"
        )
    for line in coin_notes(written, symbols):  # said with --json too (stderr): what was kept or replaced
        info(line, style="yellow" if line.startswith("mt: warning:") else None)
    note = market_wide_note(written, symbols)
    if note and (written.kept_origins or not json_out):  # what was kept is said with --json too (stderr)
        info(note)
    replaced_other_timeframe = any(
        origin is not None and origin.timeframes != (timeframe,) for origin in written.replaced_from
    )
    if others and written.deriving and (not written.kept_from or replaced_other_timeframe):
        # a series kept under a spelling refused since (60m) is named, but not offered as a command
        again = next((other for other in others if canonical_timeframe(other) == other), None)
        # One set of simulated features serves the simulated market: the other timeframes' series keep
        # their candles, but the features derived from them were replaced (FeatureStore.replace).
        info(
            f"mt: warning: the simulated features (sentiment, fear & greed, on-chain; source sim) are kept"
            f" for one timeframe: they are now derived from the {timeframe} series, replacing those of the"
            f" simulated {', '.join(others)} series, whose strategies and alert rules see feature values"
            f" only over the {timeframe} bars' span"
            + (
                f" (`mt data sim ... --timeframe {again}` derives them from that timeframe again)"
                if again
                else ""
            ),
            style="yellow",
        )


def coin_notes(written: SimWrite, symbols: list[str]) -> list[str]:
    """Lines on coins whose features another series of theirs derived (kept, or replaced as asked), and
    on a run's second quote of a coin, which reads the features its first derived."""
    from mastertrade.engine.market.symbols import base_asset

    lines = []
    for coin in written.coins:
        values = f"{coin.values:,} simulated {coin.asset} feature values (sentiment, mentions ...)"
        source = _producers(coin.origins, coin.unbacked)
        if coin.by:
            lines.append(
                f"replaced the {values} {source} with those of {coin.by}: a coin's simulated features are"
                " derived from one of its series"
            )
            continue
        readers = f"{' and '.join(coin.symbols)} {'reads' if len(coin.symbols) == 1 else 'read'}"
        lines.append(
            f"mt: warning: kept the {values} {source}: a coin's simulated features are derived from one of"
            f" its series, so {readers} those (`mt data sim {' '.join(coin.symbols)} --replace-features"
            f" ...` derives them from {coin.symbols[0]} instead)"
        )
    for first in written.deriving:
        asset = base_asset(first)
        second = [symbol for symbol in symbols if symbol != first and base_asset(symbol) == asset]
        if second:
            readers = f"{' and '.join(second)} {'reads' if len(second) == 1 else 'read'}"
            lines.append(
                f"{readers} the simulated {asset} features derived from {first}: a coin's"
                " simulated features are derived from one of its series, the first named"
            )
    return lines


def market_wide_note(written: SimWrite, symbols: list[str]) -> str:
    """One line on what became of the market-wide simulated features stored before (empty: none were)."""
    run = ", ".join(written.deriving or symbols)
    parts = []
    if written.replaced_wide:
        parts.append(
            f"replaced the {written.replaced_wide:,} market-wide simulated feature values"
            f" {_producers(written.replaced_from, written.unbacked)} with those of {run}"
        )
    if written.kept_origins:
        source = _producers(written.kept_origins, maybe=run)
        again = _derived_again(written, symbols)
        parts.append(
            f"kept the {written.kept:,} market-wide simulated feature values stored before (sentiment,"
            f" fear & greed ...), {source}; only times not stored yet were added from {run} ({again})"
            if written.kept
            else f"{'those' if parts else 'the market-wide simulated feature values'} {source} stay ({again})"
        )
    return "; ".join(parts)


def _derived_again(written: SimWrite, symbols: list[str]) -> str:
    """How the kept market-wide values are derived again: the command that simulates the stored research
    series with the run's, for those of research runs; for the daemon's (derived from its running
    simulation's series, sim-live), that they stay while that series is stored. A symbol only the daemon's
    series has is never offered to `mt data sim`: that would store a research series the trader never had
    (`mt data sim BTC-EDGE/USDT` offered `mt data sim SOL/USDT BTC-EDGE/USDT`, SOL/USDT being the
    daemon's live feed only)."""
    daemons = any(origin is not None and origin.live for origin in written.kept_origins)
    research = any(origin is None or not origin.live for origin in written.kept_origins)
    said = []
    if research:
        which = "all but the daemon's" if daemons else "them all"
        said.append(f"`mt data sim {' '.join([*written.rerun, *symbols])} ...` derives {which} again")
    if daemons:
        said.append(
            "the daemon's are derived from its running simulation's series (sim-live) and stay while it is"
            " stored"
        )
    return "; ".join(said)


def _producers(
    origins: tuple[Origin | None, ...], unbacked: frozenset[Origin] = frozenset(), maybe: str = ""
) -> str:
    """``derived from BTC/USDT 1h (seed 7)``, ``of unrecorded origin (...)`` or both: whose values they
    are. ``maybe``: the run whose earlier candles may be behind the values of unrecorded origin."""
    known = [
        origin.describe(", its candles since deleted" if origin in unbacked else "")
        for origin in origins
        if origin is not None
    ]
    phrases = [f"derived from {' and '.join(known)}"] if known else []
    if None in origins:
        among = f"; {maybe}'s earlier candles may be among them" if maybe else ""
        phrases.append(f"of unrecorded origin (stored by an earlier version{among})")
    return " and ".join(phrases)
