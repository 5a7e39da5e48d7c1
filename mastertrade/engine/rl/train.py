"""The use case behind ``mt rl train``: train a PPO policy on a series' search window, score it once on
the hold-out, store it as a versioned model artifact and record it as a trial.

The lookback is split as everywhere in MasterTrade: the newest ``holdout_fraction`` of the bars is the
hold-out, never seen by training; the policy is trained on the older bars (the search window). The
hold-out is then backtested once by the fast engine with the policy's own signals (the same path
``mt backtest model:<id>`` takes), compared with staying flat and with buy-and-hold, and put through
the generator's filter: the out-of-sample thresholds and the deflated Sharpe ratio. Like a genome's,
that ratio counts every candidate ever scored on overlapping bars of the series, genomes and policies
alike, from the trial registry (:mod:`mastertrade.engine.generator.trials`), which takes its ``N`` and
``V`` (:meth:`~mastertrade.engine.generator.trials.Tally.deflation`); each trained policy is recorded
there as one trial, with its per-day Sharpe ratio on the training window (what training selected on).

:func:`train_model` is the CPU-bound part (no database); :func:`train_series` the door the CLI calls:
read the series, tally the registry, train, record the trial.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mastertrade.engine.ml.stoppable import Check
from mastertrade.engine.rl.ppo import PPOSettings, Progress, train_ppo
from mastertrade.engine.signals.model.artifact import Policy, PolicyArtifact
from mastertrade.engine.signals.model.features import FEATURES, observations, raw_features, scaling
from mastertrade.engine.signals.model.strategy import ModelStrategy
from mastertrade.errors import UserInputError

if TYPE_CHECKING:
    import pandas as pd

    from mastertrade.artifacts import ArtifactStore
    from mastertrade.config import GeneratorSettings, Settings
    from mastertrade.db.database import Database
    from mastertrade.engine.backtest.result import BacktestResult
    from mastertrade.engine.generator.trials import Tally

MIN_BARS = 300
MIN_TRAINING_BARS = 200
"""Fewest bars of the search window a policy may be trained on (MIN_BARS less a 25% hold-out is 225)."""
TRIAL_SOURCE = "rl"
"""The trial registry's ``source`` of a trained policy."""


def split_bar(bars: int, holdout_fraction: float) -> int:
    """First bar of the hold-out."""
    return bars - max(2, round(bars * holdout_fraction))


@dataclass(frozen=True)
class Trained:
    """A training's outcome: the policy, its stored artifact (None when not stored), the JSON-safe
    report and the trial batch it adds to the registry."""

    policy: Policy
    stored: PolicyArtifact | None
    report: dict[str, Any]
    batch: Tally


