"""``mt generate``: search for strategies on stored candles, validate them honestly, store them."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mastertrade.cli.output import JsonOption, info, print_json, print_table, progress
from mastertrade.cli.runtime import open_db, run, settings

if TYPE_CHECKING:
    from mastertrade.config import Settings
    from mastertrade.db.database import Database
    from mastertrade.engine.generator.pipeline import GenerationRequest, GenerationSummary


def generate(
    count: Annotated[
        int | None,
        typer.Option(
            "--count", help="Distinct evaluated strategies to store (default: [generator] count, 500)."
        ),
    ] = None,
    symbol: Annotated[
        str | None, typer.Option("--symbol", help="Market symbol (default: the first of [market] symbols).")
    ] = None,
    timeframe: Annotated[
        str | None, typer.Option("--timeframe", help="Bar length (default: [market] timeframe).")
    ] = None,
    exchange: Annotated[
        str | None, typer.Option("--exchange", help="Whose stored candles, when several have the series.")
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option("--seed", help="Seed of the search: the same seed and data give the same strategies."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", help="Parallel workers (default: [generator] workers, one per core)."),
    ] = None,
    population: Annotated[
        int | None, typer.Option("--population", help="Individuals per generation (default: [generator]).")
    ] = None,
    generations: Annotated[
        int | None, typer.Option("--generations", help="Generations after the first (default: [generator]).")
    ] = None,
    symbols: Annotated[
        str | None,
        typer.Option(
            "--symbols",
            help="A universe: comma-separated symbols (A,B,C), each on every --timeframes; one run per"
            " series, one progress bar, a per-series summary.",
        ),
    ] = None,
    timeframes: Annotated[
        str | None,
        typer.Option(
            "--timeframes",
            help="A universe: comma-separated timeframes (1h,4h) for every symbol of --symbols (default:"
            " [market] symbols).",
        ),
    ] = None,
    universe: Annotated[
        bool,
        typer.Option(
            "--universe",
            help="Run the configured universe: [market] symbols x [generator] timeframes (default:"
            " [market] timeframe).",
        ),
    ] = False,
    executor: Annotated[
        str | None,
        typer.Option(
            "--executor",
            help="threads, processes or dask (default: [generator] executor). dask needs the extra"
            " mastertrade[cluster].",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="With --executor dask: the scheduler's tcp://HOST:PORT (default: [generator] scheduler;"
            " none starts a LocalCluster on this machine).",
        ),
    ] = None,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Generate strategies with a genetic search and store them with their validation.

    The search scores candidates by walk-forward on the search window only (the older 75% of the
    lookback); the newest 25% (the hold-out, [generator] holdout_fraction) is scored once, after
    selection, for the stored candidates. The filter, the deflated Sharpe ratio (counting every candidate
    ever tried on the series) and every out-of-sample figure come from the hold-out; search-window
    figures are shown as such. The run reports its probability of backtest overfitting (CSCV). See the
    strategies with `mt strategy list`, the runs with `mt strategy runs`.
    """
    started = time.perf_counter()
    with start_up():
        import mastertrade.engine.backtest  # noqa: F401  (numba's cache folder, before anything loads numba)
        from mastertrade.engine.generator.cluster_address import check_executor
        from mastertrade.engine.generator.pipeline import GenerationRequest
        from mastertrade.engine.market.timeframes import check_timeframe
        from mastertrade.errors import UserInputError

        config = settings()
        kind = executor or config.generator.executor
        check_executor(kind, ("threads", "processes", "dask"), scheduler)
        if symbols is not None and symbol is not None:
            raise UserInputError(f"give --symbol {symbol} or --symbols {symbols}, not both")
        if timeframes is not None and timeframe is not None:
            raise UserInputError(f"give --timeframe {timeframe} or --timeframes {timeframes}, not both")
        if universe or symbols is not None or timeframes is not None:
            from mastertrade.engine.generator.universe import series_of

            chosen = series_of(
                symbols.split(",") if symbols is not None else [symbol] if symbol else config.market.symbols,
                timeframes.split(",")
                if timeframes is not None
                else [timeframe]
                if timeframe
                else config.generator.timeframes or [config.market.timeframe],
                what="--timeframes" if timeframes is not None else "--timeframe",
            )
            template = GenerationRequest(
                symbol=chosen[0][0],
                timeframe=chosen[0][1],
                exchange=exchange,
                count=count,
                workers=workers,
                population=population,
                generations=generations,
                executor=kind,
                scheduler=scheduler,
            )
            _run_universe(config, template, chosen, seed, json_out)
            return
        symbol = symbol or config.market.symbols[0]
        timeframe = timeframe or config.market.timeframe
        check_timeframe(timeframe, what="--timeframe")
        request = GenerationRequest(
            symbol=symbol,
            timeframe=timeframe,
            exchange=exchange,
            count=count,
            seed=seed,
            workers=workers,
            population=population,
            generations=generations,
            executor=kind,
            scheduler=scheduler,
        )
        run_and_print(config, request, json_out, started=started)


