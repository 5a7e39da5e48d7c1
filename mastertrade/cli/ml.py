"""``mt ml``: forecast models: train (walk-forward), evaluate on the hold-out, list, predict, show, delete;
the recorded trainings (``trials``).

Needs the ``[ml]`` extra; without it each command that trains or runs a model says how to install it
(exit 2); ``list``, ``show`` and ``delete`` read files only, ``trials`` the database only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mastertrade.cli.ml_models import IdArg as ModelIdArg
from mastertrade.cli.ml_models import YesOption
from mastertrade.cli.ml_trials import trials as list_trials
from mastertrade.cli.output import JsonOption, info, print_json, print_table, progress
from mastertrade.cli.research_notes import say_market_time, warn_note
from mastertrade.cli.runtime import open_db, run, settings
from mastertrade.cli.series_options import replay_until

if TYPE_CHECKING:
    from mastertrade.config import Settings
    from mastertrade.db.database import Database

Report = Callable[[int, int, str], None]

app = typer.Typer(
    help="Machine learning: next-bar return forecasts (LSTM-Transformer, LightGBM) as strategy features.",
    no_args_is_help=True,
)

ModelArg = Annotated[str, typer.Argument(help="lstm_transformer or lightgbm.", show_default=False)]
SymbolOpt = Annotated[
    str | None, typer.Option("--symbol", help="Market symbol (default: the first of [market] symbols).")
]
TimeframeOpt = Annotated[
    str | None, typer.Option("--timeframe", help="Bar length (default: [market] timeframe).")
]
ExchangeOpt = Annotated[
    str | None, typer.Option("--exchange", help="Whose stored candles, when several have the series.")
]
HorizonOpt = Annotated[
    int | None,
    typer.Option(
        "--horizon", min=1, max=48, help="Bars ahead the forecast looks (1..48; default: [ml] horizon)."
    ),
]
HoldoutOpt = Annotated[
    float, typer.Option("--holdout", help="Newest share of the forecast bars scored as the hold-out.")
]


def _check(model: str | None = None) -> None:
    from mastertrade.errors import UserInputError
    from mastertrade.extras import FORECAST_MODULES, require

    if model is None:
        return
    if model not in FORECAST_MODULES:
        raise UserInputError(f"unknown model {model!r} (choose {', '.join(FORECAST_MODULES)})")
    require(*FORECAST_MODULES[model])


def _market(config: Settings, symbol: str | None, timeframe: str | None) -> tuple[str, str]:
    from mastertrade.engine.market.timeframes import check_timeframe

    # only a missing option takes the default: an empty one is a bad value, refused naming it (it
    # trained, evaluated and forecast the first configured market without a word)
    timeframe = config.market.timeframe if timeframe is None else timeframe
    check_timeframe(timeframe, what="--timeframe")
    return config.market.symbols[0] if symbol is None else symbol, timeframe


def _with_db[T](config: Settings, description: str, work: Callable[[Database, Report], Awaitable[T]]) -> T:
    """Run ``work`` on the open database under a progress bar on stderr (``work`` may move it), then
    close the database: every ``mt ml`` command that reads the store goes through here."""
    with progress() as bar:
        task = bar.add_task(description, total=None)

        def report(done: int, total: int, message: str) -> None:
            bar.update(task, completed=done, total=total, description=message)

        async def main() -> T:
            db = await open_db(config)
            try:
                return await work(db, report)
            finally:
                await db.close()

        return run(main)


def _pct(value: Any) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _num(value: Any, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _holdout_title(report: dict[str, Any]) -> str:
    bars = report["bars"]
    title = f"hold-out: {bars} bar{'' if bars == 1 else 's'}"
    if "start" in report:
        # the stored model was trained on these bars too: the scores are the walk-forward's forecasts
        title += (
            f", {report['start']} .. {report['end']}, each forecast made by a model trained before its bar"
        )
    return title


def _print_evaluation(report: dict[str, Any]) -> None:
    if not report.get("bars"):
        typer.echo(f"evaluation: {report['verdict']}")
        return
    rows = [
        (
            label,
            _pct(scores["directional_accuracy"]),
            _num(scores["rank_ic"]),
            f"{scores['mse']:.3g}",
        )
        for label, scores in (
            ("model", report["model"]),
            ("zero return", report["zero_return"]),
            ("last return", report["last_return"]),
        )
    ]
    typer.echo(_holdout_title(report))
    print_table(
        ["forecast", "direction hits", "rank IC", "mean sq. error"],
        rows,
        right=["direction hits", "rank IC", "mean sq. error"],
    )
    typer.echo(
        f"error ratio to zero-return: {_num(report['error_ratio_zero'])},"
        f" to last-return: {_num(report['error_ratio_last'])}; the model {report['verdict']}"
    )
    if report.get("holdout_note"):  # other trainings scored these bars (``engine/ml/trials.py``)
        typer.echo(report["holdout_note"])


def train(
    model: ModelArg,
    symbol: SymbolOpt = None,
    timeframe: TimeframeOpt = None,
    exchange: ExchangeOpt = None,
    horizon: HorizonOpt = None,
    train_bars: Annotated[
        int | None,
        typer.Option(
            "--train-bars", min=20, help="Labelled samples needed before the first model (default: [ml])."
        ),
    ] = None,
    retrain_every: Annotated[
        int | None, typer.Option("--retrain-every", min=1, help="Bars between retrainings (default: [ml]).")
    ] = None,
    max_train: Annotated[
        int | None,
        typer.Option("--max-train", min=20, help="Train on at most this many newest samples (20 or more)."),
    ] = None,
    window: Annotated[
        int | None, typer.Option("--window", min=4, help="Bars of features per sample (default: [ml]).")
    ] = None,
    epochs: Annotated[
        int | None,
        typer.Option(
            "--epochs",
            min=1,
            max=1000,  # the bounds of [ml] epochs: a slip of extra zeros is named, not trained for days
            help="Training epochs (lstm_transformer; 1..1000; default: [ml]).",
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            min=0,
            max=2**32 - 1,  # what numpy's and Keras's generators take: a larger one is named, not a traceback
            help="The same seed and data give the same forecasts (default: [ml] seed).",
        ),
    ] = None,
    holdout: HoldoutOpt = 0.25,
    feature: Annotated[
        list[str] | None,
        typer.Option(
            "--feature", help="A stored alternative-data feature to add to the inputs (repeatable)."
        ),
    ] = None,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Train a forecast model walk-forward on stored candles and store its forecasts as a feature series.

    Each forecast is made at a bar's close by a model trained only on labels known then; the model is
    retrained every `--retrain-every` bars. The forecasts are stored (usable in genomes as
    `{"feature": "forecast", "model": MODEL, "horizon": H}`), the model trained on all the data is saved
    as a versioned artifact, and the hold-out is scored against naive baselines. Every training is
    recorded in the workspace (its settings, hold-out bars and verdict; `mt ml trials` lists them): when
    trainings with other settings scored the same hold-out bars, the output says how many, since the one
    kept is then chosen on the hold-out and its verdict is not out-of-sample.

    The stored series of the model is replaced, which the output says. Refused (exit 2, nothing stored)
    while a strategy in paper, active or paused state reads it: the daemon's nightly refit keeps its past
    forecasts; retire the strategy or train another --horizon.
    """
    _check(model)
    from mastertrade.engine.generator.store import StrategyStore
    from mastertrade.engine.ml.models import ModelConfig
    from mastertrade.engine.ml.trainer import TrainRequest
    from mastertrade.engine.ml.trainer import train as run_training

    config = settings()
    symbol, timeframe = _market(config, symbol, timeframe)
    ml = config.ml
    request = TrainRequest(
        model=model,
        symbol=symbol,
        timeframe=timeframe,
        exchange=exchange,
        horizon=ml.horizon if horizon is None else horizon,
        train_bars=ml.train_bars if train_bars is None else train_bars,
        retrain_every=ml.retrain_every if retrain_every is None else retrain_every,
        max_train=max_train,
        seed=ml.seed if seed is None else seed,
        holdout=holdout,
        extra=tuple(feature or ()),
        config=ModelConfig(
            window=ml.window if window is None else window, epochs=ml.epochs if epochs is None else epochs
        ),
    )
    request.check()

    async def work(db: Database, report: Report) -> dict[str, Any]:
        until = await replay_until(config, db)
        return await run_training(
            db, request, strategies=StrategyStore(db), progress=report, by="mt ml train", until=until
        )

    summary = _with_db(config, f"training {model}", work)
    say_market_time(summary, summary["series"], "trained on")
    warn_note(summary["missing_note"])
    if json_out:
        print_json(summary)
        return
    artifact, retrains = summary["artifact"], summary["retrains"]
    typer.echo(
        f"{model} on {summary['series']}: {summary['forecasts']} walk-forward forecasts from"
        f" {summary['first_forecast']}, {retrains} retraining{'' if retrains == 1 else 's'};"
        f" model {artifact['version']}"
        f" trained on {artifact['train_start']} .. {artifact['train_end']}"
    )
    replaced = summary["replaced"]
    if replaced is not None:
        typer.echo(
            f"replaced the stored {model} forecasts (horizon {summary['horizon']}) of {summary['series']}:"
            f" {replaced['values']:,} values {replaced['first']} .. {replaced['last']} are now"
            f" {summary['forecasts']:,} values {summary['first_forecast']} .. {summary['last_forecast']}"
            " (no strategy in paper, active or paused state reads them)"
        )
    _print_evaluation(summary["evaluation"])


