"""``mt ml trials``: every recorded training of a forecast model, newest first.

Each `mt ml train` (and each training the daemon's ``ml_retrain`` job runs) records its settings, the
hold-out bars its verdict was scored on and that verdict against the naive baselines
(``engine/ml/trials.py``); this lists them, so a trader sees how many settings were tried on a hold-out
before trusting the verdict kept. Needs no ``[ml]`` extra: it reads the database only.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mastertrade.cli.output import JsonOption, info, print_json, print_table
from mastertrade.cli.runtime import open_db, run


def trials(
    symbol: Annotated[str | None, typer.Option("--symbol", help="Only the trainings of this market.")] = None,
    timeframe: Annotated[
        str | None, typer.Option("--timeframe", help="Only the trainings on this bar length.")
    ] = None,
    exchange: Annotated[
        str | None, typer.Option("--exchange", help="Only the trainings on this exchange's candles.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000, help="How many, newest first.")] = 50,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """List the recorded trainings of forecast models, newest first: when, what settings, on which
    hold-out bars, and the verdict against the zero-return and last-return baselines.

    Trainings of one series whose hold-out bars overlap all looked at the same bars: keeping the best of
    them chooses on the hold-out. Deleting a model or training again keeps these records. A nightly refit
    (forecasts "stored") scored the stored series again and is listed, not counted as a look."""
    from mastertrade.engine.market.symbols import parse_symbol
    from mastertrade.engine.ml.trials import ForecastTrials

    wanted = None if symbol is None else parse_symbol(symbol, what="--symbol")

    async def fetch() -> list[dict[str, Any]]:
        db = await open_db()
        try:
            return await ForecastTrials(db).list(
                symbol=wanted, timeframe=timeframe, exchange=exchange, limit=limit
            )
        finally:
            await db.close()

    found = run(fetch)
    if json_out:
        print_json(found)
        return
    if not found:
        info("no recorded trainings yet: `mt ml train MODEL` records one")
        return
    print_table(
        ["id", "trained", "model", "series", "settings", "hold-out", "vs zero", "vs last", "verdict"],
        [_row(trial) for trial in found],
        right=["id", "vs zero", "vs last"],
    )


def _ratio(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}"


def _settings(settings: dict[str, Any]) -> str:
    """The settings a trader varies, in a few words (all of them are in --json)."""
    config = settings.get("config") or {}
    parts = [
        f"seed {settings.get('seed')}",
        f"window {config.get('window')}",
        f"train {settings.get('train_bars')}/{settings.get('retrain_every')}",
    ]
    if settings.get("model") == "lstm_transformer":
        parts.append(f"epochs {config.get('epochs')}")
    if settings.get("max_train") is not None:
        parts.append(f"max-train {settings['max_train']}")
    parts += [f"+{name}" for name in settings.get("features") or ()]
    return ", ".join(parts)


def _row(trial: dict[str, Any]) -> tuple[Any, ...]:
    holdout = trial["holdout"]
    evaluation = trial["evaluation"]
    return (
        trial["id"],
        f"{trial['trained_at']} ({trial['by']})",
        trial["model"] + (" (refit)" if trial["forecasts"] == "stored" else ""),
        f"{trial['series']} h{trial['horizon']}",
        _settings(trial["settings"]),
        "-" if holdout is None else f"{holdout['start']} .. {holdout['end']}",
        _ratio(evaluation.get("error_ratio_zero")),
        _ratio(evaluation.get("error_ratio_last")),
        trial["verdict"],
    )