@contextmanager
def start_up() -> Iterator[None]:
    """The garbage collector off while a one-shot command starts up: its imports build hundreds of
    thousands of objects that live to the exit and almost no garbage, and the collector's passes over
    them cost about 15% of the imports' time. ``run_and_print`` turns it back on once it has imported
    what the run needs and frozen it; so does leaving this block (a command that fails first)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def run_and_print(
    config: Settings, request: GenerationRequest, json_out: bool, *, started: float | None = None
) -> None:
    """One generation run with a progress bar on stderr, then its summary (``mt generate`` and
    ``mt optimize --evolve``). ``started``: when the command began (``time.perf_counter``); the
    summary's timings then say how long its start-up took (``startup_s``: imports, settings, opening
    the database), the seconds before the run's own ``total_s``."""
    from mastertrade.engine.generator.pipeline import generate as run_generation
    from mastertrade.engine.generator.pipeline import preload

    preload()
    with progress() as bar:
        task = bar.add_task("generating", total=None)

        def report(done: int, total: int, message: str) -> None:
            bar.update(task, completed=done, total=total, description=f"generating: {message}")

        running = 0.0  # when the run itself began (start-up over)

        async def main() -> GenerationSummary:
            nonlocal running
            db = await open_db(config)
            try:
                running = time.perf_counter()
                return await run_generation(
                    db, config, await as_of_replay(config, db, request), progress=report
                )
            finally:
                await db.close()

        # a one-shot command: what the imports built lives to the end, so the collector need not walk
        # it again and again while the search makes millions of short-lived objects
        gc.freeze()
        gc.enable()
        summary = run(main)
        # and what the run built lives to the exit too: the collection at interpreter exit then skips its
        # millions of objects (about a third of a second after a 500-strategy run)
        gc.freeze()
    if started is not None:
        summary.timings["startup_s"] = running - started
    doc = summary.as_dict()  # once: each strategy's row describes its rules (a genome parse each)
    from mastertrade.cli.research_notes import warn_note

    warn_note(doc["data"].get("coarse_units"))
    warn_note(doc["data"].get("missing_note"))
    forecasts_left_out(doc)
    if json_out:
        trimmed(doc)
        print_json(doc)
        return
    _print(doc)


