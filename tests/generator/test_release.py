"""What the universe loop gives back between series: the genome memo caches emptied (without changing a
genome built afterwards) and glibc's free heap pages returned."""

from __future__ import annotations

import platform
import random

from mastertrade.engine.generator import release, variation
from mastertrade.engine.generator.variation import Limits, seed_genome
from mastertrade.engine.signals import canonical, genome


def seeds(count: int) -> list[dict[str, object]]:
    rng = random.Random(3)
    return [
        seed_genome(rng, symbol="BTC/USDT", timeframe="1h", limits=Limits()).to_dict() for _ in range(count)
    ]


def memo_sizes() -> list[int]:
    memos = (*variation.MEMOS, genome._TERMS, canonical._RULES, canonical._TERMS, canonical._REMEMBERED)
    return [len(memo) for memo in memos]


def test_release_empties_the_memo_caches_and_later_genomes_are_the_same() -> None:
    before = seeds(20)
    parents = [variation.parse_genome(doc) for doc in before[:2]]
    variation.crossover(random.Random(1), *parents, Limits())  # fills the breeding memos too
    assert sum(size > 0 for size in memo_sizes()) >= 8
    release.release_series_memory()
    assert sum(memo_sizes()) == 0
    assert seeds(20) == before


def test_the_heap_is_trimmed_where_the_c_library_is_glibc() -> None:
    if platform.libc_ver()[0] == "glibc":
        assert release._malloc_trim() is not None
    assert isinstance(release.trim_heap(), bool)
