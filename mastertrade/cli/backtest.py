"""``mt backtest``: backtest a strategy on stored candles, or many genomes at once with ``--batch``."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mastertrade.cli.output import JsonOption, info, print_json, print_table
from mastertrade.cli.runtime import open_db, run, settings
from mastertrade.cli.series_options import EndOption, StartOption, date_range, given_timeframe

if TYPE_CHECKING:
    from mastertrade.engine.research.series import Series


class EngineName(StrEnum):
    fast = "fast"
    reference = "reference"


def backtest(
    strategy: Annotated[
        str | None,
        typer.Argument(
            help="A built-in name (sma_cross, ema_cross, rsi_reversion, macd_trend, bollinger_reversion,"
            " breakout), a genome JSON file, a stored strategy id, a plugin name or `model:<id>` (a trained"
            " policy, see mt rl).",
            show_default=False,
        ),
    ] = None,
    symbol: Annotated[
        str | None, typer.Option("--symbol", help="Market symbol, e.g. BTC/USDT (default: the strategy's).")
    ] = None,
    timeframe: Annotated[
        str | None, typer.Option("--timeframe", help="Bar length, e.g. 1h (default: the strategy's).")
    ] = None,
    exchange: Annotated[
        str | None, typer.Option("--exchange", help="Whose stored candles, when several have the series.")
    ] = None,
    start: Annotated[str | None, StartOption] = None,
    end: Annotated[str | None, EndOption] = None,
    cash: Annotated[
        float | None, typer.Option("--cash", help="Starting cash (default: [backtest] cash, 10,000).")
    ] = None,
    fee: Annotated[
        float | None,
        typer.Option("--fee", help="Fee per side, a fraction of notional (default: [backtest] fee, 0.001)."),
    ] = None,
    engine: Annotated[
        EngineName, typer.Option("--engine", help="fast (numba) or reference (backtesting.py); they agree.")
    ] = EngineName.fast,
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot",
            help="Also write backtesting.py's interactive chart to this HTML file (its folder must exist).",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite the --plot file if it exists (kept otherwise).")
    ] = False,
    batch: Annotated[
        Path | None,
        typer.Option(
            "--batch",
            help="Backtest every genome of this JSON-lines file (one genome a line) on one series and print"
            " one JSON result a line, in input order (with --json: the same results as one JSON array).",
        ),
    ] = None,
    executor: Annotated[
        str | None,
        typer.Option(
            "--executor",
            help="With --batch: local (this process, every core) or dask (a Dask cluster, extra"
            " mastertrade[cluster]). Default: dask when [generator] executor is dask, else local.",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="With --batch --executor dask: the scheduler's tcp://HOST:PORT (default: [generator]"
            " scheduler; none starts a LocalCluster on this machine).",
        ),
    ] = None,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Backtest a strategy on stored candles and print its metrics.

    Signals are read at each bar's close and filled at the next bar's open; the fee is paid on both
    sides; stops are checked inside each bar against its low and high. Get candles first with
    `mt data download`, `mt data sim` or `mt data import`. Results on simulated data are labelled so.
    """
    import mastertrade.engine.backtest  # noqa: F401  (numba's cache folder, before anything loads numba)
    from mastertrade.engine.backtest.result import check_chart_path, check_costs
    from mastertrade.errors import UserInputError

    config = settings().backtest
    cash = config.cash if cash is None else cash
    fee = config.fee if fee is None else fee
    check_costs(cash, fee)
    given_timeframe(timeframe)
    if plot is not None:
        from mastertrade.cli.out_file import check_out

        check_chart_path(plot)
        check_out(plot, force=force)  # a file of yours is kept: refused before any work
    elif force:
        raise UserInputError("--force overwrites the --plot file; give --plot FILE.html")
    start_ms, end_ms = date_range(start, end)

    if (executor is not None or scheduler is not None) and batch is None:
        option = "--executor" if executor is not None else "--scheduler"
        raise UserInputError(f"{option} applies to --batch only")
    if batch is not None:
        where = _batch_executor(executor, scheduler)
        if strategy is not None:
            raise UserInputError(f"give either STRATEGY ({strategy!r}) or --batch FILE, not both")
        if plot is not None:
            raise UserInputError("--plot draws one backtest; it does not combine with --batch")
        _run_batch(
            batch, symbol, timeframe, exchange, start_ms, end_ms, cash, fee, engine.value, where, json_out
        )
        return
    if strategy is None:
        raise UserInputError("missing STRATEGY: a built-in name, a genome file or a plugin name (or --batch)")

    from mastertrade.cli.strategy import stored_lookup
    from mastertrade.engine.signals.loader import load_strategy

    loaded = load_strategy(strategy, symbol, timeframe, stored=stored_lookup(strategy))
    symbol = symbol or getattr(loaded, "symbol", None)
    timeframe = timeframe or getattr(loaded, "timeframe", None)
    if not symbol:
        raise UserInputError(f"missing --symbol: strategy {strategy!r} does not name one")
    if not timeframe:
        raise UserInputError(f"missing --timeframe: strategy {strategy!r} does not name one")
    from mastertrade.cli.series_options import own_exchange

    exchange = own_exchange(strategy, symbol, timeframe, exchange)
    series, cut = _read_series(symbol, timeframe, exchange, start_ms, end_ms, [loaded])
    key = series.key
    from mastertrade.cli.research_notes import say_what_selection_saw

    say_what_selection_saw(strategy, loaded, series)

    from mastertrade.engine.backtest.params import order_params
    from mastertrade.engine.research.backtest import backtest_series

    started = time.perf_counter()
    done = backtest_series(
        loaded,
        series,
        cash=cash,
        fee=fee,
        engine=engine.value,
    )
    result = done.result
    seconds = time.perf_counter() - started
    name = str(getattr(loaded, "name", strategy))
    if plot is not None:
        # The chart is backtesting.py's: drawn from a reference run of the same signals (the engines
        # agree trade for trade), headed with what it shows.
        from mastertrade.cli.out_file import write_out_with
        from mastertrade.engine.backtest.reference import run_reference

        title = f"{name}: {key.exchange} {key.symbol} {key.timeframe}, {engine.value} engine"
        write_out_with(
            plot,
            lambda partial: run_reference(
                series.frame,
                done.entries,
                done.exits,
                order_params(loaded),
                cash=cash,
                fee=fee,
                plot=partial,
                plot_title=title,
                simulated=key.simulated,
            ),
            force=force,
        )

    metrics = result.metrics()
    warmup = int(getattr(loaded, "warmup", 0))
    reason = None
    if metrics["trades"] == 0 and not result.open_trade:
        from mastertrade.engine.backtest.no_trades import no_trade_reason

        reason = no_trade_reason(name, warmup, done.entries[done.begin :], done.exits[done.begin :])
        info(reason)
    from mastertrade.cli.research_notes import warn_missing_bars, warn_note
    from mastertrade.engine.backtest.unit_cost import coarse_units
    from mastertrade.engine.generator.holdout import buy_and_hold
    from mastertrade.engine.generator.report import versus_buy_and_hold, versus_cash

    # the naive baselines over the same bars, cash and fee: a figure means little without them
    baseline = buy_and_hold(done.window, cash=cash, fee=fee)
    behind = versus_buy_and_hold(metrics, baseline, " over the same bars")
    below_cash = versus_cash(metrics, " over the same bars")
    coarse = coarse_units(done.window, cash)
    warn_note(coarse)
    missing = warn_missing_bars(done.window, key.timeframe, key.symbol)
    document: dict[str, Any] = {
        **metrics,
        "engine": engine.value,
        "strategy": name,
        "exchange": key.exchange,
        "symbol": key.symbol,
        "timeframe": key.timeframe,
        "simulated": key.simulated,
        "cash": cash,
        "fee": fee,
        "open_trade": result.open_trade,
        "warmup_bars": warmup,
        "no_trades_reason": reason,
        "buy_and_hold": baseline,
        "worse_than_buy_and_hold": bool(behind),
        "worse_than_cash": bool(below_cash),
        "coarse_units": coarse,
        "missing_bars": missing,
        **cut,
        "wall_time_s": seconds,
    }
    if plot is not None:
        document["plot"] = str(plot)
    if json_out:
        print_json(document)
    else:
        _print_table(document)
        for said in (below_cash, behind):
            if said:
                typer.echo(said.removeprefix("; "))