def _run_universe(
    config: Settings,
    template: GenerationRequest,
    series: list[tuple[str, str]],
    seed: int | None,
    json_out: bool,
) -> None:
    from mastertrade.engine.generator.pipeline import preload
    from mastertrade.engine.generator.universe import SeriesOutcome, generate_universe

    started = time.perf_counter()
    preload()
    with progress() as bar:
        task = bar.add_task("generating", total=len(series))

        def report(done: float, total: float, message: str) -> None:
            bar.update(task, completed=done, total=total, description=f"generating: {message}")

        async def main() -> tuple[int, list[SeriesOutcome]]:
            db = await open_db(config)
            try:
                return await generate_universe(
                    db, config, await as_of_replay(config, db, template), series, seed=seed, progress=report
                )
            finally:
                await db.close()

        gc.freeze()  # as in run_and_print: the imports' objects, then the collector back on for the runs
        gc.enable()
        base, outcomes = run(main)
        gc.freeze()  # as in run_and_print: the exit's collection skips what the runs built
    docs = [outcome.as_dict() for outcome in outcomes]
    for outcome in outcomes:
        if outcome.summary is not None:
            trimmed(outcome.summary.as_dict())
            short_of_count(outcome.summary.as_dict())
            forecasts_left_out(outcome.summary.as_dict())
    ran = [doc for doc in docs if "run_id" in doc]
    totals = {
        "series": len(docs),
        "ran": len(ran),
        "skipped": len(docs) - len(ran),
        "stored": sum(doc["counts"]["stored"] for doc in ran),
        "passed": sum(doc["counts"]["passed"] for doc in ran),
        "scored": sum(doc["counts"]["scored"] for doc in ran),
    }
    seconds = time.perf_counter() - started
    if json_out:
        print_json(
            {
                "seed": base,
                "executor": template.executor,
                "counts": totals,
                "total_s": seconds,
                "series": docs,
            }
        )
        return

    def number(value: float | None) -> str:
        return "n/a" if value is None else f"{value:,.2f}"

    rows = [
        (
            doc["symbol"],
            doc["timeframe"],
            str(doc.get("run_id", "-")),
            str(doc["seed"]),
            f"{doc['counts']['stored']:,}" if "counts" in doc else "-",
            f"{doc['counts']['passed']:,}" if "counts" in doc else "-",
            number(doc.get("top_holdout_sharpe")),
            number(doc.get("median_holdout_sharpe")),
            number(doc.get("holdout_buy_and_hold_sharpe")),
            f"{doc['timings']['total_s']:.1f}" if "timings" in doc else "-",
            ("SIMULATED data" if doc.get("simulated") else "")
            if "run_id" in doc
            else f"skipped: {doc['skipped']}",
        )
        for doc in docs
    ]
    headers = ["symbol", "timeframe", "run", "seed", "stored", "passed", *_FIGURES, "time s", "note"]
    print_table(
        headers,
        rows,
        title=f"Generation over {len(docs)} series, universe seed {base}, executor {template.executor}",
        right=["run", "stored", "passed", *_FIGURES, "time s"],
    )
    info(
        f"stored {totals['stored']:,} strategies ({totals['passed']:,} passed the filter) on"
        f" {totals['ran']} of {totals['series']} series from {totals['scored']:,} scored candidates in"
        f" {seconds:.1f} s; see them with `mt strategy list`"
    )


_FIGURES = ("hold-out Sharpe, search's best", "median hold-out Sharpe", "buy-and-hold hold-out Sharpe")
"""A universe's per-series figures: the search's own pick, the middle of all, and the naive baseline."""


async def as_of_replay(config: Settings, db: Database, request: GenerationRequest) -> GenerationRequest:
    """``request`` reading only the bars closed by the replay's market time in a workspace that replays
    (``market.as_of.workspace_market_time``): strategies stored here may go on paper with the replay's
    daemon, which would then trade the very bars they were chosen on. Said by ``trimmed``."""
    from dataclasses import replace

    from mastertrade.engine.market.as_of import workspace_market_time

    if request.until is not None:
        return request
    return replace(request, until=await workspace_market_time(config, db))


def trimmed(doc: dict[str, Any]) -> None:
    """Say when the run left stored bars out, older ones (``lookback_bars``) or, in a replay workspace,
    those after its market time: nothing is cut silently."""
    data = doc.get("data") or {}
    from mastertrade.cli.research_notes import say_market_time

    say_market_time(
        data,
        f"{doc['symbol']} {doc['timeframe']}",
        "searched",
        ", and its daemon would trade these strategies on them",
    )
    if data.get("trimmed_bars"):
        series = f"{doc['symbol']} {doc['timeframe']}"
        info(
            f"{series}: searched the newest {data['bars']:,} of {data['stored_bars']:,} stored bars"
            f" ([generator] lookback_bars = {data['lookback_bars']:,}); the older {data['trimmed_bars']:,}"
            " bars were left out"
        )


def forecasts_left_out(doc: dict[str, Any]) -> None:
    """Say which stored forecasts the search left out, and why (their candles changed since training)."""
    from mastertrade.cli.research_notes import warn_note

    for reason in (doc.get("data") or {}).get("forecasts_left_out") or ():
        warn_note(f"{reason}; the search left that forecast out")


def short_of_count(doc: dict[str, Any]) -> None:
    """Say when a run stored fewer strategies than --count asked for, and why: nothing is cut silently."""
    counts = doc.get("counts") or {}
    asked, stored = counts.get("asked"), counts.get("stored", 0)
    if asked is None or stored >= asked:
        return
    from mastertrade.engine.generator.search import STALL_GENERATIONS

    if counts["generations"] >= counts["generation_limit"]:
        why = f"the search stops at generation {counts['generation_limit']:,}, its limit past --generations"
    else:
        why = (
            f"the search stops after {STALL_GENERATIONS} generations in a row that find no new distinct"
            " candidate"
        )
    info(
        f"{doc['symbol']} {doc['timeframe']}: stored {stored:,} of the {asked:,} strategies asked for"
        f" (--count): {counts['generations']:,} generations found {counts['distinct']:,} distinct"
        f" candidates, and {why}",
        style="yellow",
    )


