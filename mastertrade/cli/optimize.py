"""``mt optimize``: tune a trader's own strategy under the hold-out, trial counting and PBO: a genome's or a
plugin's declared parameters with Optuna, or (``--evolve``) a genome's structure with the genetic search."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mastertrade.cli.output import JsonOption, info, print_json, print_table
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

if TYPE_CHECKING:
    from mastertrade.config import Settings
    from mastertrade.engine.signals.strategy import Strategy


MAX_TRIALS = 100_000
"""Most Optuna trials one run scores (as many as ``[generator] count`` stores at most): ``--trials 2**63``
scored until killed, its trials never joining the registry."""


def optimize(
    strategy: Annotated[str, StrategyArgument],
    symbol: Annotated[str | None, SymbolOption] = None,
    timeframe: Annotated[str | None, TimeframeOption] = None,
    exchange: Annotated[str | None, ExchangeOption] = None,
    start: Annotated[str | None, StartOption] = None,
    end: Annotated[str | None, EndOption] = None,
    trials: Annotated[
        int | None, typer.Option("--trials", help="Optuna trials (parameter sets scored; default 100).")
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            metavar="NAME",
            help="Tune only this parameter (repeat for several): a plugin's declared name, or a genome's"
            " slot as the report's `tuned` lists it. Default: every numeric one.",
        ),
    ] = None,
    seed: Annotated[
        int,
        typer.Option(
            "--seed", min=0, help="Seed (tuning: 0 to 4294967295): the same seed and data, the same result."
        ),
    ] = 0,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write the best genome to this JSON file, with the record of its tuning (its series,"
            " search window, trials and their variance) that `mt validate FILE` reads; a plugin's: its"
            " best parameter values.",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite OUT if it exists (a file of yours is kept otherwise).")
    ] = False,
    evolve: Annotated[
        bool,
        typer.Option(
            "--evolve",
            help="Evolve the genome's structure instead: a generation run (the genetic search) whose first"
            " generation is the genome and mutations of it; stored and reported like `mt generate`.",
        ),
    ] = False,
    count: Annotated[
        int | None, typer.Option("--count", help="With --evolve: strategies to store (default: [generator]).")
    ] = None,
    population: Annotated[
        int | None,
        typer.Option(
            "--population", help="With --evolve: individuals per generation (default: [generator])."
        ),
    ] = None,
    generations: Annotated[
        int | None,
        typer.Option(
            "--generations", help="With --evolve: generations after the first (default: [generator])."
        ),
    ] = None,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Tune a strategy on the search window, then score the best once on the hold-out the tuning never
    saw and judge it with the default filter. Genomes: the numeric parameters (indicator settings, stops)
    with Optuna, or the structure with --evolve. Plugins: the int and float parameters they declare. The
    trials join the series' trial registry; the report gives the deflated Sharpe ratio over every trial
    counted and the probability of backtest overfitting of the tuning.

    --start and --end narrow the series to the bars opening in [start, end), as in `mt backtest` and
    `mt validate`; the search window and the hold-out are then the older and newer parts of those bars
    (of the newest [generator] lookback_bars of them)."""
    from mastertrade.errors import UserInputError

    start_ms, end_ms = date_range(start, end)
    if trials is not None and trials < 1:
        raise UserInputError(f"invalid --trials {trials}: must be >= 1")
    if trials is not None and trials > MAX_TRIALS:
        raise UserInputError(f"invalid --trials {trials}: at most {MAX_TRIALS:,}")
    if not evolve:
        for name, value in (("--count", count), ("--population", population), ("--generations", generations)):
            if value is not None:
                raise UserInputError(f"{name} {value} applies to --evolve only")
    if force and out is None:
        raise UserInputError("--force overwrites the --out file; give --out FILE")
    loaded, symbol, timeframe = resolve(strategy, symbol, timeframe)
    exchange = own_exchange(strategy, symbol, timeframe, exchange)
    config = settings()
    if evolve:
        if trials is not None or param:
            given = "--trials" if trials is not None else "--param"
            raise UserInputError(f"{given} tunes parameters with Optuna; --evolve runs the genetic search")
        if out is not None:
            raise UserInputError(f"--out {out}: --evolve stores its strategies (see `mt strategy list`)")
        if start is not None or end is not None:
            given = f"--start {start}" if start is not None else f"--end {end}"
            raise UserInputError(
                f"{given}: --evolve runs the genetic search on the newest [generator] lookback_bars of the"
                " series, as `mt generate` does; a date range applies to the tuning with Optuna"
            )
        _evolve(
            config,
            loaded,
            strategy,
            symbol,
            timeframe,
            exchange,
            seed,
            count,
            population,
            generations,
            json_out,
        )
        return
    from mastertrade.engine.generator.optimize import MAX_SEED, subject_of
    from mastertrade.engine.generator.optimize import optimize as run_optimize

    if seed > MAX_SEED:  # --evolve's genetic search takes larger seeds: refused here, not in the option
        raise UserInputError(f"invalid --seed {seed}: the tuning's sampler takes 0 to {MAX_SEED}")

    subject_of(loaded, param or ())  # bad --param or nothing to tune: refused before any data is read
    if out is not None:
        from mastertrade.cli.out_file import check_out

        check_out(out, force=force)  # before the trials run and join the registry

    async def main() -> dict[str, Any]:
        db = await open_db(config)
        try:
            until = await replay_until(config, db, start_ms, end_ms)
            return await run_optimize(
                db,
                config,
                loaded,
                symbol=symbol,
                timeframe=timeframe,
                exchange=exchange,
                trials=100 if trials is None else trials,
                seed=seed,
                params=param or (),
                start_ms=start_ms,
                end_ms=end_ms,
                until=until,
            )
        finally:
            await db.close()

    report = run(main)
    _trimmed(report)
    from mastertrade.cli.research_notes import warn_note

    warn_note(report.get("coarse_units"))
    warn_note(report.get("missing_note"))
    if out is not None:
        import json

        best = report["best"]
        from mastertrade.cli.out_file import write_out

        if "genome" not in best:
            write_out(
                out, json.dumps({k: best[k] for k in ("plugin", "parameters")}, indent=2) + "\n", force=force
            )
            info(f"wrote the best parameters to {out}")
        else:
            from mastertrade.engine.generator.tuned_file import tuned_document

            # the genome with the record of its tuning (its series, search window, N and V): `mt validate
            # FILE` then starts after the searched bars and deflates as the tuning did
            write_out(out, json.dumps(tuned_document(report), indent=2) + "\n", force=force)
            info(f"wrote the best genome, with the record of its tuning, to {out}")
            same_bars = (f" --end {end}" if end is not None else "") + (
                f" --exchange {exchange}" if exchange is not None else ""
            )
            counted = report["deflated_trials"]
            trials = counted.get("trials_used", counted.get("trials"))
            info(
                f"its tuning searched the bars to {report['search_window']['end']}:"
                f" `mt validate {out}{same_bars}` reports on the bars after them (its hold-out, and any"
                f" stored since), counting the {trials:,} trials its deflated Sharpe ratio counted"
            )
    if json_out:
        print_json(report)
        return
    _print(report)


