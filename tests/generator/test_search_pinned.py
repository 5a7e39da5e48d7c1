"""The search's output pinned: the same seed gives the same archive as the search gave when these were
recorded (genome names in order, seeds, origins, fitness), so a faster breeding path cannot change which
strategies a seed finds. Scores come from a fake executor computed from each genome's name (cheap, no
backtest), so the pin covers breeding and selection only; an intended change to what the search breeds
records new digests here."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import pytest

from mastertrade.engine.generator import kernel as k
from mastertrade.engine.generator.evaluation import Score, Timings
from mastertrade.engine.generator.executor_base import Executor
from mastertrade.engine.generator.release import release_series_memory
from mastertrade.engine.generator.search import Search, SearchConfig
from mastertrade.engine.signals.genome import Genome, parse_genome

MARKET = {"symbol": "BTC/USDT", "timeframe": "1h"}
COLUMN = {name: index for index, name in enumerate(k.KERNEL_KEYS)}


class NamedScores(Executor):
    """Scores drawn from the genome's name: the same name, the same score, on any run. One in eight
    shares its numbers with another name (a behavioural duplicate the search must drop)."""

    workers = 1

    def map(self, genomes: Sequence[Genome], *, detail: bool = False) -> list[Score]:
        return [self._score(genome.name) for genome in genomes]

    def _score(self, name: str) -> Score:
        digest = hashlib.sha256(name.encode()).digest()
        if digest[0] % 8 == 0:
            digest = hashlib.sha256(bytes([digest[1] % 4])).digest()  # one of four shared behaviours
        draw = np.frombuffer(digest, dtype=np.uint8).astype(np.float64) / 255.0
        values = np.full((k.rows(3), k.METRICS), np.nan)
        values[k.ROW_OOS, COLUMN["sharpe"]] = 4.0 * draw[2] - 1.5
        values[k.ROW_OOS, COLUMN["max_drawdown_pct"]] = 60.0 * draw[3]
        values[k.ROW_OOS, COLUMN["trades"]] = float(int(40 * draw[4]))
        values[k.ROW_OOS, COLUMN["exposure_pct"]] = 100.0 * draw[5]
        values[k.ROW_IS, COLUMN["sharpe"]] = draw[6]
        return Score(values, np.zeros(k.MOMENTS))

    def timings(self) -> Timings:
        return Timings()

    def close(self) -> None:
        """Nothing to release: the scores are drawn from the names, no worker or kernel was started."""


def archive_digest(result_archive: Sequence[object]) -> str:
    rows = [
        f"{c.genome.name} {c.seed} {c.generation} {c.origin} {c.fitness.values!r}"  # type: ignore[attr-defined]
        for c in result_archive
    ]
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16]


SEED = parse_genome(
    {
        "name": "mine",
        **MARKET,
        "entry": {
            "all": [{">": [{"ind": "rsi", "length": 14}, 30]}, {">": [{"price": "close"}, {"ind": "sma"}]}]
        },
        "exit": {"<": [{"ind": "rsi", "length": 14}, 70]},
        "stop_loss": 0.05,
    }
)


@pytest.mark.parametrize(
    ("seed", "policy", "seeds", "expected"),
    [
        (1, "uniform", False, "4b6b1a65e1e79fc3"),
        (2, "uniform", False, "b11e0d77bfbcb764"),
        (3, "bandit", False, "bdfdaeff054468eb"),
        (4, "uniform", True, "15912ebb2d56ccb8"),
    ],
)
def test_the_same_seed_gives_the_archive_recorded(seed: int, policy: str, seeds: bool, expected: str) -> None:
    config = SearchConfig(
        seed=seed, count=300, population=48, generations=4, min_trades=5, operator_policy=policy, **MARKET
    )
    for cold in (True, False):  # from empty memo caches, and from those another search left
        if cold:
            release_series_memory()
        result = Search(config, NamedScores(), seeds=[SEED] if seeds else ()).run()
        assert len(result.archive) >= 300
        assert archive_digest(result.archive) == expected