def _read_series(
    symbol: str,
    timeframe: str,
    exchange: str | None,
    start_ms: int | None,
    end_ms: int | None,
    genomes: Sequence[Any] = (),
) -> tuple[Series, dict[str, Any]]:
    """The candles to backtest on, and the stored alternative data (sentiment, fear & greed ...) the
    genomes' feature terms read (``research.series``); in a replay workspace only the bars closed by its
    market time, with what was left out after it (``market_time``, ``after_market_time_bars``: said on
    stderr, and empty elsewhere)."""
    from mastertrade.cli.series_options import replay_until
    from mastertrade.engine.market.as_of import left_out
    from mastertrade.engine.research.series import SeriesLoader

    config = settings()

    async def read() -> tuple[Series, dict[str, Any]]:
        db = await open_db(config)
        try:
            until = await replay_until(config, db, start_ms, end_ms)
            series = await SeriesLoader(db, stale="refuse").find(
                symbol, timeframe, exchange, genomes, start=start_ms, end=end_ms, until=until
            )
            return series, {} if until is None else await left_out(db, series.key, until)
        finally:
            await db.close()

    from mastertrade.cli.research_notes import say_market_time, warn_missing_features

    series, cut = run(read)
    key = series.key
    say_market_time(cut, f"{key.symbol} {key.timeframe}", "backtested on")
    warn_missing_features(series.features.missing() if series.features is not None else [])
    return series, cut