def evaluate(
    model: ModelArg,
    symbol: SymbolOpt = None,
    timeframe: TimeframeOpt = None,
    exchange: ExchangeOpt = None,
    horizon: HorizonOpt = None,
    holdout: HoldoutOpt = 0.25,
    threshold: Annotated[
        float,
        typer.Option(
            "--threshold", help="Enter when the forecast exceeds this log return; exit below minus it."
        ),
    ] = 0.0,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Score stored forecasts on the hold-out against the zero-return and last-return baselines, and
    backtest a plain forecast-threshold strategy there; says plainly when the model loses, and how many
    recorded trainings scored the same hold-out bars when more than one did (the verdict kept among them
    is not out-of-sample)."""
    _check(model)
    import math

    from mastertrade.engine.ml.trainer import evaluate_stored
    from mastertrade.errors import UserInputError

    if not math.isfinite(threshold) or threshold < 0:
        raise UserInputError(f"--threshold {threshold}: must be a finite number >= 0")
    config = settings()
    symbol, timeframe = _market(config, symbol, timeframe)
    horizon = config.ml.horizon if horizon is None else horizon

    async def work(db: Database, _: Report) -> dict[str, Any]:
        return await evaluate_stored(
            db,
            model,
            symbol,
            timeframe,
            exchange,
            horizon,
            holdout,
            threshold,
            cash=config.backtest.cash,
            fee=config.backtest.fee,
            until=await replay_until(config, db),
        )

    report = _with_db(config, f"evaluating {model} forecasts", work)
    say_market_time(report, report["series"], "evaluated on")
    if json_out:
        print_json(report)
        return
    typer.echo(f"{model} forecasts of {report['series']}, horizon {horizon}")
    _print_evaluation(report)
    if "backtest" in report:
        metrics = report["backtest"]["metrics"]
        trades = metrics["trades"]
        typer.echo(
            f"threshold strategy on the hold-out: return {metrics['return_pct']:.2f}%,"
            f" {trades} trade{'' if trades == 1 else 's'}"
            + (" (+1 open at its end)" if metrics.get("open_trade") else "")
            + ","
            f" buy-and-hold {report['backtest']['buy_and_hold_return_pct']:.2f}%;"
            f" {report['backtest']['verdict']}"
        )


def list_models(json_out: Annotated[bool, JsonOption] = False) -> None:
    """List the stored model artifacts: version (content hash), training range, hold-out verdict."""
    from mastertrade.artifacts import ArtifactStore
    from mastertrade.cli.ml_models import HOLDOUT_NOTE, settled, walk_forward_holdout

    store = settled(ArtifactStore.default())
    artifacts = store.list()
    if json_out:
        print_json(
            {
                "models": [a.as_dict() for a in artifacts],
                "unreadable": [{"path": str(p), "reason": r} for p, r in store.unreadable],
            }
        )
        return

    def verdict(metrics: dict[str, Any]) -> str:
        if "passed" in metrics:  # a policy: the generator's filter on its hold-out
            return "passed the filter" if metrics["passed"] else "failed the filter"
        return str(metrics.get("verdict", "-"))

    rows = [
        (
            f"{a.kind} {a.name}",
            f"{a.key.get('exchange')}:{a.key.get('symbol')} {a.key.get('timeframe')}"
            + (f" h{a.key['horizon']}" if "horizon" in a.key else ""),
            a.version,
            a.as_dict()["train_start"],
            a.as_dict()["train_end"],
            verdict(a.metrics),
        )
        for a in artifacts
    ]
    print_table(["model", "series", "version", "trained from", "to", "hold-out"], rows)
    if any(walk_forward_holdout(a.kind, a.metrics) is not None for a in artifacts):
        info(HOLDOUT_NOTE)
    for _path, reason in store.unreadable:
        info(f"unreadable artifact: {reason}")
    if not artifacts and store.unreadable:
        info("no readable models (train one with `mt ml train MODEL`)")
    elif not artifacts:
        info("no trained models yet (train one with `mt ml train MODEL`)")


def predict(
    model: ModelArg,
    symbol: SymbolOpt = None,
    timeframe: TimeframeOpt = None,
    exchange: ExchangeOpt = None,
    horizon: HorizonOpt = None,
    publish: Annotated[
        bool, typer.Option("--publish/--no-publish", help="Store the forecast in the feature series.")
    ] = True,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Forecast from the close of the newest stored bar with the newest trained model (in a replay
    workspace: of the last bar closed by its market time, with the newest model trained by then)."""
    _check(model)
    from mastertrade.engine.market.store import CandleStore
    from mastertrade.engine.ml.trainer import latest_model, predict_latest

    config = settings()
    symbol, timeframe = _market(config, symbol, timeframe)
    steps = config.ml.horizon if horizon is None else horizon

    async def forecast(db: Database, _: Report) -> dict[str, Any]:
        from mastertrade.engine.market.as_of import left_out, opened_before

        key = await CandleStore(db).resolve(symbol, timeframe, exchange)
        until = await replay_until(config, db)
        # in a replay workspace: the newest model trained by its market time, none that saw the bars after it
        loaded = await latest_model(model, key, steps, db=db, until=until)
        # in a replay workspace: from the close of the last bar closed by its market time
        at_bar = None if until is None else opened_before(until, key.timeframe) - 1
        result = await predict_latest(db, loaded, key, publish=publish, at_bar=at_bar)
        return result if until is None else {**result, **await left_out(db, key, until)}

    result = _with_db(config, f"loading {model} and forecasting", forecast)
    say_market_time(result, result["series"], "forecast from")
    if json_out:
        print_json(result)
        return
    value = result["forecast"]
    shown = "none (the window is incomplete)" if value is None else f"{value:+.5f} log return"
    if result["already_stored"]:
        shown += (
            f" (not stored: the series already holds {result['series_value']:+.5f} for this bar,"
            " the value strategies read)"
        )
    elif result["stored"]:
        shown += " (stored)"
    typer.echo(
        f"{model} {result['version']} on {result['series']}: forecast made at {result['published_at']}"
        f" for the next {steps} bar(s): {shown}"
    )


app.command("train")(train)
app.command("evaluate")(evaluate)
app.command("list")(list_models)
app.command("predict")(predict)
app.command("trials")(list_trials)


def show_model(ident: ModelIdArg, json_out: Annotated[bool, JsonOption] = False) -> None:
    """Show one stored model (forecast model or policy): id, series, training range, features, hold-out
    verdict, library versions, folder; or, for one that no longer loads, why."""
    from mastertrade.cli.ml_models import show

    show(ident, None, json_out)


def delete_model(
    ident: ModelIdArg,
    yes: Annotated[bool, YesOption] = False,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Delete one stored model. Refused, naming them, while strategies in paper, active or paused state
    rely on it (a policy they run; the newest forecast model of a series whose forecast they read).
    Its stored forecasts stay. Without --yes it says what it would delete and, at a terminal, asks."""
    from mastertrade.cli.ml_models import delete

    delete(ident, None, yes, json_out)


app.command("show")(show_model)
app.command("delete")(delete_model)