def _print(doc: dict[str, Any]) -> None:
    counts, timings = doc["counts"], doc["timings"]
    series = f"{doc['exchange']}:{doc['symbol']}:{doc['timeframe']}" + (
        " (SIMULATED)" if doc["simulated"] else ""
    )

    def number(value: float | None, digits: int = 2) -> str:
        return "n/a" if value is None else f"{value:,.{digits}f}"

    rows = [
        (
            row["id"],
            row["state"],
            number(row["holdout_sharpe"]),
            number(row["holdout_return_pct"]),
            number(row["holdout_max_drawdown_pct"]),
            row["holdout_trades"],
            number(row["search_sharpe"]),
            number(row["deflated_sharpe"], 3),
            row["description"],
        )
        for row in sorted(doc["strategies"], key=lambda r: r["state"] != "passed")[:15]
    ]
    print_table(
        [
            "id",
            "state",
            "hold-out Sharpe",
            "hold-out ret %",
            "hold-out DD %",
            "hold-out trades",
            "search Sharpe",
            "deflated",
            "rules",
        ],
        rows,
        title=f"Generation run {doc['run_id']} on {series}, seed {doc['seed']} (best 15 by search fitness)",
        right=[
            "hold-out Sharpe",
            "hold-out ret %",
            "hold-out DD %",
            "hold-out trades",
            "search Sharpe",
            "deflated",
        ],
    )
    data, selection = doc["data"], doc.get("selection") or {}
    trials = selection.get("deflated_trials") or {}
    pbo = selection.get("pbo")
    info(
        f"searched {data['search_window']['start']} .. {data['search_window']['end']}"
        f" ({data['search_window']['bars']:,} bars); hold-out {data['holdout']['start']} .."
        f" {data['holdout']['end']} ({data['holdout']['bars']:,} bars), scored once after selection."
        f" Deflated Sharpe counts {trials.get('trials', 0):,} trials on this series"
        f" ({trials.get('this_run', 0):,} this run"
        + (
            f", {trials['counted_before']:,} of its candidates counted before on overlapping bars"
            if trials.get("counted_before")
            else ""
        )
        + "), variance of their Sharpe ratios"
        f" {_variance(trials)}; PBO "
        + ("n/a" if not pbo else f"{pbo['pbo']:.2f} over {pbo['trials']} candidates, {pbo['blocks']} blocks")
    )
    baseline_line(doc)
    trimmed(doc)
    short_of_count(doc)
    info(
        f"stored {counts['stored']} strategies ({counts['passed']} passed the filter, {counts['failed']}"
        f" failed) from {counts['scored']:,} scored candidates ({counts['distinct']:,} distinct) in"
        f" {timings['total_s']:.1f} s, {timings['evaluations_per_s']:,.0f} evaluations a second"
    )
    if counts["reference_disagreements"]:
        info(
            f"{counts['reference_disagreements']} finalist(s) failed: the reference engine disagreed",
            style="bold red",
        )


def baseline_line(doc: dict[str, Any]) -> None:
    """Buy-and-hold over the hold-out, and plainly which stored strategies (the passing ones first) do
    worse than it there: a strategy that cannot beat holding the coin has no edge worth its risk."""
    from mastertrade.engine.generator.pipeline import behind_baseline

    baseline = doc["data"].get("holdout_buy_and_hold") or {}
    bench = baseline.get("sharpe")
    if bench is None:
        return
    rows = doc["strategies"]
    passed = [row for row in rows if row["state"] == "passed"]
    behind = behind_baseline(passed or rows, baseline)
    which = "passing" if passed else "stored"
    text = (
        f"buy-and-hold over the hold-out: Sharpe {bench:.2f}, return"
        f" {_pct(baseline.get('return_pct'))}, drawdown {_pct(baseline.get('max_drawdown_pct'))};"
        f" {len(behind)} of the {len(passed or rows)} {which} strategies have a lower hold-out Sharpe ratio"
    )
    if behind and len(behind) == len(passed or rows):
        text += f": none of the {which} strategies beats holding {doc['symbol']} over these bars"
    info(text, style="yellow" if behind else None)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f}%"


def _variance(trials: dict[str, Any]) -> str:
    used = trials.get("variance_used")
    return "n/a" if used is None else f"{used:.5f} per day ({trials.get('variance_source')})"