def _run_batch(
    path: Path,
    symbol: str | None,
    timeframe: str | None,
    exchange: str | None,
    start_ms: int | None,
    end_ms: int | None,
    cash: float,
    fee: float,
    engine: str,
    where: tuple[str, str | None] = ("local", None),
    json_out: bool = False,
) -> None:
    """One JSON result a line, in input order; with ``--json`` (one document, as every command's) the
    same results as one JSON array."""
    from mastertrade.engine.backtest.batch import read_genomes_jsonl, run_batch
    from mastertrade.errors import UserInputError

    genomes = read_genomes_jsonl(path)
    symbol = symbol or _agreed(genomes, "symbol")
    timeframe = timeframe or _agreed(genomes, "timeframe")
    if not symbol or not timeframe:
        missing = "--symbol" if not symbol else "--timeframe"
        raise UserInputError(f"missing {missing}: the genomes of {path} do not all name the same one")
    series, cut = _read_series(symbol, timeframe, exchange, start_ms, end_ms, genomes)
    key = series.key
    from mastertrade.cli.research_notes import warn_missing_bars, warn_note
    from mastertrade.engine.backtest.unit_cost import coarse_units

    coarse = coarse_units(series.frame, cash)
    warn_note(coarse)
    label: dict[str, Any] = {
        "coarse_units": coarse,
        "missing_bars": warn_missing_bars(series.frame, key.timeframe, key.symbol),
        "engine": engine,
        "exchange": key.exchange,
        "symbol": key.symbol,
        "timeframe": key.timeframe,
        "simulated": key.simulated,
        "cash": cash,
        "fee": fee,
        **cut,
    }
    started = time.perf_counter()
    if where[0] == "dask":
        from mastertrade.engine.generator.cluster_batch import run_batch_on_cluster

        label["executor"] = "dask"
        results = run_batch_on_cluster(
            genomes,
            series.frame,
            cash=cash,
            fee=fee,
            engine=engine,  # type: ignore[arg-type]
            features=series.features,
            scheduler=where[1],
        )
    else:
        cache = series.cache()
        results = run_batch(genomes, series.frame, cash=cash, fee=fee, engine=engine, cache=cache)  # type: ignore[arg-type]
    from mastertrade.engine.backtest.no_trades import warmup_reason
    from mastertrade.engine.generator.holdout import buy_and_hold
    from mastertrade.engine.generator.report import versus_buy_and_hold, versus_cash
    from mastertrade.engine.signals.genome import warmup_bars

    baseline = buy_and_hold(series.frame, cash=cash, fee=fee)  # the same bars for every genome

    bars = len(series.frame)
    starved = 0
    document: list[dict[str, Any]] = []
    for item in results:
        line = item.as_dict()
        warmup = warmup_bars(genomes[item.index])
        # a batch keeps no signals: it names the one cause it can tell from the series alone
        reason = (
            warmup_reason(item.name, warmup, bars) if line["trades"] == 0 and not item.open_trade else None
        )
        starved += reason is not None
        line |= {
            "warmup_bars": warmup,
            "no_trades_reason": reason,
            "buy_and_hold": baseline,
            "worse_than_buy_and_hold": bool(versus_buy_and_hold(line, baseline)),
            "worse_than_cash": bool(versus_cash(line)),
            **label,
        }
        if json_out:
            document.append(line)
        else:
            sys.stdout.write(json.dumps(line, allow_nan=False) + "\n")
    if json_out:
        print_json(document)
    sys.stdout.flush()
    seconds = time.perf_counter() - started
    info(
        f"backtested {len(genomes)} genomes on {key}{' (simulated data)' if key.simulated else ''}"
        f" in {seconds:.2f} s ({_rate(len(genomes) / seconds)} a second)"
    )
    if starved:
        info(
            f"{starved:,} of them made no trade: their indicator warm-up leaves no bar of the {bars:,} to"
            " trade on (see no_trades_reason; give more bars)"
        )


