"""The use case behind ``mt rl train``: train a PPO policy on a series' search window, score it once on
the hold-out, store it as a versioned artifact.

The lookback is split as everywhere in MasterTrade: the newest ``holdout_fraction`` of the bars is the
hold-out, never seen by training; the policy is trained on the older bars (the search window). The
hold-out is then backtested once by the fast engine with the policy's own signals (the same path
``mt backtest model:<id>`` takes), compared with staying flat and with buy-and-hold, and put through
the generator's filter: the out-of-sample thresholds and the deflated Sharpe ratio, counting every
policy trained on this series as a trial.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mastertrade.engine.rl.ppo import PPOSettings, Progress, train_ppo
from mastertrade.engine.signals.model.artifact import PolicyArtifact
from mastertrade.engine.signals.model.features import FEATURES, observations, raw_features, scaling
from mastertrade.engine.signals.model.strategy import ModelStrategy
from mastertrade.errors import UserInputError

if TYPE_CHECKING:
    import pandas as pd

    from mastertrade.config import GeneratorSettings
    from mastertrade.engine.backtest.result import BacktestResult

MIN_BARS = 300


def split_bar(bars: int, holdout_fraction: float) -> int:
    """First bar of the hold-out."""
    return bars - max(2, round(bars * holdout_fraction))


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
    store: Path | None = None,
    progress: Progress | None = None,
) -> tuple[PolicyArtifact, dict[str, Any]]:
    """Train, evaluate and (when ``store`` is given) save; the artifact and a JSON-safe report."""
    from mastertrade.engine.backtest.fast import price_arrays, run_fast
    from mastertrade.engine.market.timeframes import to_iso
    from mastertrade.engine.rl.env import TradingEnv
    from mastertrade.engine.signals.indicators import IndicatorCache

    bars = len(frame)
    if bars < MIN_BARS:
        raise UserInputError(f"too few candles to train on: {bars} (need at least {MIN_BARS})")
    started = time.perf_counter()
    split = split_bar(bars, holdout_fraction)
    cache = IndicatorCache(frame)
    raw = raw_features(cache)
    mean, std = scaling(raw[:split])
    env = TradingEnv(
        *price_arrays(frame), observations(raw, mean, std), cash=cash, fee=fee, start=0, end=split,
        episode_bars=min(episode_bars, split),
    )  # fmt: skip
    weights = train_ppo(env, ppo, progress)
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
    draft = PolicyArtifact(
        symbol=symbol,
        timeframe=timeframe,
        exchange=exchange,
        training=training,
        features=FEATURES,
        mean=tuple(float(x) for x in mean),
        std=tuple(float(x) for x in std),
        weights=weights,
    )
    entries, exits = ModelStrategy(draft).signals(cache)
    holdout = run_fast(frame.iloc[split:], entries[split:], exits[split:], cash=cash, fee=fee)
    in_sample = run_fast(frame.iloc[:split], entries[:split], exits[:split], cash=cash, fee=fee)
    evaluation = _evaluate(holdout, frame.iloc[split:], store, symbol, timeframe, exchange, filter_settings)
    artifact = PolicyArtifact(**{**draft.__dict__, "evaluation": evaluation})
    path = None
    if store is not None:
        from mastertrade.engine.signals.model.store import save

        path = save(artifact, store)
    report = {
        "model": f"model:{artifact.id}",
        "id": artifact.id,
        "content_hash": artifact.content_hash,
        "path": None if path is None else str(path),
        "symbol": symbol,
        "timeframe": timeframe,
        "exchange": exchange,
        "training": training,
        "in_sample": in_sample.metrics(),
        "holdout": evaluation,
        "libraries": artifact.libraries,
        "seconds": round(time.perf_counter() - started, 2),
    }
    return artifact, report


def _evaluate(
    result: BacktestResult,
    frame: pd.DataFrame,
    store: Path | None,
    symbol: str,
    timeframe: str,
    exchange: str,
    limits_from: GeneratorSettings | None,
) -> dict[str, Any]:
    from mastertrade.config import GeneratorSettings
    from mastertrade.engine.generator.deflated import deflated_sharpe, sample_variance
    from mastertrade.engine.generator.validation import threshold_failures

    metrics = result.metrics()
    daily = daily_moments(result)
    earlier = _earlier_sharpes(store, symbol, timeframe, exchange)
    trials = len(earlier) + 1
    deflated = None
    if daily is not None:
        sharpe, observations_, skew, kurtosis = daily
        variance = sample_variance([*earlier, sharpe])
        deflated = deflated_sharpe(sharpe, observations_, skew, kurtosis, trials=trials, variance=variance)
    limits = limits_from if limits_from is not None else GeneratorSettings()
    reasons = threshold_failures(metrics, deflated, limits)
    first_open = float(frame["open"].iloc[1]) if len(frame) > 1 else float("nan")
    buy_hold = (float(frame["close"].iloc[-1]) / first_open - 1.0) * 100.0
    return {
        **metrics,
        "daily_sharpe": None if daily is None else daily[0],
        "flat_return_pct": 0.0,
        "buy_hold_return_pct": round(buy_hold, 4),
        "beats_flat": bool((metrics.get("return_pct") or 0.0) > 0.0),
        "beats_buy_hold": bool((metrics.get("return_pct") or 0.0) > buy_hold),
        "deflated_sharpe": deflated,
        "trials": trials,
        "passed": not reasons,
        "reasons": reasons,
    }


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


def _earlier_sharpes(store: Path | None, symbol: str, timeframe: str, exchange: str) -> list[float]:
    """Hold-out daily Sharpe ratios of the policies stored earlier for the same series (the trials)."""
    if store is None:
        return []
    from mastertrade.engine.signals.model.store import stored

    found = []
    for artifact in stored(store):
        if (artifact.symbol, artifact.timeframe, artifact.exchange) != (symbol, timeframe, exchange):
            continue
        value = artifact.evaluation.get("daily_sharpe")
        found.append(float(value) if isinstance(value, int | float) and math.isfinite(value) else math.nan)
    return found
