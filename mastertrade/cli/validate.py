"""``mt validate``: an honest report on any strategy over a stored series (a report, not a gate)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mastertrade.cli.output import JsonOption, print_json, print_table
from mastertrade.cli.runtime import open_db, run, settings
from mastertrade.cli.series_options import (
    EndOption,
    ExchangeOption,
    StartOption,
    StrategyArgument,
    SymbolOption,
    TimeframeOption,
    date_range,
    own_exchange,
    replay_until,
    resolve,
)
from mastertrade.cli.series_options import number as _number
from mastertrade.engine.generator.deflated import MAX_TRIALS


def validate(
    strategy: Annotated[str, StrategyArgument],
    symbol: Annotated[str | None, SymbolOption] = None,
    timeframe: Annotated[str | None, TimeframeOption] = None,
    exchange: Annotated[str | None, ExchangeOption] = None,
    trials: Annotated[
        int | None,
        typer.Option(
            "--trials",
            help="How many strategies or settings you tried before settling on this one (default 1; for a"
            " generated strategy on its own series, the trials its generation counted; for a genome file"
            " `mt optimize --out` wrote, the trials its tuning counted; for a trained policy, the trials"
            " its hold-out counted).",
            show_default=False,
        ),
    ] = None,
    start: Annotated[str | None, StartOption] = None,
    end: Annotated[str | None, EndOption] = None,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Validate a strategy on stored candles: walk-forward metrics per window, the deflated Sharpe ratio
    for the number of trials you declare, 95% bootstrap intervals for the Sharpe ratio and the maximum
    drawdown, buy-and-hold as the baseline, and a plain verdict. Nothing is stored or changed.

    A generated strategy on its own series starts after the last bar its search saw (its hold-out and
    any bar since) and counts the trials its generation counted, with the variance of their Sharpe ratios
    observed then (what it was judged with); an earlier --start marks the windows its search saw. A
    genome file `mt optimize --out` wrote records its tuning: on the series it was tuned on it likewise
    starts after the tuning's search window and counts the tuning's trials, with their variance. A
    trained policy (model:ID) on its own series likewise starts after its training window and counts the
    trials its hold-out counted (`mt rl train`)."""
    from mastertrade.cli.strategy import stored_record
    from mastertrade.engine.generator.provenance import provenance_of
    from mastertrade.engine.generator.report import validate_series
    from mastertrade.errors import UserInputError

    if trials is not None and trials < 1:
        raise UserInputError(f"invalid --trials {trials}: must be >= 1")
    if trials is not None and trials > MAX_TRIALS:
        raise UserInputError(f"invalid --trials {trials}: at most {MAX_TRIALS:,}")
    start_ms, end_ms = date_range(start, end)
    loaded, symbol, timeframe = resolve(strategy, symbol, timeframe)
    exchange = own_exchange(strategy, symbol, timeframe, exchange)
    record = stored_record(strategy) if loaded.source == "stored" else None
    provenance = None if record is None else provenance_of(record)
    if loaded.source == "model":
        from mastertrade.cli.research_notes import trained_on

        provenance = trained_on(loaded)
    if loaded.source == "file":
        from mastertrade.engine.generator.tuned_file import provenance_in

        provenance = provenance_in(strategy)
    config = settings()

    async def main() -> dict[str, Any]:
        db = await open_db(config)
        try:
            until = await replay_until(config, db, start_ms, end_ms)
            return await validate_series(
                db,
                config,
                loaded,
                symbol=symbol,
                timeframe=timeframe,
                exchange=exchange,
                trials=trials,
                start_ms=start_ms,
                end_ms=end_ms,
                provenance=provenance,
                until=until,
            )
        finally:
            await db.close()

    report = run(main)
    from mastertrade.cli.research_notes import (
        say_market_time,
        warn_in_sample,
        warn_missing_features,
        warn_note,
        warn_registry_trials,
    )

    say_market_time(report, f"{report['symbol']} {report['timeframe']}", "validated on")
    warn_in_sample(strategy, provenance, report)
    warn_note(report.get("coarse_units"))
    warn_note(report.get("missing_note"))
    warn_registry_trials(report.get("registry_trials"))
    warn_missing_features(report.get("missing_features") or [])
    if json_out:
        print_json(report)
        return
    _print(report)


def _trades(part: dict[str, Any]) -> str:
    """Closed trades, and a position still open at the part's end (as `mt backtest` shows it)."""
    return f"{part.get('trades')}" + (" (+1 open)" if part.get("open_trade") else "")


