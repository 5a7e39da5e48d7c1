"""``mt strategy parity``: paper trades against the backtest, trade by trade.

Given the id of a paper-stage strategy, the daemon compares the strategy's own paper book with a
backtest over the same bars. Given a strategy spec (a genome file or a built-in name) with --start (and
--symbol and --timeframe unless the genome names them, as for `mt backtest FILE`), it replays the stored
candles through a fresh paper book here (the paper broker the daemon runs, on a scratch database) and
compares that with a backtest of the same bars. Same trades are expected; every difference is listed.
Exit 1 when they differ.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mastertrade.cli.output import JsonOption, info, print_json, print_table


def parity(
    strategy: Annotated[
        str,
        typer.Argument(
            help="A paper-stage strategy id or unique prefix (the daemon compares its book), or a genome"
            " file/built-in."
        ),
    ],
    symbol: Annotated[
        str | None,
        typer.Option("--symbol", help="Replay: the symbol, e.g. BTC/USDT (default: the strategy's)."),
    ] = None,
    timeframe: Annotated[
        str | None,
        typer.Option("--timeframe", help="Replay: the timeframe, e.g. 1h (default: the strategy's)."),
    ] = None,
    start: Annotated[str | None, typer.Option("--start", help="Replay: first bar (ISO-8601 UTC).")] = None,
    end: Annotated[
        str | None, typer.Option("--end", help="Replay: end, exclusive (default: the last bar).")
    ] = None,
    exchange: Annotated[str | None, typer.Option("--exchange", help="Replay: the candles' exchange.")] = None,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Compare a strategy's paper trades with its backtest over the same bars."""
    from mastertrade.cli.series_options import given_timeframe
    from mastertrade.errors import OperationFailed

    given_timeframe(timeframe)
    if start is None and symbol is None and timeframe is None:
        from mastertrade.cli.daemon import with_client
        from mastertrade.errors import NotFound

        try:
            report: dict[str, Any] = with_client(lambda client: client.strategy_parity(strategy)).model_dump(
                mode="json"
            )
        except NotFound as exc:
            # Perhaps a genome file or built-in meant to be replayed: say how.
            raise NotFound(
                f"{exc}; to replay a genome file or built-in over stored candles, give --symbol,"
                " --timeframe and --start"
            ) from None
    else:
        report = _replay(strategy, symbol, timeframe, start, end, exchange)
    if json_out:
        print_json(report)
    else:
        _show(report)
    if not report["identical"]:
        raise OperationFailed(f"paper and backtest differ: {_summary(report)}")


def _summary(report: dict[str, Any]) -> str:
    return (
        f"{report['same']} same, {len(report['different'])} different, "
        f"{len(report['only_backtest'])} only in the backtest, {len(report['only_paper'])} only on paper"
    )


def _show(report: dict[str, Any]) -> None:
    simulated = " (SIMULATED)" if report.get("simulated") else ""
    info(
        f"{report.get('book') or 'replay'}{simulated}: {report.get('start')} .. {report.get('end')}:"
        f" {_summary(report)}"
    )
    rows = [
        (
            t["entry_time"],
            t["exit_time"] or "open",
            f"{t['entry_price']:.8g}",
            f"{t['size']:.8g}",
            t["reason"],
            "same",
        )
        for t in report["trades"]
    ]
    rows += [
        (
            d["entry_time"],
            "",
            "",
            "",
            "",
            "; ".join(f"{k}: {v[0]} vs {v[1]}" for k, v in d["differences"].items()),
        )
        for d in report["different"]
    ]
    rows += [
        (t["entry_time"], t["exit_time"] or "open", "", "", t["reason"], "backtest only")
        for t in report["only_backtest"]
    ]
    rows += [
        (t["entry_time"], t["exit_time"] or "open", "", "", t["reason"], "paper only")
        for t in report["only_paper"]
    ]
    print_table(["entry", "exit", "entry price", "size", "exit reason", "comparison"], sorted(rows))


def _replay(
    spec: str,
    symbol: str | None,
    timeframe: str | None,
    start: str | None,
    end: str | None,
    exchange: str | None,
) -> dict[str, Any]:
    from mastertrade.errors import UserInputError

    if start is None:
        raise UserInputError(
            "a replay needs --symbol, --timeframe and --start (or give a paper strategy's id alone)"
        )
    from mastertrade.cli.runtime import run, settings

    config = settings()

    async def main() -> dict[str, Any]:
        from mastertrade.cli.runtime import open_db
        from mastertrade.cli.series_options import replay_until
        from mastertrade.cli.strategy import _may_be_stored
        from mastertrade.engine.execution.parity_report import replay_parity
        from mastertrade.engine.generator.store import StrategyStore
        from mastertrade.engine.market.as_of import bounded, left_out
        from mastertrade.engine.market.timeframes import parse_when
        from mastertrade.engine.research.series import SeriesLoader
        from mastertrade.engine.signals.loader import load_strategy

        first = parse_when(start, what="--start date")
        last = parse_when(end, what="--end date") if end else None
        if last is not None and last <= first:
            raise UserInputError(f"invalid --end {end!r}: it must be after --start {start!r}")
        db = await open_db(config)
        try:
            # a replay workspace's store holds bars its replay has yet to play: read up to its market time
            until = await replay_until(config, db, first, last)
            stored = await StrategyStore(db).resolver(spec) if _may_be_stored(spec) else None
            strategy = load_strategy(spec, symbol, timeframe, stored=stored)
            # a genome file names its market, as `mt backtest FILE` reads it; the options override it
            if strategy.symbol is None or strategy.timeframe is None:
                missing = " and ".join(
                    option
                    for option, value in (("--symbol", strategy.symbol), ("--timeframe", strategy.timeframe))
                    if value is None
                )
                them = "them" if " and " in missing else "one"
                raise UserInputError(f"missing {missing}: strategy {spec!r} does not name {them}")
            loader = SeriesLoader(db)
            report = await replay_parity(
                loader,
                config,
                strategy,
                symbol=strategy.symbol,
                timeframe=strategy.timeframe,
                exchange=exchange,
                start=first,
                end=bounded(last, until, strategy.timeframe),
                start_text=start,
            )
            if until is None:
                return report
            key = await loader.candles.resolve(strategy.symbol, strategy.timeframe, exchange)
            return {**report, **await left_out(db, key, until), "series": f"{key.symbol} {key.timeframe}"}
        finally:
            await db.close()

    report = run(main)
    if "market_time" in report:
        from mastertrade.cli.research_notes import say_market_time

        say_market_time(report, report.pop("series"), "replayed")
    return report