def train_model(
    frame: pd.DataFrame,
    *,
    symbol: str,
    timeframe: str,
    exchange: str,
    ppo: PPOSettings,
    holdout_fraction: float = 0.25,
    episode_bars: int = 256,
    filter_settings: GeneratorSettings | None = None,
    cash: float = 10_000.0,
    fee: float = 0.001,
    prior: Tally | Callable[[], Tally] | None = None,
    store: ArtifactStore | None = None,
    save: bool = True,
    progress: Progress | None = None,
    check: Check | None = None,
) -> Trained:
    """Train, evaluate and (``save``) store in ``store`` (default: the data folder's). ``prior`` is the
    registry's tally of earlier trials on overlapping bars of the series (none: this is the first), or
    a function giving it, called once the policy is trained, when it is scored.
    ``check`` is called between rounds of training and before storing; it raises to stop the training
    (:mod:`mastertrade.engine.ml.stoppable`)."""
    from mastertrade.engine.backtest.fast import price_arrays, run_fast
    from mastertrade.engine.generator.trials import Tally
    from mastertrade.engine.market.timeframes import to_iso
    from mastertrade.engine.rl.env import TradingEnv
    from mastertrade.engine.signals.indicators import IndicatorCache

    bars = len(frame)
    if bars < MIN_BARS:
        raise UserInputError(f"too few candles to train on: {bars} (need at least {MIN_BARS})")
    started = time.perf_counter()
    split = split_bar(bars, holdout_fraction)
    if split < MIN_TRAINING_BARS:
        # A large [rl] holdout_fraction (the share kept out of training, not the share trained on) would
        # leave a handful of bars, most of them the features' warm-up: a policy of nothing, stored.
        raise UserInputError(
            f"too few candles to train on: [rl] holdout_fraction {holdout_fraction} of {bars} bars leaves"
            f" {split} for training (need at least {MIN_TRAINING_BARS}); it is the share kept for the"
            " hold-out: lower it, or store more candles"
        )
    cache = IndicatorCache(frame)
    raw = raw_features(cache)
    mean, std = scaling(raw[:split])
    env = TradingEnv(
        *price_arrays(frame), observations(raw, mean, std), cash=cash, fee=fee, start=0, end=split,
        episode_bars=min(episode_bars, split),
    )  # fmt: skip

    def report_progress(done: int, total: int) -> None:
        if check is not None:
            check()
        if progress is not None:
            progress(done, total)

    weights = train_ppo(env, ppo, report_progress)
    index: Any = frame.index
    ts = index.as_unit("ms").asi8
    training = {
        "start": to_iso(int(ts[0])),
        "end": to_iso(int(ts[split - 1])),
        "bars": split,
        "algorithm": "PPO (skrl, JAX)",
        **asdict(ppo),
        "episode_bars": min(episode_bars, split),
    }
    policy = Policy(
        features=FEATURES,
        mean=tuple(float(x) for x in mean),
        std=tuple(float(x) for x in std),
        weights=weights,
    )
    entries, exits = ModelStrategy(policy).signals(cache)
    holdout = run_fast(frame.iloc[split:], entries[split:], exits[split:], cash=cash, fee=fee)
    in_sample = run_fast(frame.iloc[:split], entries[:split], exits[:split], cash=cash, fee=fee)
    # The same weights trained again (same seed and data) are the same candidate, already counted.
    repeat = save and _already_stored(policy, store, exchange, symbol, timeframe)
    batch = Tally() if repeat else Tally.of(1, [_daily_sharpe(in_sample)[0]])
    if check is not None:
        check()
    earlier = prior() if callable(prior) else prior
    evaluation = _evaluate(holdout, frame.iloc[split:], (earlier or Tally()) + batch, filter_settings)
    stored = None
    if check is not None:
        check()  # a cancelled training stores nothing
    if save:
        from mastertrade.engine.signals.model.store import save as save_policy

        stored = save_policy(
            policy,
            exchange=exchange,
            symbol=symbol,
            timeframe=timeframe,
            train_start=int(ts[0]),
            train_end=int(ts[split - 1]),
            training=training,
            evaluation=evaluation,
            store=store,
        )
    report = {
        "model": None if stored is None else stored.model,
        "id": None if stored is None else stored.id,
        "path": None if stored is None else str(stored.artifact.path),
        "symbol": symbol,
        "timeframe": timeframe,
        "exchange": exchange,
        "training": training,
        "in_sample": {**_daily_sharpe(in_sample)[1], "open_trade": bool(in_sample.open_trade)},
        "holdout": evaluation,
        "libraries": None if stored is None else stored.artifact.libraries,
        "seconds": round(time.perf_counter() - started, 2),
    }
    return Trained(policy, stored, report, batch)


async def train_series(
    db: Database,
    settings: Settings,
    *,
    symbol: str,
    timeframe: str,
    exchange: str | None = None,
    steps: int | None = None,
    seed: int = 0,
    store: ArtifactStore | None = None,
    progress: Progress | None = None,
    until: int | None = None,
) -> dict[str, Any]:
    """Train on the newest ``[rl] lookback_bars`` of the stored series, counting and recording the trial
    in the registry; the report (:func:`train_model`) with the series' ``simulated`` flag. ``until``: a
    replay's market time (``market.as_of``): only the bars closed by then are read, and the report says it
    (``market_time``, ``after_market_time_bars``)."""
    import asyncio

    from mastertrade.engine.generator.pipeline import lookback_cut, read_series
    from mastertrade.engine.generator.trials import TrialRegistry
    from mastertrade.engine.market.as_of import left_out
    from mastertrade.engine.market.missing import missing_bars, missing_note
    from mastertrade.engine.ml.stoppable import run_stoppable

    config = settings.rl
    key, frame = await read_series(db, symbol, timeframe, exchange, config.lookback_bars, until=until)
    cut = {} if until is None else await left_out(db, key, until)
    # stored bars older than the lookback are left out of training and hold-out alike: said, as a
    # generation run says it (nothing is cut silently)
    trim = await lookback_cut(db, key, len(frame), config.lookback_bars, until=until)
    data = {name: trim[name] for name in ("stored_bars", "lookback_bars", "trimmed_bars")}
    if len(frame) < MIN_BARS:
        raise UserInputError(f"too few candles of {key} to train on: {len(frame)} (need at least {MIN_BARS})")
    registry = TrialRegistry(db)
    index: Any = frame.index
    ts = index.as_unit("ms").asi8
    span = (int(ts[0]), int(ts[-1]))
    loop = asyncio.get_running_loop()

    def prior(check: Check) -> Tally:
        # Tallied when the policy is scored, not when its training began: a training of the series that
        # finished in the meantime (another `mt rl train` at once) is one of the candidates it was chosen
        # beside, and counts.
        tallied = asyncio.run_coroutine_threadsafe(registry.tally(key, *span), loop)
        while True:
            try:
                return tallied.result(timeout=1.0)
            except TimeoutError:
                check()  # the caller cancelled meanwhile: its loop may close before it runs the tally

    trained = await run_stoppable(
        lambda check: train_model(
            frame,
            symbol=key.symbol,
            timeframe=key.timeframe,
            exchange=key.exchange,
            ppo=PPOSettings(steps=steps or config.steps, seed=seed),
            holdout_fraction=config.holdout_fraction,
            episode_bars=config.episode_bars,
            filter_settings=settings.generator,
            cash=settings.backtest.cash,
            fee=settings.backtest.fee,
            prior=lambda: prior(check),
            store=store,
            progress=progress,
            check=check,
        )
    )
    await registry.record(key, *span, trained.batch, source=TRIAL_SOURCE)
    # Bars missing inside the series: observations and episodes ran across them as if adjacent.
    missing = {
        "missing_bars": missing_bars(frame, key.timeframe)[0],
        "missing_note": missing_note(frame, key.timeframe, key.symbol),
    }
    return {**trained.report, "simulated": key.simulated, "data": data, **missing, **cut}