def _print(report: dict[str, Any]) -> None:
    full = report["full"]
    series = f"{report['exchange']}:{report['symbol']}:{report['timeframe']}" + (
        " (SIMULATED)" if report["simulated"] else ""
    )
    typer.echo(f"Validation of {report['strategy']} on {series}, {full['start']} .. {full['end']}")
    origin = report.get("provenance") or {}
    seen_by = origin.get("seen_by")
    seen_mark = {"training": "trained", "tuning": "tuned"}.get(seen_by or "", "searched")
    rows = [
        (
            f"window {item['fold']}" + (f" ({seen_mark})" if item.get("seen_by_search") else ""),
            _number(item["in_sample"].get("sharpe")),
            f"{item['out_of_sample'].get('start')} .. {item['out_of_sample'].get('end')}",
            _number(item["out_of_sample"].get("sharpe")),
            _number(item["out_of_sample"].get("return_pct")),
            _number(item["out_of_sample"].get("max_drawdown_pct")),
            _trades(item["out_of_sample"]),
        )
        for item in report["walk_forward"]
    ]
    baseline = report["buy_and_hold"]
    rows.append(
        (
            "all bars",
            "",
            f"{full['start']} .. {full['end']}",
            _number(full.get("sharpe")),
            _number(full.get("return_pct")),
            _number(full.get("max_drawdown_pct")),
            _trades(full),
        )
    )
    rows.append(
        (
            "buy-and-hold",
            "",
            "same bars",
            _number(baseline.get("sharpe")),
            _number(baseline.get("return_pct")),
            _number(baseline.get("max_drawdown_pct")),
            baseline.get("trades"),
        )
    )
    print_table(
        ["part", "IS Sharpe", "out-of-sample bars", "Sharpe", "return %", "max DD %", "trades"],
        rows,
        right=["IS Sharpe", "Sharpe", "return %", "max DD %", "trades"],
    )
    deflated, boot = report["deflated"], report["bootstrap"]
    recorded = {
        "training": "trials (what its hold-out counted on this series when it was trained)",
        "tuning": f"trials (what its tuning counted on this series, as {origin.get('strategy')} records)",
    }.get(seen_by or "", "trials (what its generation counted on this series)")
    how = {
        "declared": "declared trial(s)",
        "default": "trial (assumed: no --trials and none recorded)",
        "recorded": recorded,
    }[deflated.get("trials_source", "declared")]
    from mastertrade.engine.generator.deflated import MIN_OBSERVATIONS
    from mastertrade.engine.market.timeframes import timeframe_ms

    short = deflated["days"] < MIN_OBSERVATIONS
    # the returns are daily, but one a bar on bars longer than a day: 350 weekly returns are no 350 days
    daily = timeframe_ms(report["timeframe"]) <= 86_400_000
    returns = "daily returns" if daily else f"returns (one a {report['timeframe']} bar)"
    typer.echo(
        f"deflated Sharpe {_number(deflated['deflated_sharpe'], 3)} for {deflated['trials']:,} {how}"
        + (f" over {deflated['days']:,} days" if daily else f" over {deflated['days']:,} {returns}")
        + (
            f", V = {deflated['trial_variance']:.5f} per day (observed among the trials it was chosen from)"
            if deflated.get("variance_source") == "recorded"
            else ""
        )
        + (f" (undefined: fewer than {MIN_OBSERVATIONS} {returns})" if short else "")
    )
    if origin:
        subject = {
            "training": "trained policy: its training",
            "tuning": "tuned genome (mt optimize): its tuning",
        }.get(seen_by or "", "generated strategy: its search")
        typer.echo(
            f"{subject} saw the bars to {origin['searched_until']}; "
            + (
                "this report starts after them"
                if origin["start"].startswith("after its")
                else f"{origin['seen_bars']:,} of the bars here are among them (windows marked {seen_mark})"
                if origin["seen_bars"]
                else "none of the bars here are among them"
            )
        )
    if boot.get("max_drawdown_pct"):
        sharpe = (
            f"Sharpe {boot['sharpe'][0]:.2f} to {boot['sharpe'][1]:.2f}"
            if boot.get("sharpe")
            else "Sharpe undefined (the daily returns do not vary)"
        )
        typer.echo(
            f"95% block-bootstrap intervals: {sharpe},"
            f" max drawdown {boot['max_drawdown_pct'][0]:.1f}% to {boot['max_drawdown_pct'][1]:.1f}%"
        )
    typer.echo(f"verdict: {report['verdict']}")
