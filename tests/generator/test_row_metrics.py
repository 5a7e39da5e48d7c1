"""The validation reads every row of a detailed score at once: the same dicts as ``metrics_of`` row by row."""

from __future__ import annotations

import random

from mastertrade.engine.generator import kernel as k
from mastertrade.engine.generator.evaluation import Problem, Scorer, failed_score, metrics_of
from mastertrade.engine.generator.pipeline import row_metrics
from mastertrade.engine.generator.variation import Limits, seed_genome
from mastertrade.engine.signals.builtins import builtin


def test_row_metrics_equal_metrics_of_on_every_row(problem: Problem) -> None:
    genomes = [builtin(name, "BTC/USDT", "1h") for name in ("sma_cross", "breakout")]
    genomes += [
        seed_genome(random.Random(seed), symbol="BTC/USDT", timeframe="1h", limits=Limits())
        for seed in range(8)
    ]
    scorer = Scorer(problem)
    scores = scorer.score(genomes, detail=True) + scorer.score(genomes[:2])  # the second: no detail rows
    undefined = 0
    for score in [*scores, failed_score(problem, "boom")]:
        rows = row_metrics(problem, score)
        assert rows == [metrics_of(problem, score, row) for row in range(k.rows(problem.folds))]
        undefined += sum(1 for row in rows if row is not None and None in row.values())
    assert row_metrics(problem, scores[-1])[k.ROW_FULL] is None  # not computed without detail
    assert undefined  # some metrics are undefined (None), e.g. a Sortino without a losing day