def _trimmed(report: dict[str, Any]) -> None:
    """On stderr: the older bars ``[generator] lookback_bars`` left out, if any (of the series, or of
    the bars in --start/--end): nothing is cut silently."""
    from mastertrade.cli.research_notes import say_market_time

    data = report.get("data") or {}
    say_market_time(data, f"{report['symbol']} {report['timeframe']}", "tuned on")
    span = data.get("range")
    if span is None:
        from mastertrade.cli.generate import trimmed

        # its market time said above, as a tuning's (generate's words are for strategies it stores)
        trimmed({**report, "data": {**data, "market_time": None}})
        return
    if data.get("trimmed_bars"):
        opening = " ".join(
            [
                *([f"from {span['start']}"] if span["start"] else []),
                *([f"before {span['end']}"] if span["end"] else []),
            ]
        )
        info(
            f"{report['symbol']} {report['timeframe']}: tuned on the newest {data['bars']:,} of the"
            f" {data['stored_bars']:,} bars opening {opening}"
            f" ([generator] lookback_bars = {data['lookback_bars']:,}); the older"
            f" {data['trimmed_bars']:,} bars were left out"
        )


def _evolve(
    config: Settings,
    loaded: Strategy,
    spec: str,
    symbol: str,
    timeframe: str,
    exchange: str | None,
    seed: int,
    count: int | None,
    population: int | None,
    generations: int | None,
    json_out: bool,
) -> None:
    from mastertrade.cli.generate import run_and_print
    from mastertrade.engine.generator.pipeline import GenerationRequest
    from mastertrade.errors import UserInputError

    if loaded.genome is None:
        raise UserInputError(
            f"strategy {spec!r} is a {loaded.source}, not a genome: --evolve grows a genome's rules"
        )
    request = GenerationRequest(
        symbol=symbol,
        timeframe=timeframe,
        exchange=exchange,
        count=count,
        seed=seed,
        population=population,
        generations=generations,
        trigger="optimize",
        seeds=(loaded.genome.bind(symbol, timeframe),),
    )
    run_and_print(config, request, json_out)


def _print(report: dict[str, Any]) -> None:
    best, original = report["best"], report["original"]
    rows = [
        ("original, search window", _number(original["search"].get("return_pct")),
         _number(original["search"].get("sharpe")), _number(original["search"].get("max_drawdown_pct")),
         original["search"].get("trades")),
        ("best, search window", _number(best["search"].get("return_pct")),
         _number(best["search"].get("sharpe")), _number(best["search"].get("max_drawdown_pct")),
         best["search"].get("trades")),
        ("best, hold-out (scored once)", _number(best["holdout"].get("return_pct")),
         _number(best["holdout"].get("sharpe")), _number(best["holdout"].get("max_drawdown_pct")),
         best["holdout"].get("trades")),
    ]  # fmt: skip
    baseline = report.get("holdout_buy_and_hold")
    if baseline:
        rows.append(
            ("buy-and-hold, hold-out", _number(baseline.get("return_pct")), _number(baseline.get("sharpe")),
             _number(baseline.get("max_drawdown_pct")), "")
        )  # fmt: skip
    print_table(
        ["", "return %", "Sharpe", "max DD %", "trades"],
        rows,
        title=f"Optimisation of {report['strategy']} on {report['symbol']} {report['timeframe']}"
        + (" (SIMULATED)" if report.get("simulated") else "")
        + f" ({report['distinct_trials']} distinct of {report['trials']} trials)",
        right=["return %", "Sharpe", "max DD %", "trades"],
    )
    if "parameters" in best:
        typer.echo(
            "best parameters: "
            + ", ".join(f"{name} = {value:g}" for name, value in best["parameters"].items())
        )
    trials = report["deflated_trials"]
    pbo = report["pbo"]
    before = trials.get("counted_before") or 0
    typer.echo(
        f"deflated Sharpe {_number(report['deflated_sharpe'], 3)} with N = {trials['trials']} trials on this"
        + (
            f" series ({before} of this run's counted before by a run on overlapping bars)"
            if before
            else " series"
        )
        + f" and V = {_number(trials.get('variance_used'), 5)} per day"
        f" ({trials.get('variance_source', 'n/a')}); PBO {'n/a' if not pbo else format(pbo['pbo'], '.2f')}"
    )
    typer.echo(f"verdict: {report['verdict']}")
