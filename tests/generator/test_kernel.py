"""The scoring kernel reproduces walk-forward, the full-series backtest and the stitched OOS curve exactly."""

from __future__ import annotations

import random

import numpy as np
import pytest

from mastertrade.engine.backtest.metrics import Calendar, metrics_dict, metrics_kernel
from mastertrade.engine.backtest.params import order_params
from mastertrade.engine.backtest.runner import backtest
from mastertrade.engine.backtest.walkforward import evaluate
from mastertrade.engine.generator import kernel as k
from mastertrade.engine.generator.evaluation import Problem, Scorer, metrics_of
from mastertrade.engine.generator.variation import Limits, seed_genome
from mastertrade.engine.signals.builtins import builtin
from mastertrade.engine.signals.evaluate import signals


@pytest.fixture(scope="module")
def scored(problem: Problem) -> tuple[Scorer, list, list]:
    genomes = [builtin(name, "BTC/USDT", "1h") for name in ("sma_cross", "rsi_reversion", "breakout")]
    genomes += [
        seed_genome(random.Random(seed), symbol="BTC/USDT", timeframe="1h", limits=Limits())
        for seed in range(12)
    ]
    scorer = Scorer(problem, threads=2)
    return scorer, genomes, scorer.score(genomes, detail=True)


def stitched(reports: list, cash: float) -> tuple[np.ndarray, np.ndarray, int]:
    """The OOS equity curves chained by hand, the closed trades' P&L scaled alike, the exposed bars."""
    curve, pnl, exposed, factor = [], [], 0, 1.0
    for report in reports:
        result = report.out_of_sample
        curve.append(result.equity * factor)
        closed = result.trades.closed
        pnl.append(result.trades.pnl[closed] * factor)
        exposed += result.trades.exposed_bars(len(result.ts))
        factor = curve[-1][-1] / cash
    return np.concatenate(curve), np.concatenate(pnl), exposed


def test_rows_equal_walk_forward_and_the_full_backtest(problem: Problem, scored: tuple) -> None:
    scorer, genomes, scores = scored
    for genome, score in zip(genomes, scores, strict=True):
        entries, exits = signals(genome, scorer.cache)
        reports = evaluate(problem.frame, entries, exits, problem.windows, order_params(genome))
        for report in reports:
            fold = report.window.fold
            assert metrics_of(problem, score, k.FOLD_ROWS + fold) == report.out_of_sample.metrics()
            assert (
                metrics_of(problem, score, k.FOLD_ROWS + problem.folds + fold) == report.in_sample.metrics()
            )
        assert metrics_of(problem, score, k.ROW_FULL) == backtest(genome, problem.frame).metrics()
        head = problem.frame.iloc[problem.in_sample]
        assert metrics_of(problem, score, k.ROW_IS) == backtest(genome, head).metrics()


def test_the_oos_score_is_the_stitched_oos_curve(problem: Problem, scored: tuple) -> None:
    scorer, genomes, scores = scored
    for genome, score in zip(genomes, scores, strict=True):
        entries, exits = signals(genome, scorer.cache)
        reports = evaluate(problem.frame, entries, exits, problem.windows, order_params(genome))
        curve, pnl, exposed = stitched(reports, problem.cash)
        calendar = Calendar.from_ts(problem.ts[problem.out_of_sample])
        expected = metrics_kernel(curve, calendar.day_last, calendar.years, problem.cash, pnl, exposed)
        assert metrics_of(problem, score, k.ROW_OOS) == metrics_dict(expected, calendar)
        daily = curve[calendar.day_last]
        returns = daily[1:] / daily[:-1] - 1
        assert score.moments[0] == len(returns)
        assert score.moments[1] == pytest.approx(returns.mean(), rel=1e-9, abs=1e-15)
        if returns.std() > 0:
            assert score.moments[2] == pytest.approx(returns.std(ddof=1), rel=1e-9)
            centred = returns - returns.mean()
            variance = (centred**2).mean()
            assert score.moments[3] == pytest.approx((centred**3).mean() / variance**1.5, rel=1e-6, abs=1e-9)
            assert score.moments[4] == pytest.approx((centred**4).mean() / variance**2, rel=1e-6)
            assert score.daily_sharpe == pytest.approx(score.value("sharpe") / np.sqrt(365), rel=1e-9)


