"""``mt data import`` and ``mt data export``: candle CSV files in and out, exactly."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mastertrade.cli.data.options import ExchangeOption, TimeframeOption
from mastertrade.cli.out_file import check_out, write_out_with
from mastertrade.cli.output import JsonOption, info, print_json
from mastertrade.cli.runtime import open_db, run
from mastertrade.cli.validation import check_plain_file
from mastertrade.errors import UserInputError

if TYPE_CHECKING:
    from mastertrade.engine.market.store import SeriesKey


def import_csv(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV with header timestamp,open,high,low,close,volume, a Binance kline file, a "
            "CryptoDataDownload file or a TradingView export."
        ),
    ],
    symbol: Annotated[
        str, typer.Option("--symbol", help="Symbol to store the candles under, e.g. BTC/USDT.")
    ],
    timeframe: Annotated[str, typer.Option("--timeframe", help="Bar length of the file: 1m, 1h, 1d ...")],
    exchange: Annotated[
        str | None,
        typer.Option(
            "--exchange",
            help="Exchange id to store them under (default: csv; sim, the simulated market, for a file"
            " `mt data export` wrote of a simulated series).",
        ),
    ] = None,
    time_unit: Annotated[
        str | None,
        typer.Option(
            "--time-unit",
            help="Unit of epoch timestamps: s, ms or us. By default told from their size, for the years "
            "2001..2286.",
        ),
    ] = None,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Import candles from a CSV file: every row is validated first; a bad file writes nothing.

    Header names may be in any case and other columns are ignored. The time column may be named timestamp,
    open_time, unix, time, datetime or date; timestamps are ISO-8601 (UTC unless they carry an offset; a
    trailing " UTC" is read as one) or epoch seconds, milliseconds or microseconds (one unit per file, told
    by their size, but a Binance kline file may hold milliseconds before 2025 and microseconds from then on,
    as its spot files of 2024 and 2025 joined do, each row's confirmed by its close_time; --time-unit only
    for epoch timestamps), each on the timeframe's bar grid (weekly bars may open on any one weekday, as
    exchanges' Monday weeks do). ISO timestamps without an offset beside others with one, or beside epoch
    times, are refused at the first unlike line. The volume is the base asset's (volume, or "Volume BTC" for
    BTC/USDT); a file with only a quote volume is refused. Binance kline files (data.binance.vision, with or
    without their header) and CryptoDataDownload files (a web address above the header, rows newest first)
    are read as they are, as are TradingView exports, a UTF-8 byte-order mark, CRLF line ends and, at the
    end, blank lines or lines of empty cells; a zip or gzip archive, JSON, a file separated by ";" or tabs,
    and a header line again among the rows (files joined with their headers) are refused. A symbol column
    must name the market of --symbol (BTCUSDT for BTC/USDT) on every row. A simulated column of true on
    every row (what `mt data export` writes for a simulated series) stores the candles under sim, the
    simulated market, labelled SIMULATED (another --exchange is refused): simulated prices never come back
    as real ones; without it, --exchange sim is refused. Whatever is read otherwise than
    this format says (time column, unit, skipped line, row order) is said in the output. A row that repeats
    the row before exactly (two exports joined at a shared bar) is dropped and named; two rows of one time
    with other values are refused. A price the backtest engines cannot trade meaningfully (below about
    5.56e-289, where the count of 1e-8 units the most cash a backtest takes buys is past floating point, or
    above 1e17, where one unit costs more than 0.1% of that cash) is refused. Rows already stored at the same
    times are replaced. Bars missing between the file's first and last rows are counted and the first gap
    named (missing, gap_count, gaps in --json)."""
    from mastertrade.engine.backtest.unit_cost import PRICE_BOUNDS_WHY, PRICE_RANGE
    from mastertrade.engine.market.csvio import TIME_UNITS, PriceRange, read_candle_csv
    from mastertrade.engine.market.csvshape import SIMULATED_COLUMN
    from mastertrade.engine.market.download import MAX_LISTED_GAPS
    from mastertrade.engine.market.store import (
        EXCHANGE_MAX_LENGTH,
        SIM_EXCHANGE,
        SIM_LIVE_EXCHANGE,
        CandleStore,
    )
    from mastertrade.engine.market.symbols import parse_symbol
    from mastertrade.engine.market.timeframes import check_timeframe, to_iso

    check_timeframe(timeframe, what="--timeframe")
    symbol = parse_symbol(symbol)
    given = exchange
    if exchange is not None:
        if not exchange.strip():
            raise UserInputError(
                f"invalid --exchange {exchange!r}: expected an exchange id, like csv or binance"
            )
        if len(exchange.strip()) > EXCHANGE_MAX_LENGTH:
            raise UserInputError(f"invalid --exchange {exchange!r}: at most {EXCHANGE_MAX_LENGTH} characters")
        if not exchange.strip().isprintable():
            raise UserInputError(
                f"invalid --exchange {exchange!r}: no newline, tab or other control character"
            )
        exchange = exchange.strip().lower()  # exchange ids are lower case (ccxt's): Binance is binance
        if exchange == SIM_LIVE_EXCHANGE:
            raise UserInputError(
                f"invalid --exchange {given!r}: the simulated market's live series, the daemon's running"
                f" simulation's own; a file of simulated candles is imported under {SIM_EXCHANGE}"
            )
    if time_unit is not None and time_unit not in TIME_UNITS:
        raise UserInputError(f"invalid --time-unit {time_unit!r}: use s, ms or us")
    check_plain_file(file)
    prices = PriceRange(*PRICE_RANGE, *PRICE_BOUNDS_WHY)
    candles = read_candle_csv(file, timeframe, symbol=symbol, time_unit=time_unit, prices=prices)
    exchange = _import_exchange(file, candles.simulated, exchange, given)

    async def store() -> dict[str, Any]:
        db = await open_db()
        try:
            candles_store = CandleStore(db)
            key = await candles_store.key_for(exchange, symbol, timeframe)
            before = (await candles_store.info(key)).rows
            written = await candles_store.upsert(key, candles.rows())
            after = (await candles_store.info(key)).rows
        finally:
            await db.close()
        return {
            "series": str(key),
            "simulated": key.simulated,
            "rows": written,
            "new": after - before,
            "replaced": written - (after - before),
            "first": to_iso(int(candles.ts[0])),
            "last": to_iso(int(candles.ts[-1])),
            "missing": candles.missing,
            "gap_count": len(candles.gaps),
            "gaps": [{"start": to_iso(a), "end": to_iso(b)} for a, b in candles.gaps[:MAX_LISTED_GAPS]],
            "read_as": dict(candles.read_as),
            "notes": list(candles.notes),
        }

    report = run(store)
    if json_out:
        print_json(report)
    else:
        info(
            f"imported {report['rows']} {'SIMULATED ' if report['simulated'] else ''}candles into"
            f" {report['series']} ({report['new']} new, {report['replaced']} replaced), {report['first']} .."
            f" {report['last']}"
        )
        for note in candles.notes:
            info(note)
    if candles.simulated:  # said with --json too (stderr): where the candles went, and why
        info(
            f"{file} holds simulated candles (its {SIMULATED_COLUMN} column, as `mt data export` writes for a"
            f" simulated series): stored under {SIM_EXCHANGE}, the simulated market, and labelled SIMULATED"
            " wherever they are shown"
        )


