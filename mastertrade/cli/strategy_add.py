"""``mt strategy add``: store a strategy the trader chose (a genome file, a built-in, an installed
plugin or a trained policy, ``model:<id>``), bound to a symbol and timeframe, with its backtest attached
for reference (and a tuned genome file's record of its tuning); ``--paper`` puts it on paper trading at
once. From there it follows the same path as every stored strategy (``mt strategy activate`` for the
account, confirmed). The door is ``engine.generator.manual.add_strategy``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from mastertrade.cli.output import JsonOption, print_json

if TYPE_CHECKING:
    from mastertrade.engine.signals.strategy import Strategy


def add(
    spec: Annotated[
        str,
        typer.Argument(
            help="A genome JSON file, a built-in name (`mt strategy builtins`), an installed plugin or a"
            " trained policy (`model:<id>`, from `mt rl train`)."
        ),
    ],
    symbol: Annotated[str, typer.Option("--symbol", help="The symbol it trades, e.g. BTC/USDT.")],
    timeframe: Annotated[str, typer.Option("--timeframe", help="The timeframe it trades, e.g. 1h.")],
    exchange: Annotated[
        str | None, typer.Option("--exchange", help="The stored series' exchange for its report.")
    ] = None,
    paper: Annotated[bool, typer.Option("--paper", help="Put it on paper trading at once.")] = False,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Store a strategy of your own so it can trade (paper first; then `mt strategy activate`).

    Its backtest over the stored series is attached for reference (not as a gate, and not as
    out-of-sample evidence): the strategy is your choice. A genome file `mt optimize --out` wrote is
    stored with the record of its tuning (search window, trials, deflated Sharpe ratio), which `mt
    validate ID` and `mt strategy show ID` read as `mt validate FILE` does."""
    from mastertrade.cli.runtime import open_db, run, settings
    from mastertrade.cli.series_options import given_timeframe
    from mastertrade.client import daemon_running
    from mastertrade.engine.market.symbols import parse_symbol

    given_timeframe(timeframe)
    config = settings()
    # the daemon trades a strategy on the feed's symbol, stored upper case ([market] symbols): one typed
    # `btc/usdt` must be stored as that market, not as a second spelling no closed bar ever matches
    market = parse_symbol(symbol)

    async def main() -> tuple[dict[str, Any], Strategy, int | None]:
        from mastertrade.cli.series_options import replay_until
        from mastertrade.engine.generator.manual import add_strategy
        from mastertrade.engine.signals.loader import load_strategy

        strategy = load_strategy(spec, market, timeframe)
        db = await open_db(config)
        try:
            until = await replay_until(config, db)  # in a replay workspace, the bars it played
            stored = await add_strategy(
                db, config, strategy, spec=spec, exchange=exchange, paper=paper, until=until
            )
        finally:
            await db.close()
        return stored, strategy, until

    stored, strategy, until = run(main)
    from mastertrade.cli.research_notes import say_market_time, warn_policy_waits

    say_market_time(stored["report"], f"{stored['symbol']} {stored['timeframe']}", "backtested on")
    warn_policy_waits(strategy, until)
    untraded = False
    if stored["state"] == "paper":
        from mastertrade.cli.strategy import untraded_warning

        untraded = untraded_warning(stored["symbol"], stored["timeframe"])
    if json_out:
        print_json(stored)
        return
    report = stored["report"]
    # the result (its backtest, hold-out, tuning record and the stored line) on stdout, for a script to
    # read; the market-time note and warnings on stderr
    typer.echo(
        f"backtest on {report['series']} (for reference): return {report['return_pct']:.2f}%, "
        f"{report['trades']} trades, max drawdown {report['max_drawdown_pct']:.2f}%"
    )
    if "validation" in stored:  # a trained policy: the hold-out validation `mt rl train` ran
        held = stored["validation"]
        dsr = held["deflated_sharpe"]
        verdict = (
            "passed the filter"
            if held["passed"]
            else "failed the filter (" + "; ".join(held["reasons"]) + ")"
        )
        typer.echo(
            f"hold-out {held['holdout']['start']}..{held['holdout']['end']}: "
            f"return {held['return_pct']:.2f}%, "
            f"deflated Sharpe {'-' if dsr is None else f'{dsr:.3f}'} over {held['trials']} trials; {verdict}"
        )
    if "selection" in stored:  # a genome file `mt optimize --out` wrote: the record of its tuning
        _say_tuning(stored)
    if stored["state"] != "paper":
        nxt = f"`mt strategy paper {stored['id']}`"
    elif untraded:
        nxt = "it gets no bar to trade (see the warning)"
    elif run(daemon_running):  # the daemon's strategy source reads the store at each closed bar
        nxt = "the daemon trades it in its own paper book from the next closed bar"
    else:
        nxt = "it trades its own paper book once the daemon runs (`mt daemon start`)"
    market = f"{stored['symbol']} {stored['timeframe']}"
    typer.echo(f"stored {stored['id']} ({stored['name']}, {market}): {stored['state']}; {nxt}")


def _say_tuning(stored: dict[str, Any]) -> None:
    """What the stored record of its tuning says, and what `mt validate ID` makes of it: the attached
    backtest covers the bars the tuning searched, so it is in-sample."""
    record = stored["selection"]
    counted = record["deflated_trials"]
    trials = counted.get("trials_used", counted.get("trials"))
    dsr = record.get("deflated_sharpe")
    window, held = record["search_window"], record["holdout"]
    typer.echo(
        f"tuned by `mt optimize` on {record['symbol']} {record['timeframe']}: searched to {window['end']},"
        f" hold-out {held['start']}..{held['end']}, deflated Sharpe {'-' if dsr is None else f'{dsr:.3f}'}"
        f" over {'-' if trials is None else f'{trials:,}'} trials (stored with it); `mt validate"
        f" {stored['id']}` reports on the bars after its search window"
    )
