"""``mt generate``: search for strategies on stored candles, validate them honestly, store them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from mastertrade.cli.output import JsonOption, info, print_json, print_table, progress
from mastertrade.cli.runtime import open_db, run, settings

if TYPE_CHECKING:
    from mastertrade.engine.generator.pipeline import GenerationSummary


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
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Generate strategies with a genetic search and store them with their validation.

    The search scores candidates by walk-forward on the search window only (the older 75% of the
    lookback); the newest 25% (the hold-out, [generator] holdout_fraction) is scored once, after
    selection, for the stored candidates. The filter, the deflated Sharpe ratio (counting every candidate
    ever tried on the series) and every out-of-sample figure come from the hold-out; search-window
    figures are shown as such. The run reports its probability of backtest overfitting (CSCV). See the
    strategies with `mt strategy list`.
    """
    import mastertrade.engine.backtest  # noqa: F401  (numba's cache folder, before anything loads numba)
    from mastertrade.engine.generator.pipeline import GenerationRequest
    from mastertrade.engine.generator.pipeline import generate as run_generation
    from mastertrade.engine.market.timeframes import timeframe_ms

    config = settings()
    symbol = symbol or config.market.symbols[0]
    timeframe = timeframe or config.market.timeframe
    timeframe_ms(timeframe)
    request = GenerationRequest(
        symbol=symbol,
        timeframe=timeframe,
        exchange=exchange,
        count=count,
        seed=seed,
        workers=workers,
        population=population,
        generations=generations,
    )
    with progress() as bar:
        task = bar.add_task("generating", total=None)

        def report(done: int, total: int, message: str) -> None:
            bar.update(task, completed=done, total=total, description=f"generating: {message}")

        async def main() -> GenerationSummary:
            db = await open_db(config)
            try:
                return await run_generation(db, config, request, progress=report)
            finally:
                await db.close()

        summary = run(main)
    if json_out:
        print_json(summary.as_dict())
        return
    _print(summary.as_dict())


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
        f" ({trials.get('this_run', 0):,} this run); PBO "
        + ("n/a" if not pbo else f"{pbo['pbo']:.2f} over {pbo['trials']} candidates, {pbo['blocks']} blocks")
    )
    info(
        f"stored {counts['stored']} strategies ({counts['passed']} passed the filter, {counts['failed']}"
        f" failed) from {counts['scored']:,} scored candidates ({counts['distinct']:,} distinct) in"
        f" {timings['total_s']:.1f} s, {timings['evaluations_per_s']:,.0f} evaluations a second"
    )
    if counts["reference_disagreements"]:
        info(
            f"[bold red]{counts['reference_disagreements']} finalist(s) failed:"
            " the reference engine disagreed[/]"
        )