def _batch_executor(executor: str | None, scheduler: str | None) -> tuple[str, str | None]:
    """Where a batch runs: ("local", None) or ("dask", scheduler address or None for a LocalCluster)."""
    from mastertrade.engine.generator.cluster_address import check_executor, probe

    config = settings().generator
    kind = executor or ("dask" if config.executor == "dask" else "local")
    check_executor(kind, ("local", "dask"), scheduler, what=" for --batch")
    if kind == "local":
        return kind, None
    address = scheduler or config.scheduler
    if address is not None:
        probe(address)  # nothing listening there: say so before the series is read
    return kind, address


def _agreed(genomes: list[Any], field: str) -> str | None:
    values = {getattr(genome, field) for genome in genomes}
    return values.pop() if len(values) == 1 else None


def _print_table(doc: dict[str, Any]) -> None:
    def number(value: float | None, unit: str = "", digits: int = 2) -> str:
        return "n/a" if value is None else f"{value:,.{digits}f}{unit}"

    series = f"{doc['exchange']}:{doc['symbol']}:{doc['timeframe']}"
    rows = [
        ("strategy", doc["strategy"]),
        ("series", series + (" (SIMULATED)" if doc["simulated"] else "")),
        ("return", number(doc["return_pct"], " %")),
        ("CAGR", number(doc["cagr_pct"], " %")),
        ("Sharpe", number(doc["sharpe"])),
        ("Sortino", number(doc["sortino"])),
        ("Calmar", number(doc["calmar"])),
        ("max drawdown", number(doc["max_drawdown_pct"], " %")),
        ("win rate", number(doc["win_rate_pct"], " %")),
        ("profit factor", number(doc["profit_factor"])),
        ("trades", f"{doc['trades']:,}" + (" (+1 open)" if doc["open_trade"] else "")),
        ("exposure", number(doc["exposure_pct"], " %")),
        ("final equity", number(doc["final_equity"])),
        ("buy-and-hold return", number(doc["buy_and_hold"]["return_pct"], " %")),
        ("buy-and-hold Sharpe", number(doc["buy_and_hold"]["sharpe"])),
        ("start", doc["start"]),
        ("end", doc["end"]),
        ("bars", f"{doc['bars']:,}"),
        ("cash / fee", f"{doc['cash']:,.2f} / {doc['fee']:g}"),
        ("engine", f"{doc['engine']} ({doc['wall_time_s']:.3f} s)"),
    ]
    if "plot" in doc:
        rows.append(("chart", doc["plot"]))
    title = "Backtest on SIMULATED data" if doc["simulated"] else "Backtest"
    print_table(["metric", "value"], rows, title=title, right=["value"])


def _rate(per_second: float) -> str:
    """A rate in words a reader takes at a glance: whole numbers from 10 up, two significant digits
    below (0.37, not 0)."""
    return f"{per_second:,.0f}" if per_second >= 10 else f"{per_second:.2g}"
