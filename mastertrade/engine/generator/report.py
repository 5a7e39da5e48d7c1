"""A validation report for any strategy (built-in, genome file, stored id, plugin) on one candle series.

``validation_report(strategy, frame, ...)`` is the one door: ``mt validate`` calls it, and so can any
other code that wants the same judgement (adding a trader's own strategy, the API). It is a report, not
a gate: it stores nothing and changes no state. What it says:

- **full**: the plain backtest over every bar given (what ``mt backtest`` prints), and buy-and-hold over
  the same bars as the naive baseline;
- **walk-forward**: the ``[generator]`` walk-forward windows (in-sample and out-of-sample metrics per
  window). The strategy is fixed, nothing is fitted on the in-sample parts, so the out-of-sample parts
  are simply later bars;
- **deflated Sharpe ratio** of the full backtest's daily Sharpe ratio, given the declared number of
  trials ``N`` (how many strategies or settings were tried before this one; 1 if none). The variance of
  the trials' Sharpe ratios is unknown here, so the report takes the variance a skill-less strategy's
  per-day Sharpe estimate has over the same number of days (``1 / (T - 1)``), unless the caller knows
  the one observed (``ReportOptions.variance``: a generated strategy's, or a tuned genome file's, on its
  own series);
- **confidence intervals** (95%) for the annualised Sharpe ratio and the maximum drawdown, from a
  moving-block bootstrap of the daily returns (blocks of ``BLOCK_DAYS`` days keep the serial dependence
  that drawdowns depend on). Written here because scipy's ``bootstrap`` resamples independent draws,
  which breaks that dependence, and no block bootstrap package is part of the environment;
- a plain **verdict** in one sentence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mastertrade.engine.generator.holdout import describe_result, moments
from mastertrade.engine.generator.pbo import daily_returns
from mastertrade.errors import UserInputError

if TYPE_CHECKING:
    import pandas as pd

BLOCK_DAYS = 5
RESAMPLES = 2000
DAYS_PER_YEAR = 365


@dataclass(frozen=True)
class ReportOptions:
    """How the report is made (``[generator]`` walk-forward settings and ``[backtest]`` costs)."""

    trials: int = 1
    folds: int = 4
    ratio: float = 0.75
    anchored: bool = False
    cash: float = 10_000.0
    fee: float = 0.001
    min_trades: int = 10
    min_deflated_sharpe: float = 0.95
    seed: int = 0
    variance: float | None = None
    """V of the deflated Sharpe ratio (per day) when known: the variance of the Sharpe ratios of the trials
    observed when the strategy was chosen. ``None``: the skill-less ``1 / (T - 1)`` over the report's days."""


def _max_drawdown_pct(returns: np.ndarray[Any, np.dtype[np.float64]]) -> float:
    path = np.cumprod(1.0 + returns)
    peak = np.maximum.accumulate(np.concatenate([[1.0], path]))[1:]
    return float(np.max(1.0 - path / peak) * 100.0) if len(path) else 0.0