def test_scores_do_not_depend_on_the_batch_or_the_thread_count(problem: Problem, scored: tuple) -> None:
    _, genomes, scores = scored
    alone = Scorer(problem, threads=1)
    rows = [k.ROW_OOS, k.ROW_IS, *range(k.FOLD_ROWS, k.FOLD_ROWS + problem.folds)]
    for genome, score in zip(genomes[::-1], alone.score(genomes[::-1]), strict=True):
        index = genomes.index(genome)
        assert np.array_equal(score.values[rows], scores[index].values[rows], equal_nan=True)
        assert np.array_equal(score.moments, scores[index].moments, equal_nan=True)
        assert np.isnan(score.values[k.ROW_FULL]).all()  # detail rows only when asked


def test_a_genome_that_cannot_be_evaluated_is_a_failed_score(problem: Problem) -> None:
    from mastertrade.engine.signals.genome import parse_genome

    needs_data = parse_genome(
        {
            "name": "x",
            "symbol": "BTC/USDT",
            "timeframe": "1h",
            "entry": {">": [{"feature": "fear_greed"}, 50]},
            "exit": {"<": [{"feature": "fear_greed"}, 30]},
        }
    )
    good = builtin("sma_cross", "BTC/USDT", "1h")
    scores = Scorer(problem).score([needs_data, good])
    assert scores[0].error is not None and "alternative data" in scores[0].error
    assert scores[0].oos_sharpe is None
    assert scores[1].error is None and scores[1].value("trades") is not None


def test_a_series_too_short_for_the_windows_is_refused() -> None:
    from mastertrade.errors import UserInputError
    from tests.generator.conftest import sim_frame

    with pytest.raises(UserInputError, match="too few for 4 walk-forward windows"):
        Problem(sim_frame(100), folds=4).check()


def test_load_kernels_loads_the_specialisation_scoring_uses(problem: Problem) -> None:
    """``Scorer.load_kernels`` (run on a thread while the search breeds its first generation) calls the
    walk-forward kernel with the argument types scoring passes: scoring afterwards, with or without
    detail, adds no specialisation (a wrong one would compile for seconds)."""
    scorer = Scorer(problem, threads=2)
    scorer.load_kernels()
    loaded = list(k.score_many.signatures)  # type: ignore[attr-defined]
    assert len(loaded) == 1
    genome = builtin("sma_cross", "BTC/USDT", "1h")
    scorer.score([genome])
    scorer.score([genome], detail=True)
    assert list(k.score_many.signatures) == loaded  # type: ignore[attr-defined]


def test_the_thread_executor_loads_the_kernels_while_the_caller_works(
    problem: Problem, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Building a ThreadExecutor starts loading the kernels on a thread; its first batch waits for it,
    and a failure there is left to the batch (which calls the same kernels and reports it)."""
    import threading

    from mastertrade.engine.generator.executor import ThreadExecutor

    started, release = threading.Event(), threading.Event()
    loader: list[str] = []

    def load(self: Scorer) -> None:
        loader.append(threading.current_thread().name)
        started.set()
        release.wait(5)
        raise RuntimeError("a kernel failed to load")

    monkeypatch.setattr(Scorer, "load_kernels", load)
    with ThreadExecutor(problem, workers=1) as executor:
        assert started.wait(5)  # running on its own thread, while this one goes on
        assert loader != [threading.current_thread().name]
        release.set()
        scores = executor.map([builtin("sma_cross", "BTC/USDT", "1h")])
    assert scores[0].error is None
    assert loader == ["mt-kernel-load"]
