"""``mt optimize``: tune a trader's own genome with Optuna under the hold-out, trial counting and PBO."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from mastertrade.cli.output import JsonOption, info, print_json, print_table
from mastertrade.cli.runtime import open_db, run, settings


def optimize(
    strategy: Annotated[
        str, typer.Argument(help="A built-in name, a genome JSON file or a stored strategy id.")
    ],
    symbol: Annotated[
        str | None, typer.Option("--symbol", help="Market symbol (default: the strategy's own).")
    ] = None,
    timeframe: Annotated[
        str | None, typer.Option("--timeframe", help="Bar length (default: the strategy's own).")
    ] = None,
    exchange: Annotated[
        str | None, typer.Option("--exchange", help="Whose stored candles, when several have the series.")
    ] = None,
    trials: Annotated[int, typer.Option("--trials", help="Optuna trials (parameter sets scored).")] = 100,
    seed: Annotated[
        int, typer.Option("--seed", help="Sampler seed: the same seed and data, the same result.")
    ] = 0,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the best genome to this JSON file.")
    ] = None,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Tune the numeric parameters of a genome (indicator settings, stops) on the search window with
    Optuna, then score the best once on the hold-out the tuning never saw and judge it with the default
    filter; the trials join the series' trial registry, and the report gives the deflated Sharpe ratio
    over every trial counted and the probability of backtest overfitting of the tuning."""
    import mastertrade.engine.backtest  # noqa: F401  (numba's cache folder, before anything loads numba)
    from mastertrade.cli.strategy import stored_lookup
    from mastertrade.engine.generator.optimize import optimize as run_optimize
    from mastertrade.engine.signals.loader import load_strategy
    from mastertrade.errors import UserInputError

    if trials < 1:
        raise UserInputError(f"invalid --trials {trials}: must be >= 1")
    loaded = load_strategy(strategy, symbol, timeframe, stored=stored_lookup(strategy))
    genome = getattr(loaded, "genome", None)
    if genome is None:
        raise UserInputError(
            f"strategy {strategy!r} is a plugin: plugins declare no tunable parameters; optimize a genome"
        )
    symbol = symbol or loaded.symbol
    timeframe = timeframe or loaded.timeframe
    if not symbol:
        raise UserInputError(f"missing --symbol: strategy {strategy!r} does not name one")
    if not timeframe:
        raise UserInputError(f"missing --timeframe: strategy {strategy!r} does not name one")
    config = settings()

    async def main() -> dict[str, Any]:
        db = await open_db(config)
        try:
            return await run_optimize(
                db,
                config,
                genome,
                symbol=symbol,
                timeframe=timeframe,
                exchange=exchange,
                trials=trials,
                seed=seed,
            )
        finally:
            await db.close()

    report = run(main)
    from mastertrade.cli.generate import trimmed

    trimmed(report)  # on stderr: the older stored bars [generator] lookback_bars left out, if any
    if out is not None:
        import json

        out.write_text(json.dumps(report["best"]["genome"], indent=2) + "\n", encoding="utf-8")
        info(f"wrote the best genome to {out}")
    if json_out:
        print_json(report)
        return
    _print(report)


def _number(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _print(report: dict[str, Any]) -> None:
    best, original = report["best"], report["original"]
    rows = [
        ("original, search window", _number(original["search"].get("sharpe")),
         _number(original["search"].get("max_drawdown_pct")), original["search"].get("trades")),
        ("best, search window", _number(best["search"].get("sharpe")),
         _number(best["search"].get("max_drawdown_pct")), best["search"].get("trades")),
        ("best, hold-out (scored once)", _number(best["holdout"].get("sharpe")),
         _number(best["holdout"].get("max_drawdown_pct")), best["holdout"].get("trades")),
    ]  # fmt: skip
    print_table(
        ["", "Sharpe", "max DD %", "trades"],
        rows,
        title=f"Optimisation of {report['strategy']} on {report['symbol']} {report['timeframe']}"
        f" ({report['distinct_trials']} distinct of {report['trials']} trials)",
        right=["Sharpe", "max DD %", "trades"],
    )
    trials = report["deflated_trials"]
    pbo = report["pbo"]
    typer.echo(
        f"deflated Sharpe {_number(report['deflated_sharpe'], 3)} with N = {trials['trials']} trials on this"
        f" series; PBO {'n/a' if not pbo else format(pbo['pbo'], '.2f')}"
    )
    typer.echo(f"verdict: {report['verdict']}")
