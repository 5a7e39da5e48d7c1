"""``mt rl``: reinforcement learning (extra ``[ml]``): train a PPO policy as a strategy of kind ``model``.

A trained policy is stored under the data dir and used everywhere a strategy is named, as
``model:<id>``: ``mt backtest model:<id>``, and the strategy commands that resolve a STRATEGY.
"""

from __future__ import annotations

import importlib.util
from typing import Annotated, Any

import typer

from mastertrade.cli.ml_models import IdArg, YesOption
from mastertrade.cli.output import JsonOption, info, print_json, print_table, progress
from mastertrade.cli.research_notes import say_market_time, warn_note
from mastertrade.cli.runtime import settings

app = typer.Typer(
    help="Reinforcement learning: a PPO trading policy as a strategy of kind model (needs the [ml] extra).",
    no_args_is_help=True,
)

_NEEDS = ("jax", "flax", "optax", "skrl", "gymnasium")


def require_ml() -> None:
    """Refuse (exit 2) with the install command when a library of the ``[ml]`` extra is missing."""
    from mastertrade.errors import UserInputError

    missing = [name for name in _NEEDS if importlib.util.find_spec(name) is None]
    if missing:
        raise UserInputError(
            f"mt rl needs the [ml] extra ({', '.join(missing)} not installed): "
            "pip install 'mastertrade[ml]' (or pipx inject mastertrade 'mastertrade[ml]')"
        )


