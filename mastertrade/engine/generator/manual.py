"""A strategy the trader chose, stored so it can trade: the one door behind ``mt strategy add``.

Any genome (a file or a built-in) bound to a symbol and timeframe is stored like a generated one, and a
plugin (Python) strategy by its entry point name and order settings (``StrategyStore.add_plugin``; the
trading core loads the installed plugin back and trades it through the same bar clock and paper book as
a genome). Its history says it was added by hand, and a report is attached **for reference, not as a
gate**: the strategy is the trader's choice, so it is marked ``passed`` ("chosen by the trader") whatever
the report says, and ``--paper`` moves it on at once. From there it takes the same path as every stored
strategy: paper (its own paper book, held to its backtest by the parity monitor) -> active (``mt
strategy activate``, confirmed) -> paused/retired.

A trained policy (``model:<id>``) is stored like a plugin, by its spec, and also brings the hold-out
validation ``mt rl train`` ran once after training (:func:`model_validation`): its out-of-sample record
(the Kelly prior), its deflated Sharpe ratio and a history saying whether it passed the filter.

A genome file ``mt optimize --out`` wrote brings the record of its tuning (:mod:`.tuned_file`: its series,
search window, hold-out, the trials N and their variance V, the deflated Sharpe ratio over the hold-out),
stored as the strategy's ``selection`` (and that deflated Sharpe ratio as its own, on the market it was
tuned on). Stored without it, ``mt validate ID`` counted one trial and reported the bars the tuning searched
as out-of-sample, where ``mt validate FILE`` (and ``mt optimize``) counted N over the hold-out; with it, the
stored strategy reads as the file does. The record gives no Kelly prior: it holds no hold-out trades.

The report is the plain backtest of the strategy over the stored series (``research.backtest``), under
``metrics["report"]`` with ``kind = "backtest"``. It is not stored as out-of-sample (nothing here
separates a hold-out from what the trader looked at) and gives no Kelly prior: the sizer uses its
default fraction until the strategy has its own record. ``validation_report`` is the hook where the
honest hold-out report of ``mt validate`` replaces it once that engine is in the product.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mastertrade.errors import UserInputError

if TYPE_CHECKING:
    from mastertrade.config import Settings
    from mastertrade.db.database import Database
    from mastertrade.engine.generator.report import Provenance
    from mastertrade.engine.signals.strategy import Strategy


async def validation_report(
    db: Database, settings: Settings, strategy: Strategy, exchange: str | None, until: int | None = None
) -> dict[str, Any]:
    """The report attached to a strategy added by hand: its backtest over the stored series (module
    docstring); with ``until`` (a replay's market time, ``market.as_of``) over the bars closed by then,
    saying so (``market_time``, ``after_market_time_bars``)."""
    from mastertrade.engine.market.as_of import left_out
    from mastertrade.engine.research.backtest import backtest_series
    from mastertrade.engine.research.series import SeriesLoader

    assert strategy.symbol is not None and strategy.timeframe is not None
    series = await SeriesLoader(db, stale="refuse").find(
        strategy.symbol, strategy.timeframe, exchange, [strategy], until=until
    )
    backtest = backtest_series(strategy, series, cash=settings.backtest.cash, fee=settings.backtest.fee)
    return {
        "kind": "backtest",
        "note": "a plain backtest over the whole stored series, for reference: not out-of-sample",
        "series": str(series.key),
        "exchange": series.key.exchange,
        "simulated": series.key.simulated,
        **backtest.result.metrics(),
        **({} if until is None else await left_out(db, series.key, until)),
    }


async def add_strategy(
    db: Database,
    settings: Settings,
    strategy: Strategy,
    *,
    spec: str,
    exchange: str | None = None,
    paper: bool = False,
    until: int | None = None,
) -> dict[str, Any]:
    """Store ``strategy`` (a genome or a plugin, bound to its symbol and timeframe), its report attached,
    as ``passed``, or ``paper`` when asked; returns the stored strategy's summary and the report.
    ``until``: a replay's market time: the report reads only the bars closed by then."""
    from mastertrade.engine.generator.states import State
    from mastertrade.engine.generator.store import NewStrategy, StrategyStore
    from mastertrade.engine.generator.tuned_file import selection_in, tuned_provenance

    if strategy.symbol is None or strategy.timeframe is None:
        raise UserInputError(
            f"strategy {spec!r} needs a symbol and a timeframe: give --symbol and --timeframe"
        )
    model = model_validation(strategy) if strategy.source == "model" else None
    tuning = selection_in(spec) if strategy.source == "file" else None
    tuned = None if tuning is None else tuned_provenance(tuning, spec, f"{spec}: selection")
    report = await validation_report(db, settings, strategy, exchange, until)
    # the exchange whose bars the report read, even when there was only one to pick: once the market is
    # stored for another exchange too, the strategy's own series is still known
    exchange = exchange or report["exchange"]
    path: list[tuple[State, str]] = [
        (State.GENERATED, f"added by the trader from {spec}" + ("" if tuned is None else _tuned_by(tuned))),
        (State.BACKTESTED, "backtest attached for reference"),
        (State.PASSED, "chosen by the trader (the report is for reference, not a gate)"),
    ]
    if model is not None:
        path = list(model["path"])
    if paper:
        path.append((State.PAPER, "put on paper by the trader"))
    store = StrategyStore(db)
    if model is not None:  # a trained policy: stored by its model:<id>, with its hold-out validation
        stored = await store.add_plugin(
            strategy,
            exchange=exchange,
            metrics={"report": report},
            path=tuple(path),
            holdout=model["holdout"],
            deflated_sharpe=model["deflated_sharpe"],
            selection=model["selection"],
        )
    elif strategy.genome is None:  # a plugin: stored by its entry point name, loaded back to trade
        stored = await store.add_plugin(
            strategy, exchange=exchange, metrics={"report": report}, path=tuple(path)
        )
    else:
        stored = await store.add(
            NewStrategy(
                strategy.genome,
                exchange=exchange,
                metrics={"report": report},
                path=tuple(path),
                selection=tuning or {},
                deflated_sharpe=_tuned_sharpe(tuning, tuned, exchange, strategy),
            )
        )
    summary = {
        "id": stored.id,
        "name": stored.name,
        "state": stored.state.value,
        "symbol": stored.symbol,
        "timeframe": stored.timeframe,
        "report": report,
    }
    if model is not None:
        summary["validation"] = model["validation"]
    if tuning is not None:
        summary["selection"] = tuning
    return summary


def _tuned_sharpe(
    tuning: dict[str, Any] | None, tuned: Provenance | None, exchange: str, strategy: Strategy
) -> float | None:
    """The deflated Sharpe ratio its tuning said over its hold-out, stored as the strategy's when the
    tuning was on the market it trades (on another, the figure says nothing of it: a market it never saw)."""
    if tuning is None or tuned is None:
        return None
    assert strategy.symbol is not None and strategy.timeframe is not None
    if not tuned.applies(exchange, strategy.symbol, strategy.timeframe):
        return None
    value = tuning.get("deflated_sharpe")
    return None if value is None else float(value)


def _tuned_by(tuned: Provenance) -> str:
    """What the history of a strategy added from a tuned genome file says of its tuning."""
    from mastertrade.engine.market.timeframes import to_iso

    market = f"{tuned.exchange + ':' if tuned.exchange else ''}{tuned.symbol}:{tuned.timeframe}"
    trials = "" if tuned.trials is None else f"{tuned.trials:,} trials on "
    return f", tuned by `mt optimize` ({trials}{market}, searched to {to_iso(tuned.seen_until_ms)})"


def model_validation(strategy: Strategy) -> dict[str, Any]:
    """What a trained policy brings to the store: the hold-out validation ``mt rl train`` ran once after
    training (the generator's thresholds and the deflated Sharpe ratio over the series' trial registry),
    as a generated genome's is stored: the out-of-sample record (and so the Kelly prior), the deflated
    Sharpe ratio, the windows and the trials counted, and a history that says what it went through.

    A policy trades the market it was trained and validated on: another symbol or timeframe is refused
    (its hold-out says nothing about another market)."""
    from mastertrade.engine.generator.states import State
    from mastertrade.engine.signals.model.strategy import ModelStrategy

    plugin = strategy.plugin
    assert isinstance(plugin, ModelStrategy) and plugin.stored is not None
    trained = plugin.stored
    if (strategy.symbol, strategy.timeframe) != (trained.symbol, trained.timeframe):
        raise UserInputError(
            f"{trained.model} was trained and validated on {trained.symbol} {trained.timeframe}, not "
            f"{strategy.symbol} {strategy.timeframe}: give --symbol {trained.symbol} --timeframe "
            f"{trained.timeframe}, or train a policy on that market with `mt rl train`"
        )
    evaluation = trained.evaluation
    training = trained.training
    holdout = {key: value for key, value in evaluation.items() if key not in ("passed", "reasons")}
    window = {"start": evaluation.get("start"), "end": evaluation.get("end"), "bars": evaluation.get("bars")}
    deflated = evaluation.get("deflated_sharpe")
    dsr = "-" if deflated is None else f"{deflated:.3f}"
    if evaluation.get("passed"):
        trials = evaluation.get("trials")
        verdict = f"passed the filter on the hold-out (deflated Sharpe {dsr} over {trials} trials)"
    else:
        reasons = "; ".join(str(reason) for reason in evaluation.get("reasons", [])) or "not validated"
        verdict = f"chosen by the trader; its hold-out failed the filter: {reasons}"
    path = (
        (State.GENERATED, f"trained by `mt rl train` ({trained.model}, {training.get('algorithm')})"),
        (
            State.BACKTESTED,
            f"trained on {training.get('start')} to {training.get('end')}; hold-out {window['start']} to "
            f"{window['end']} scored once",
        ),
        (State.PASSED, verdict),
    )
    return {
        "path": path,
        "holdout": holdout,
        "deflated_sharpe": deflated,
        "selection": {
            "legacy": False,
            "holdout": window,
            "search_window": {
                "start": training.get("start"),
                "end": training.get("end"),
                "bars": training.get("bars"),
            },
            "deflated_trials": evaluation.get("deflated_trials", {"trials": evaluation.get("trials")}),
            "model": trained.model,
        },
        "validation": {
            "model": trained.model,
            "holdout": window,
            "return_pct": evaluation.get("return_pct"),
            "deflated_sharpe": deflated,
            "trials": evaluation.get("trials"),
            "passed": bool(evaluation.get("passed")),
            "reasons": list(evaluation.get("reasons", [])),
        },
    }