def _import_exchange(file: Path, simulated: bool, exchange: str | None, given: str | None) -> str:
    """The exchange a file's candles are stored under: ``sim`` for a file that says they are simulated
    (an export of a simulated series: the label comes back with them, so they never pass for real
    prices), else ``--exchange`` (default csv), which is never the simulated market's id."""
    from mastertrade.engine.market.csvshape import SIMULATED_COLUMN
    from mastertrade.engine.market.store import SIM_EXCHANGE, is_simulated_exchange

    if simulated:
        if exchange is not None and exchange != SIM_EXCHANGE:
            raise UserInputError(
                f"invalid --exchange {given!r}: {file} holds simulated candles (its {SIMULATED_COLUMN}"
                f" column, as `mt data export` writes for a simulated series), which are stored under"
                f" {SIM_EXCHANGE} only, never as an exchange's real prices: leave --exchange out"
            )
        return SIM_EXCHANGE
    if exchange is not None and is_simulated_exchange(exchange):
        raise UserInputError(
            f"invalid --exchange {given!r}: the simulated market's own id (`mt data sim`), and {file} does"
            f" not say its candles are simulated (no {SIMULATED_COLUMN} column of true); import under the"
            " exchange the file comes from, or csv"
        )
    return exchange or "csv"


def export_csv(
    symbol: Annotated[str, typer.Argument(help="Symbol to export, e.g. BTC/USDT.")],
    timeframe: Annotated[str, TimeframeOption],
    out: Annotated[Path, typer.Option("--out", help="File to write (its folder must exist).")],
    exchange: Annotated[str | None, ExchangeOption] = None,
    time_format: Annotated[
        str,
        typer.Option("--time-format", help="Timestamps as 'iso' (ISO-8601 UTC) or 'ms' (epoch ms)."),
    ] = "iso",
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite OUT if it exists (a file of yours is kept otherwise).")
    ] = False,
    feature: Annotated[
        list[str] | None,
        typer.Option(
            "--feature",
            help="Add a feature column, NAME or NAME:SYMBOL (e.g. fear_greed, sentiment:BTC), aligned to the"
            " bars as strategies see it; repeat for several.",
        ),
    ] = None,
    all_features: Annotated[
        bool,
        typer.Option(
            "--all-features", help="Add every stored feature of the market and of the symbol's asset."
        ),
    ] = False,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Export a candle series to CSV in the format `mt data import` reads.

    A simulated series' file has a `simulated` column (true on every row): `mt data import` stores it
    under sim again, labelled SIMULATED, never as real prices. With --feature or --all-features,
    alternative data follows the prices as extra columns, each value the one a strategy would see at
    that bar (published before the bar opened, empty once too old); `mt data import` ignores those
    columns. A file of yours at OUT is kept unless --force; OUT's folder must exist (none is made)."""
    from mastertrade.engine.market.csvio import write_candle_csv
    from mastertrade.engine.market.store import CandleStore
    from mastertrade.engine.market.timeframes import timeframe_ms

    if time_format not in ("iso", "ms"):
        raise UserInputError(f"invalid --time-format {time_format!r}: use 'iso' or 'ms'")
    timeframe_ms(timeframe)
    check_out(out, force=force)
    wanted: list[tuple[str, str | None]] = []
    if feature:
        from mastertrade.engine.collectors.export import parse_feature

        wanted = list(dict.fromkeys(parse_feature(text) for text in feature))

    async def load() -> tuple[SeriesKey, Any, dict[str, Any]]:
        db = await open_db()
        try:
            candles_store = CandleStore(db)
            key = await candles_store.resolve(symbol, timeframe, exchange)
            frame = await candles_store.read(key)
            columns: dict[str, Any] = {}
            if wanted or all_features:
                from mastertrade.engine.collectors.export import applicable, feature_columns

                chosen = list(dict.fromkeys([*wanted, *(await applicable(db, key) if all_features else [])]))
                columns = await feature_columns(db, key, frame, chosen)
            return key, frame, columns
        finally:
            await db.close()

    key, frame, columns = run(load)
    rows = write_out_with(
        out,
        lambda partial: write_candle_csv(
            frame,
            partial,
            time_format="ms" if time_format == "ms" else "iso",
            extra=columns,
            simulated=key.simulated,  # the file says so, and `mt data import` reads it back as simulated
        ),
        force=force,
    )
    if json_out:
        print_json(
            {
                "series": str(key),
                "simulated": key.simulated,
                "rows": rows,
                "out": str(out),
                "features": list(columns),
            }
        )
    else:
        label = " (SIMULATED: the file's simulated column says so)" if key.simulated else ""
        info(f"exported {rows} candles of {key}{label} to {out}")