@app.command("train")
def train(
    symbol: Annotated[str, typer.Option("--symbol", help="Market symbol, e.g. BTC/USDT.")],
    timeframe: Annotated[str, typer.Option("--timeframe", help="Bar length, e.g. 1h.")],
    exchange: Annotated[
        str | None, typer.Option("--exchange", help="Whose stored candles, when several have the series.")
    ] = None,
    steps: Annotated[
        int | None,
        typer.Option(
            "--steps",
            help="Training steps (bars stepped); default [rl] steps (20,000).",
            min=64,
            max=10_000_000,  # the bounds of [rl] steps: a slip of extra zeros is named, not trained for years
        ),
    ] = None,
    seed: Annotated[
        int,
        typer.Option(
            "--seed",
            min=0,
            max=2**32 - 1,  # what numpy's generator takes: a larger one is named, not a traceback
            help="Seed of the training (same seed, same policy).",
        ),
    ] = 0,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Train a PPO policy on the search window of a stored series and score it once on the hold-out.

    The newest [rl] holdout_fraction (25%) of the newest [rl] lookback_bars is never seen by training.
    The policy is stored as a versioned artifact (content hash, training range, features, library
    versions) and named `model:<id>`; backtest it with `mt backtest model:<id>`, trade it with
    `mt strategy add model:<id> --paper`. The hold-out result is put through the generator's filter
    (thresholds, and the deflated Sharpe ratio counting every candidate scored on the series, genomes
    included) and reported as is; the policy is recorded as one more trial of the series.
    """
    require_ml()
    from mastertrade.cli.runtime import open_db, run
    from mastertrade.cli.series_options import replay_until
    from mastertrade.engine.market.timeframes import check_timeframe
    from mastertrade.engine.rl.train import train_series

    check_timeframe(timeframe, what="--timeframe")
    config = settings()
    with progress() as bar:
        task = bar.add_task("training PPO", total=steps or config.rl.steps)

        def report(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        async def main() -> dict[str, Any]:
            db = await open_db(config)
            try:
                until = await replay_until(config, db)
                return await train_series(
                    db,
                    config,
                    symbol=symbol,
                    timeframe=timeframe,
                    exchange=exchange,
                    steps=steps,
                    seed=seed,
                    progress=report,
                    until=until,
                )
            finally:
                await db.close()

        document = run(main)
    say_market_time(document, f"{document['symbol']} {document['timeframe']}", "trained on")
    data = document["data"]
    if data["trimmed_bars"]:
        info(
            f"{document['symbol']} {document['timeframe']}: trained and held out the newest"
            f" {data['stored_bars'] - data['trimmed_bars']:,} of {data['stored_bars']:,} stored bars"
            f" ([rl] lookback_bars = {data['lookback_bars']:,}); the older {data['trimmed_bars']:,} bars"
            " were left out"
        )
    warn_note(document["missing_note"])
    if json_out:
        print_json(document)
        return
    _print(document)


def _print(doc: dict[str, Any]) -> None:
    from mastertrade.engine.ml.evaluation import versus_naive

    hold = doc["holdout"]
    series = f"{doc['exchange']}:{doc['symbol']}:{doc['timeframe']}" + (
        " (SIMULATED)" if doc["simulated"] else ""
    )

    def number(value: float | None, digits: int = 2) -> str:
        return "-" if value is None else f"{value:.{digits}f}"

    typer.echo(f"trained {doc['model']} on {series}, {doc['training']['start']}..{doc['training']['end']}")
    print_table(
        ["", "return %", "sharpe", "max dd %", "trades", "exposure %"],
        [
            [
                name,
                number(part["return_pct"]),
                number(part["sharpe"]),
                number(part["max_drawdown_pct"]),
                f"{part['trades']}" + (" (+1 open)" if part.get("open_trade") else ""),
                number(part["exposure_pct"], 1),
            ]
            for name, part in (("training window", doc["in_sample"]), ("hold-out", hold))
        ],
        right=["return %", "sharpe", "max dd %", "trades", "exposure %"],
    )
    typer.echo(
        f"hold-out: flat 0.00%, buy-and-hold {hold['buy_hold_return_pct']:.2f}%, deflated Sharpe "
        f"{number(hold['deflated_sharpe'], 3)} over {hold['trials']} trial(s) of the series"
    )
    typer.echo(versus_naive("the policy", hold["return_pct"] or 0.0, hold["buy_hold_return_pct"]))
    if hold["passed"]:
        typer.echo("filter: passed")
    else:
        typer.echo("filter: failed (" + "; ".join(hold["reasons"]) + ")")
    typer.echo(f"stored {doc['path']}  (backtest it: mt backtest {doc['model']})")


@app.command("list")
def list_models(json_out: Annotated[bool, JsonOption] = False) -> None:
    """Stored policies, newest first."""
    from mastertrade.artifacts import ArtifactStore
    from mastertrade.engine.signals.model.store import stored

    store = ArtifactStore.default()
    found = stored(store)
    for _, reason in store.unreadable:
        info(f"skipped an unreadable policy: {reason}")
    rows = [
        {
            "model": artifact.model,
            "symbol": artifact.symbol,
            "timeframe": artifact.timeframe,
            "exchange": artifact.exchange,
            "training_start": artifact.training.get("start"),
            "training_end": artifact.training.get("end"),
            "holdout_return_pct": artifact.evaluation.get("return_pct"),
            "deflated_sharpe": artifact.evaluation.get("deflated_sharpe"),
            "passed": artifact.evaluation.get("passed"),
        }
        for artifact in found
    ]
    if json_out:
        print_json(rows)
        return
    print_table(
        ["model", "series", "trained", "hold-out %", "DSR", "filter"],
        [
            [
                row["model"],
                f"{row['exchange']}:{row['symbol']}:{row['timeframe']}",
                f"{row['training_start']}..{row['training_end']}",
                "-" if row["holdout_return_pct"] is None else f"{row['holdout_return_pct']:.2f}",
                "-" if row["deflated_sharpe"] is None else f"{row['deflated_sharpe']:.3f}",
                "passed" if row["passed"] else "failed",
            ]
            for row in rows
        ],
    )
    if not rows and store.unreadable:
        # "no trained policies yet" under the line naming an unreadable one contradicted it
        info("no readable policies (train one with `mt rl train --symbol SYMBOL --timeframe TF`)")
    elif not rows:
        info("no trained policies yet (train one with `mt rl train --symbol SYMBOL --timeframe TF`)")


@app.command("show")
def show_policy(ident: IdArg, json_out: Annotated[bool, JsonOption] = False) -> None:
    """Show one stored policy: id, series, training range, hold-out result, library versions, folder."""
    from mastertrade.cli.ml_models import show

    show(ident, "policy", json_out)


@app.command("delete")
def delete_policy(
    ident: IdArg,
    yes: Annotated[bool, YesOption] = False,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Delete one stored policy. Refused, naming them, while strategies in paper, active or paused state
    run it (`model:ID`). Without --yes it says what it would delete and, at a terminal, asks."""
    from mastertrade.cli.ml_models import delete

    delete(ident, "policy", yes, json_out)