def _evaluate(
    result: BacktestResult,
    frame: pd.DataFrame,
    tally: Tally,
    limits_from: GeneratorSettings | None,
) -> dict[str, Any]:
    from mastertrade.config import GeneratorSettings
    from mastertrade.engine.generator.deflated import deflated_sharpe
    from mastertrade.engine.generator.holdout import buy_and_hold
    from mastertrade.engine.generator.validation import threshold_failures

    sharpe, metrics = _daily_sharpe(result)
    metrics["window"] = "holdout"
    # a position still open at the hold-out's end is no closed trade: said beside the count, as `mt
    # backtest` says it (a policy that bought and held read "0 trades")
    metrics["open_trade"] = bool(result.open_trade)
    deflated = None
    used: dict[str, Any] = {}
    skew, kurtosis = metrics.get("daily_skew"), metrics.get("daily_kurtosis")
    if sharpe is not None and skew is not None and kurtosis is not None:
        days = int(metrics["days"])
        deflation = tally.deflation(days)
        used = deflation.as_dict()
        deflated = deflated_sharpe(
            sharpe, days, skew, kurtosis, trials=deflation.trials, variance=deflation.variance
        )
    limits = limits_from if limits_from is not None else GeneratorSettings()
    reasons = threshold_failures(metrics, deflated, limits)
    # Entered by the engine at the first bar the policy can trade on and held, paying the same fees (as
    # `mt validate` and the generator's hold-out have it), so "beats buy-and-hold" compares like with like.
    buy_hold = float(buy_and_hold(frame, cash=result.cash, fee=result.fee)["return_pct"])
    return {
        **metrics,
        "daily_sharpe": sharpe,
        "flat_return_pct": 0.0,
        "buy_hold_return_pct": round(buy_hold, 4),
        "beats_flat": bool((metrics.get("return_pct") or 0.0) > 0.0),
        "beats_buy_hold": bool((metrics.get("return_pct") or 0.0) > buy_hold),
        "deflated_sharpe": deflated,
        "trials": tally.trials,
        "deflated_trials": tally.as_dict() | used,
        "passed": not reasons,
        "reasons": reasons,
    }


def _already_stored(
    policy: Policy, store: ArtifactStore | None, exchange: str, symbol: str, timeframe: str
) -> bool:
    """Whether a policy with these very weights, scaling and settings is stored for the series."""
    from mastertrade.engine.signals.model.store import stored

    payload = policy.payload()
    return any(
        (found.exchange, found.symbol, found.timeframe) == (exchange, symbol, timeframe)
        and found.policy.payload() == payload
        for found in stored(store)
    )


def _daily_sharpe(result: BacktestResult) -> tuple[float | None, dict[str, Any]]:
    """The per-day Sharpe ratio and the metrics of a backtest, described as the generator describes a
    genome's hold-out (daily moments, trade record: the Kelly prior of the trading core)."""
    from mastertrade.engine.generator.holdout import HoldoutScore, describe_result

    metrics = describe_result(result)
    return HoldoutScore(result, metrics).daily_sharpe, metrics


def daily_moments(result: BacktestResult) -> tuple[float, int, float, float] | None:
    """Per-day Sharpe ratio, observations, skew and (non-excess) kurtosis of the equity's daily returns."""
    closes = result.equity[result.calendar.day_last]
    returns = np.diff(closes) / closes[:-1]
    if len(returns) < 3 or not np.all(np.isfinite(returns)):
        return None
    std = float(returns.std(ddof=1))
    if std <= 0:
        return None
    centred = returns - returns.mean()
    m2 = float(np.mean(centred**2))
    skew = float(np.mean(centred**3)) / m2**1.5
    kurtosis = float(np.mean(centred**4)) / m2**2
    return float(returns.mean()) / std, len(returns), skew, kurtosis