def block_bootstrap(
    returns: np.ndarray[Any, np.dtype[np.float64]],
    *,
    seed: int,
    resamples: int = RESAMPLES,
    per_year: float = DAYS_PER_YEAR,
) -> dict[str, Any]:
    """95% intervals of the annualised Sharpe ratio and the maximum drawdown (moving-block bootstrap);
    ``per_year``: the returns a year holds (365 daily ones; ``metrics.returns_per_year`` for longer
    bars), the factor the backtest's own Sharpe ratio is annualised with."""
    n = len(returns)
    if n < 2 * BLOCK_DAYS:
        return {"sharpe": None, "max_drawdown_pct": None, "resamples": 0, "block_days": BLOCK_DAYS}
    rng = np.random.default_rng(seed)
    blocks = math.ceil(n / BLOCK_DAYS)
    starts = rng.integers(0, n - BLOCK_DAYS + 1, size=(resamples, blocks))
    index = (starts[:, :, None] + np.arange(BLOCK_DAYS)[None, None, :]).reshape(resamples, -1)[:, :n]
    if not float(np.std(returns)) > 0:
        # no variance (a strategy that never traded, a flat market): the Sharpe ratio is undefined, and
        # so is any interval of it, not "0.00 to 0.00"; every resample's drawdown is the series' own
        drawdown = _max_drawdown_pct(returns)
        return {
            "sharpe": None,
            "max_drawdown_pct": [drawdown, drawdown],
            "resamples": resamples,
            "block_days": BLOCK_DAYS,
            "confidence": 0.95,
        }
    samples = returns[index]
    std = samples.std(axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        sharpe = np.where(std > 0, samples.mean(axis=1) / std * math.sqrt(per_year), 0.0)
    path = np.cumprod(1.0 + samples, axis=1)
    peak = np.maximum.accumulate(np.concatenate([np.ones((resamples, 1)), path], axis=1), axis=1)[:, 1:]
    drawdown = np.max(1.0 - path / peak, axis=1) * 100.0
    return {
        "sharpe": [float(np.percentile(sharpe, 2.5)), float(np.percentile(sharpe, 97.5))],
        "max_drawdown_pct": [float(np.percentile(drawdown, 2.5)), float(np.percentile(drawdown, 97.5))],
        "resamples": resamples,
        "block_days": BLOCK_DAYS,
        "confidence": 0.95,
    }


def validation_report(
    strategy: Any, frame: pd.DataFrame, options: ReportOptions, *, features: Any = None
) -> dict[str, Any]:
    """The report (see the module docstring) of ``strategy`` on ``frame`` (store format)."""
    from mastertrade.engine.backtest.fast import run_fast
    from mastertrade.engine.backtest.params import order_params
    from mastertrade.engine.backtest.runner import strategy_signals
    from mastertrade.engine.backtest.unit_cost import coarse_units
    from mastertrade.engine.backtest.walkforward import evaluate, split
    from mastertrade.engine.generator.deflated import deflated_sharpe
    from mastertrade.engine.signals.indicators import IndicatorCache

    if options.trials < 1:
        raise UserInputError(f"invalid trials {options.trials}: must be >= 1")
    windows = split(len(frame), folds=options.folds, ratio=options.ratio, anchored=options.anchored)
    cache = IndicatorCache(frame, features=features)
    entries, exits = strategy_signals(strategy, cache)
    params = order_params(strategy)
    result = run_fast(frame, entries, exits, params, cash=options.cash, fee=options.fee)
    full = describe_result(result)
    hold = np.ones(len(frame), dtype=np.bool_)  # in the market from the first bar the engine trades on
    baseline = run_fast(frame, hold, ~hold, cash=options.cash, fee=options.fee).metrics()
    reports = evaluate(frame, entries, exits, windows, params, cash=options.cash, fee=options.fee)
    returns = daily_returns(result.equity, result.calendar.day_last, options.cash)
    days = len(returns)
    stats = moments(returns)
    mean, std = stats["daily_mean"], stats["daily_std"]
    daily = None if mean is None or not std else mean / std
    dsr = None
    from mastertrade.engine.generator.trials import skill_less_variance

    variance = options.variance if options.variance is not None else skill_less_variance(days)
    skew, kurt = stats["daily_skew"], stats["daily_kurtosis"]
    if daily is not None and skew is not None and kurt is not None:
        dsr = deflated_sharpe(daily, days, skew, kurt, trials=options.trials, variance=variance)
    from mastertrade.engine.backtest.metrics import returns_per_year

    per_year = returns_per_year(max(0, days - 1), result.calendar.years)
    intervals = block_bootstrap(returns, seed=options.seed, per_year=per_year)
    report = {
        "strategy": str(getattr(strategy, "name", strategy)),
        "bars": len(frame),
        "full": {key: value for key, value in full.items() if key != "trade_stats"}
        | {"open_trade": result.open_trade},
        "buy_and_hold": baseline,
        "walk_forward": [item.as_dict() for item in reports],
        "deflated": {
            "trials": options.trials,
            "daily_sharpe": daily,
            "days": days,
            "trial_variance": variance,
            "deflated_sharpe": dsr,
            "note": "N as declared or recorded (trials_source); trial variance "
            + (
                "1/(T-1) (a skill-less Sharpe estimate's), per day"
                if options.variance is None
                else "as observed among the trials it was chosen from, per day"
            ),
        },
        "bootstrap": intervals,
        "coarse_units": coarse_units(frame, options.cash),
    }
    report["verdict"] = verdict(report, options)
    return report


def verdict(report: dict[str, Any], options: ReportOptions) -> str:
    """One plain sentence on what the numbers support."""
    full, baseline = report["full"], report["buy_and_hold"]
    trades = full.get("trades") or 0
    sharpe = full.get("sharpe")
    dsr = report["deflated"]["deflated_sharpe"]
    interval = report["bootstrap"].get("sharpe")
    oos = [w["out_of_sample"].get("sharpe") for w in report["walk_forward"]]
    losing = sum(1 for value in oos if value is None or value <= 0)
    behind = versus_buy_and_hold(full, baseline)
    below_cash = versus_cash(full)
    if trades < options.min_trades:
        return f"too few trades to judge ({trades} < {options.min_trades}){below_cash}{behind}"
    if sharpe is None or sharpe <= 0:
        return f"no edge: it loses money over these bars (Sharpe {_text(sharpe)}){behind}"
    behind = below_cash + behind
    if dsr is not None and dsr >= options.min_deflated_sharpe and interval and interval[0] > 0:
        return (
            f"evidence of an edge: Sharpe {sharpe:.2f} (95% CI {interval[0]:.2f} to {interval[1]:.2f}),"
            f" deflated Sharpe {dsr:.3f} for {options.trials} trial(s), {len(oos) - losing} of {len(oos)}"
            f" walk-forward windows positive{behind}"
        )
    ci = f"95% CI {interval[0]:.2f} to {interval[1]:.2f}" if interval else "no interval"
    return (
        f"not proven: Sharpe {sharpe:.2f} ({ci}), deflated Sharpe {_text(dsr, 3)} for {options.trials}"
        f" trial(s) is below {options.min_deflated_sharpe:g} or the interval includes zero{behind}"
    )


def versus_cash(own: dict[str, Any], where: str = "") -> str:
    """``"; it loses money ..."`` when the strategy ended below its starting cash, else ``""``: flat (no
    position at all) is a baseline too, and a strategy that lost 15% while holding lost 60% still lost
    money, which a comparison with buy-and-hold alone never says."""
    ret = own.get("return_pct")
    if ret is None or ret >= 0:
        return ""
    return f"; it loses money{where} (return {ret:.2f}%): staying out would have lost nothing"


def versus_buy_and_hold(own: dict[str, Any], baseline: dict[str, Any], where: str = "") -> str:
    """``"; it does worse than buy-and-hold ..."`` when the strategy made less money than buying and
    holding over the same bars, or made it with a lower Sharpe ratio; else ``""``.

    Both figures are named, so a strategy that earns a fraction of holding the coin is not let off by a
    better Sharpe ratio, and one that stayed out of a falling or flat market (no Sharpe ratio: no
    variance) is not said to lose to a baseline that lost money."""
    ret, bench_ret = own.get("return_pct"), baseline.get("return_pct")
    sharpe, bench = own.get("sharpe"), baseline.get("sharpe")
    less_money = ret is not None and bench_ret is not None and ret < bench_ret
    worse_ratio = sharpe is not None and bench is not None and sharpe < bench
    if not (less_money or worse_ratio):
        return ""
    both = ret is not None and bench_ret is not None
    returns = f"return {ret:.2f}% against {bench_ret:.2f}%" if both else ""
    ratios = f"Sharpe {_text(sharpe)} against {_text(bench)}"
    if less_money and worse_ratio:
        detail = f"{returns}, {ratios}"
    elif less_money:
        # no Sharpe ratio of its own (it never traded, or its returns never varied): none to set against
        detail = returns if sharpe is None or bench is None else f"{returns}, though its {ratios}"
    else:
        detail = f"{ratios}, though its {returns}" if returns else ratios
    return f"; it does worse than buy-and-hold{where} ({detail})"


def _text(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


@dataclass(frozen=True)
class Provenance:
    """What chose a strategy (a stored one's: :func:`.provenance.provenance_of`), so a report on its own
    series neither counts bars its search saw as out-of-sample nor charges it for one trial: the last bar
    of the data its search scored it on (``seen_until_ms``) and the trials its deflated Sharpe ratio
    counted when it was judged."""

    strategy_id: str
    symbol: str
    timeframe: str
    exchange: str | None
    seen_until_ms: int
    trials: int | None
    seen_by: str = "search"
    """What saw those bars: "search" (a generation run), "training" (a trained policy) or "tuning" (``mt
    optimize``, for a genome file it wrote or a strategy added from one: :mod:`.tuned_file`;
    ``strategy_id`` is then the file, or the stored id)."""
    variance: float | None = None
    """V its deflated Sharpe ratio was judged with, when observed (the variance of the Sharpe ratios of the
    trials it was chosen among, per day); ``None`` when it fell back to the skill-less spread, which
    depends on the days measured and is taken afresh over the report's."""

    @property
    def seen(self) -> str:
        """What was done to the strategy on those bars, in a word: searched, trained or tuned."""
        return {"training": "trained", "tuning": "tuned"}.get(self.seen_by, "searched")

    @property
    def chose(self) -> str:
        """What the bars were to it, after "its": "search chose it on", "training saw", ..."""
        return "training saw" if self.seen_by == "training" else f"{self.seen_by} chose it on"

    @property
    def named(self) -> str:
        """The strategy in a message: a stored one's short id, a tuned genome's file."""
        return self.strategy_id if self.seen_by == "tuning" else self.strategy_id[:16]

    def applies(self, exchange: str, symbol: str, timeframe: str) -> bool:
        """Whether a series is the one the strategy was searched on (another series is new to it)."""
        same = symbol == self.symbol and timeframe == self.timeframe
        return same and (self.exchange is None or exchange == self.exchange)


def observed_variance(deflated_trials: dict[str, Any]) -> float | None:
    """The V a stored judgement used (``deflated_trials`` as stored with it) when it was observed among the
    trials, else ``None`` (a fallback, or a record from before V was stored)."""
    from mastertrade.engine.generator.trials import OBSERVED

    used = deflated_trials.get("variance_used")
    if deflated_trials.get("variance_source") != OBSERVED or not isinstance(used, int | float) or used <= 0:
        return None
    return float(used)


async def validate_series(
    db: Any,
    settings: Any,
    strategy: Any,
    *,
    symbol: str,
    timeframe: str,
    exchange: str | None = None,
    trials: int | None = None,
    start_ms: int | None = None,
    end_ms: int | None = None,
    provenance: Provenance | None = None,
    until: int | None = None,
) -> dict[str, Any]:
    """Read the stored series (and the alternative data the strategy's feature terms read) and report
    on ``strategy`` over it: what ``mt validate`` prints, for any caller.

    ``trials``: as declared (``None``: 1, or for a generated strategy on its own series the trials its
    generation counted, for a genome file ``mt optimize`` wrote the trials its tuning counted). With
    ``provenance`` (a generated or tuned strategy on its own series) and no ``start_ms``, the report
    starts after the last bar its search saw (its hold-out and any bar since);
    an earlier start is reported, with the windows its search saw marked and the verdict saying so.
    ``registry_trials``: with no trials declared and no provenance, how many candidates the trial
    registry counts on bars of the series overlapping these (None otherwise). ``until``: a replay's
    market time (``market.as_of``): only the bars closed by then are read, and the report says it
    (``market_time``) and how many stored bars after it were left out (``after_market_time_bars``)."""
    from mastertrade.engine.collectors.provider import features_for
    from mastertrade.engine.market.as_of import bounded, left_out
    from mastertrade.engine.market.store import CandleStore
    from mastertrade.engine.market.timeframes import timeframe_ms, to_iso
    from mastertrade.errors import NotFound

    timeframe_ms(timeframe)
    if trials is not None and trials < 1:
        raise UserInputError(f"invalid trials {trials}: must be >= 1")
    store = CandleStore(db)
    key = await store.resolve(symbol, timeframe, exchange)
    if provenance is not None and not provenance.applies(key.exchange, key.symbol, key.timeframe):
        provenance = None
    declared = trials is not None
    if trials is None:
        trials = provenance.trials if provenance is not None and provenance.trials else 1
    started_after_search = provenance is not None and start_ms is None
    given_start = start_ms is not None
    if provenance is not None and start_ms is None:
        start_ms = provenance.seen_until_ms + 1
    frame = await store.read(key, start_ms, bounded(end_ms, until, key.timeframe))
    if frame.empty:
        if started_after_search and provenance is not None:
            raise NotFound(
                f"no candles of {key} after {to_iso(provenance.seen_until_ms)}, the last bar strategy"
                f" {provenance.named} was {provenance.seen} on: give --start to report on bars its"
                f" {provenance.seen_by} saw (marked as such)"
            )
        closed = f" closed by the replay's market time {to_iso(until)}" if until is not None else ""
        raise NotFound(f"no candles of {key}{closed} in the requested range")
    features = await features_for(
        db, [strategy], timeframe=key.timeframe, simulated=key.simulated, exchange=key.exchange, until=until
    )
    generator = settings.generator
    options = ReportOptions(
        trials=trials,
        # on its own series, the spread of the Sharpe ratios of the trials it was chosen among is known:
        # with the skill-less 1/(T-1) instead, `mt validate ID` over its hold-out said a deflated Sharpe
        # 0.019 where `mt strategy show ID` (what it was judged with) said 0.001, for the same N and bars
        variance=None if provenance is None else provenance.variance,
        folds=generator.walk_forward_windows,
        ratio=generator.in_sample_ratio,
        anchored=generator.anchored,
        cash=settings.backtest.cash,
        fee=settings.backtest.fee,
        min_trades=generator.min_trades,
        min_deflated_sharpe=generator.min_deflated_sharpe,
    )
    try:
        report = validation_report(strategy, frame, options, features=features)
    except UserInputError as exc:
        if not str(exc).startswith(f"{len(frame)} bars are too few"):
            raise
        # the range the options left is the bad value: name them, not only a count of bars
        ranged = [f"from --start {to_iso(start_ms)}"] if start_ms is not None and given_start else []
        ranged += (
            [f"after {to_iso(start_ms - 1)}, the last bar it was chosen on"]
            if started_after_search and start_ms is not None
            else []
        )
        ranged += [f"before --end {to_iso(end_ms)}"] if end_ms is not None else []
        ranged += [f"closed by the replay's market time {to_iso(until)}"] if until is not None else []
        fix = " or ".join(
            (["an earlier --start"] if given_start or started_after_search else [])
            + (["a later --end"] if end_ms is not None else [])
        )
        raise UserInputError(
            f"{key}{' ' + ' '.join(ranged) if ranged else ''}: {len(frame)} bars are too few for"
            f" {options.folds} walk-forward windows ([generator] walk_forward_windows): give"
            f" {fix or 'more bars (`mt data download`)'}"
        ) from None
    report["missing_features"] = features.missing() if features is not None else []
    report["deflated"]["trials_source"] = (
        "declared" if declared else "recorded" if provenance is not None and provenance.trials else "default"
    )
    report["deflated"]["variance_source"] = "recorded" if options.variance is not None else "skill-less"
    if provenance is not None:
        _mark_seen(report, frame, provenance, started_after_search)
    from mastertrade.engine.market.missing import missing_bars, missing_note

    report["missing_bars"] = missing_bars(frame, key.timeframe)[0]
    report["missing_note"] = missing_note(frame, key.timeframe, key.symbol)
    report["registry_trials"] = None
    if not declared and provenance is None:
        # a genome file tuned by `mt optimize` (or picked from `mt generate`'s output) looks fresh here:
        # the registry knows how many candidates were chosen among on these bars, so the CLI can say so
        import pandas as pd

        from mastertrade.engine.generator.trials import TrialRegistry

        stamps = pd.DatetimeIndex(frame.index).as_unit("ms").asi8
        scored = await TrialRegistry(db).tally(key, int(stamps[0]), int(stamps[-1]))
        report["registry_trials"] = scored.trials
    return {
        "exchange": key.exchange,
        "symbol": key.symbol,
        "timeframe": key.timeframe,
        "simulated": key.simulated,
        **report,
        **({} if until is None else await left_out(db, key, until)),
    }


def _mark_seen(report: dict[str, Any], frame: pd.DataFrame, provenance: Provenance, after: bool) -> None:
    """Record what the strategy's search saw of the report's bars; mark the walk-forward windows whose
    out-of-sample bars it saw, and say so first in the verdict when it saw any."""
    import pandas as pd

    from mastertrade.engine.market.timeframes import to_iso

    stamps = np.asarray(pd.DatetimeIndex(frame.index).as_unit("ms").asi8, dtype=np.int64)
    seen = int(np.searchsorted(stamps, provenance.seen_until_ms, side="right"))
    for item in report["walk_forward"]:
        item["seen_by_search"] = bool(item["out_of_sample_start"] < seen)
    report["provenance"] = {
        "strategy": provenance.strategy_id,
        "searched_until": to_iso(provenance.seen_until_ms),
        "trials_recorded": provenance.trials,
        "seen_by": provenance.seen_by,
        "start": f"after its {provenance.seen_by} window" if after else "given",
        "seen_bars": seen,
    }
    if seen:
        report["verdict"] = (
            f"{seen:,} of these {len(frame):,} bars (to {to_iso(provenance.seen_until_ms)}) are bars its"
            f" {provenance.chose}, so figures over them are not out-of-sample; {report['verdict']}"
        )
