"""Hypothesis strategies for MasterTrade's data: genomes.

``genomes()`` drives the product's own random genome generator with hypothesis' draws, so the genomes
cover the whole grammar the generator knows and shrink towards simple ones (fewer groups, first
indicator, smallest parameters) when a property fails::

    from tests.strategies import genomes

    @given(genome=genomes(stops=True))
    def test_engines_agree(genome): ...
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from hypothesis import strategies as st

from mastertrade.engine.signals.genome import Genome
from mastertrade.engine.signals.random_genome import random_genome

T = TypeVar("T")


class _Draws:
    """The ``Chooser`` interface of ``random_genome`` answered by hypothesis draws."""

    def __init__(self, draw: st.DrawFn) -> None:
        self._draw = draw

    def random(self) -> float:
        return self._draw(st.floats(0.0, 1.0, exclude_max=True))

    def randint(self, a: int, b: int) -> int:
        return self._draw(st.integers(a, b))

    def uniform(self, a: float, b: float) -> float:
        return a if a == b else self._draw(st.floats(a, b))

    def choice(self, seq: Sequence[T]) -> T:
        return self._draw(st.sampled_from(seq))


@st.composite
def genomes(
    draw: st.DrawFn,
    *,
    stops: bool | None = None,
    symbol: str | None = None,
    timeframe: str | None = None,
    max_depth: int = 2,
    **options: Any,
) -> Genome:
    """Valid genomes over the whole grammar. ``stops``: True (at least one stop), False (none) or
    None (random); other options go to :func:`~mastertrade.engine.signals.random_genome.random_genome`."""
    return random_genome(
        _Draws(draw), stops=stops, symbol=symbol, timeframe=timeframe, max_depth=max_depth, **options
    )
