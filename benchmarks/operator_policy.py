"""Learned operator choice against the fixed ("uniform") one, at an equal number of evaluations.

For each seed (a nightly run) the genetic search runs twice on the search window of the same simulated
series (the older 75%): once with ``operator_policy = "uniform"`` (fixed mutation weights, crossover
probability 0.5) and once with ``"bandit"``, whose state carries over from one seed to the next as it
would from night to night. Both runs breed generations of the same size until they hold the same number
of distinct scored candidates (``count`` 500; a run that stalls stops earlier), so the deflated Sharpe
ratios count the same number of trials; the evaluations actually scored (duplicates included) are
printed for both. Then, for each run:

- the hold-out (newest 25%, never seen by either search) Sharpe ratio and deflated Sharpe ratio of the
  best candidate by the search's own score (trials: every distinct candidate the run scored);
- the hypervolume of the final Pareto front in (out-of-sample score, max drawdown) on the search window,
  with the reference point (score -2, drawdown 100%).

Run: ``python -m benchmarks operator_policy`` (about a minute per seed on 2 cores).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import mastertrade.engine.backtest  # noqa: F401  (numba's cache folder, before numba loads)

SEEDS = tuple(range(1, 11))
BARS = 6000
POPULATION = 48
GENERATIONS = 1
COUNT = 500
REFERENCE = (-2.0, 100.0)


def hypervolume(points: list[tuple[float, float]]) -> float:
    """Area dominated by ``points`` (maximise the first value, minimise the second) and bounded by the
    reference point; 2-D, so a sort and a sweep (deap's hypervolume module is for minimisation and its
    C extension is optional; this is five lines)."""
    ref_score, ref_dd = REFERENCE
    kept = sorted((max(s, ref_score), min(d, ref_dd)) for s, d in points if s > ref_score and d < ref_dd)
    area, best_dd = 0.0, ref_dd
    for score, drawdown in reversed(kept):  # highest score first
        if drawdown < best_dd:
            area += (score - ref_score) * (best_dd - drawdown)
            best_dd = drawdown
    return area


def run_once(policy: str, seed: int, frame: Any, split: int, state: Path) -> dict[str, Any]:
    from mastertrade.engine.backtest.fast import run_fast
    from mastertrade.engine.backtest.params import order_params
    from mastertrade.engine.generator.deflated import deflated_sharpe, sample_variance
    from mastertrade.engine.generator.evaluation import Problem
    from mastertrade.engine.generator.executor import ThreadExecutor
    from mastertrade.engine.generator.search import Search, SearchConfig, ranked
    from mastertrade.engine.rl.train import daily_moments
    from mastertrade.engine.signals.evaluate import signals
    from mastertrade.engine.signals.indicators import IndicatorCache

    problem = Problem(frame.iloc[:split], folds=4)
    config = SearchConfig(
        symbol="BTC/USDT", timeframe="1h", seed=seed, count=COUNT, population=POPULATION,
        generations=GENERATIONS, min_trades=5, operator_policy=policy, operator_state=state,
    )  # fmt: skip
    started = time.perf_counter()
    with ThreadExecutor(problem, workers=2) as executor:
        result = Search(config, executor).run()
    seconds = time.perf_counter() - started
    feasible = [c for c in result.archive if c.feasible]
    ranked(feasible)
    front = [(c.fitness.values[0], c.fitness.values[1]) for c in feasible if c.rank == 0]
    out: dict[str, Any] = {
        "scored": result.scored,
        "distinct": result.trials,
        "generations": result.generations,
        "hypervolume": hypervolume(front),
        "seconds": seconds,
        "holdout_sharpe": None,
        "deflated": None,
    }
    if not feasible:
        return out
    best = max(feasible, key=lambda c: c.fitness.values[0])
    entries, exits = signals(best.genome, IndicatorCache(frame))
    hold = run_fast(frame.iloc[split:], entries[split:], exits[split:], order_params(best.genome))
    out["holdout_sharpe"] = hold.metrics()["sharpe"]
    moments = daily_moments(hold)
    if moments is not None:
        daily = [c.score.daily_sharpe for c in result.archive if c.score is not None]
        variance = sample_variance(value for value in daily if value is not None)
        sharpe, observations, skew, kurtosis = moments
        trials = max(1, len(result.archive))
        out["deflated"] = deflated_sharpe(
            sharpe, observations, skew, kurtosis, trials=trials, variance=variance
        )
    return out


def _mean(values: list[float | None]) -> str:
    numbers = [value for value in values if value is not None]
    return f"{statistics.fmean(numbers):8.3f}" if numbers else "       -"


def main() -> None:
    from mastertrade.engine.market.sim import simulate

    frame = simulate("BTC/USDT", "1h", BARS, 11, end=1_735_689_600_000)
    split = BARS - BARS // 4
    results: dict[str, list[dict[str, Any]]] = {"uniform": [], "bandit": []}
    with tempfile.TemporaryDirectory() as folder:
        state = Path(folder) / "operators.json"  # the bandit's state carries from seed to seed
        for seed in SEEDS:
            for policy in ("uniform", "bandit"):
                row = run_once(policy, seed, frame, split, state)
                results[policy].append(row)
                print(
                    f"seed {seed} {policy:<8} scored {row['scored']:>4} distinct {row['distinct']:>4}  "
                    "hold-out Sharpe "
                    f"{row['holdout_sharpe'] if row['holdout_sharpe'] is not None else float('nan'):7.3f}  "
                    f"DSR {row['deflated'] if row['deflated'] is not None else float('nan'):6.3f}  "
                    f"hypervolume {row['hypervolume']:8.2f}  ({row['seconds']:.1f} s)",
                    flush=True,
                )
        from mastertrade.engine.generator.operator_bandit import OperatorBandit

        learned = OperatorBandit.load(state).summary()
        swaps = {name: round(arm.mean, 3) for name, arm in OperatorBandit.load(state).swaps.items()}
    print(f"\nmeans over {len(SEEDS)} seeds   evaluations  distinct  hold-out Sharpe      DSR  hypervolume")
    for policy, rows in results.items():
        print(
            f"{policy:<20} {statistics.fmean(r['scored'] for r in rows):11.0f}  "
            f"{statistics.fmean(r['distinct'] for r in rows):8.0f}  "
            f"{_mean([r['holdout_sharpe'] for r in rows])}         {_mean([r['deflated'] for r in rows])}  "
            f"{_mean([r['hypervolume'] for r in rows])}"
        )
    wins = sum(
        1
        for u, b in zip(results["uniform"], results["bandit"], strict=True)
        if (b["deflated"] or 0.0) > (u["deflated"] or 0.0)
    )
    print(f"bandit has the higher hold-out DSR in {wins} of {len(SEEDS)} seeds")
    print("bandit posterior success rates after all seeds:", learned)
    print("swap targets:", dict(sorted(swaps.items(), key=lambda item: -item[1])[:6]))


if __name__ == "__main__":
    main()
