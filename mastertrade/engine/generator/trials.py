"""The trial registry: every candidate ever scored on a series, so the deflated Sharpe ratio counts them.

A search that skips every genome tried on earlier nights has, in truth, tried all of them: the best of
tonight's candidates was chosen among everything tried so far on overlapping data. The registry keeps
one row per batch of trials (a generation run, an optimisation, a validation with declared trials) with
the series, the bars it covered and a summary of the trials' per-day Sharpe ratios (count, mean, sum of
squared deviations). :meth:`TrialRegistry.tally` pools every batch of the series whose bars overlap the
given range, and :class:`Tally` adds a new batch to it, exactly (Chan et al.'s parallel variance), so
both inputs of the deflated Sharpe ratio's expected maximum include every earlier night:

- ``N``: every distinct candidate ever scored on overlapping bars of the series;
- ``V``: the observed sample variance of those candidates' per-day Sharpe ratios (the same period as
  the per-day hold-out Sharpe ratio being deflated; none of them is annualised). Only while fewer than
  two of them have a defined Sharpe ratio, when no spread can be observed, ``V`` falls back to the
  spread a skill-less strategy's per-day Sharpe estimate has over the hold-out's ``T`` days,
  ``1 / (T - 1)`` (Lo 2002 at SR = 0). :meth:`Tally.deflation` makes the choice and names it.

A candidate is counted once. The genetic search skips every strategy stored for the market before, so
its batches hold new candidates only. A tuning (``mt optimize``) may score again what an earlier one
scored (the same seed and strategy give the same parameter sets): its batch keeps the hash of each
configuration it counted (:func:`trial_key`, the ``selection_trial_keys`` table), and a later tuning
leaves out of its batch the configurations already counted on the same bars of the series
(:meth:`TrialRegistry.known`). New configurations, another seed's included, still add.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlmodel import col, select

from mastertrade.db.models.strategies import SelectionTrialKey, SelectionTrials

if TYPE_CHECKING:
    from mastertrade.db.database import Database
    from mastertrade.engine.market.store import SeriesKey


@dataclass(frozen=True)
class Tally:
    """Trials and the moments of their per-day Sharpe ratios (``count`` of them finite)."""

    trials: int = 0
    count: int = 0
    mean: float = 0.0
    m2: float = 0.0
    batches: int = 0

    @classmethod
    def of(cls, trials: int, sharpes: Iterable[float | None]) -> Tally:
        finite = [float(value) for value in sharpes if value is not None and math.isfinite(value)]
        if not finite:
            return cls(trials=trials, batches=1)
        mean = math.fsum(finite) / len(finite)
        m2 = math.fsum((value - mean) ** 2 for value in finite)
        return cls(trials=trials, count=len(finite), mean=mean, m2=m2, batches=1)

    def __add__(self, other: Tally) -> Tally:
        count = self.count + other.count
        if count == 0:
            return Tally(self.trials + other.trials, 0, 0.0, 0.0, self.batches + other.batches)
        delta = other.mean - self.mean
        mean = self.mean + delta * other.count / count
        m2 = self.m2 + other.m2 + delta * delta * self.count * other.count / count
        return Tally(self.trials + other.trials, count, mean, m2, self.batches + other.batches)

    @property
    def variance(self) -> float:
        """Sample variance (ddof 1) of the trials' per-day Sharpe ratios; 0 with fewer than two."""
        return self.m2 / (self.count - 1) if self.count > 1 else 0.0

    def deflation(self, days: int) -> Deflation:
        """N and V of the deflated Sharpe ratio of a per-day Sharpe ratio measured over ``days`` days."""
        if self.count >= 2:
            return Deflation(max(1, self.trials), self.variance, OBSERVED)
        return Deflation(max(1, self.trials), skill_less_variance(days), FALLBACK)

    def as_dict(self) -> dict[str, Any]:
        return {
            "trials": self.trials,
            "sharpe_variance": self.variance,
            "sharpe_count": self.count,
            "batches": self.batches,
        }


OBSERVED = "observed"
"""``V`` is the sample variance of the registry's trials' per-day Sharpe ratios."""
FALLBACK = "skill-less 1/(T-1): fewer than 2 trials with a Sharpe ratio"
"""``V`` is the skill-less spread at the hold-out's length (no spread observable)."""


def skill_less_variance(days: int) -> float:
    """The variance of a skill-less strategy's per-day Sharpe estimate over ``days`` daily returns
    (Lo 2002: ``(1 + SR^2 / 2) / (T - 1)`` at ``SR = 0``): ``V``'s fallback (see the module docstring)."""
    return 1.0 / max(1, days - 1)


@dataclass(frozen=True)
class Deflation:
    """What a deflated Sharpe ratio was computed with: ``trials`` (N), ``variance`` (V, per day) and where
    V came from (``OBSERVED`` or ``FALLBACK``)."""

    trials: int
    variance: float
    variance_source: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "trials_used": self.trials,
            "variance_used": self.variance,
            "variance_source": self.variance_source,
        }


def trial_key(configuration: str) -> str:
    """The registry's key of one candidate: 32 hex digits of the hash of its canonical text."""
    return hashlib.sha256(configuration.encode("utf-8")).hexdigest()[:32]


class TrialRegistry:
    """The ``selection_trials`` table (see the module docstring)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def tally(self, series: SeriesKey, start_ts: int, end_ts: int) -> Tally:
        """Every recorded batch of ``series`` whose bars overlap ``[start_ts, end_ts]``, pooled."""
        query = select(SelectionTrials).where(
            col(SelectionTrials.exchange) == series.exchange,
            col(SelectionTrials.symbol) == series.symbol,
            col(SelectionTrials.timeframe) == series.timeframe,
            col(SelectionTrials.start_ts) <= end_ts,
            col(SelectionTrials.end_ts) >= start_ts,
        )
        async with self.db.sessions() as session:
            rows = (await session.exec(query.order_by(col(SelectionTrials.id)))).all()
        total = Tally()
        for row in rows:
            total = total + Tally(row.trials, row.sharpe_count, row.sharpe_mean, row.sharpe_m2, 1)
        return total

    async def known(self, series: SeriesKey, start_ts: int, end_ts: int) -> frozenset[str]:
        """The keys (:func:`trial_key`) of the candidates already counted on exactly the bars
        ``[start_ts, end_ts]`` of ``series``."""
        query = (
            select(SelectionTrialKey.key)
            .join(SelectionTrials, col(SelectionTrials.id) == col(SelectionTrialKey.batch_id))
            .where(
                col(SelectionTrials.exchange) == series.exchange,
                col(SelectionTrials.symbol) == series.symbol,
                col(SelectionTrials.timeframe) == series.timeframe,
                col(SelectionTrials.start_ts) == start_ts,
                col(SelectionTrials.end_ts) == end_ts,
            )
        )
        async with self.db.sessions() as session:
            return frozenset((await session.exec(query)).all())

    async def record(
        self,
        series: SeriesKey,
        start_ts: int,
        end_ts: int,
        batch: Tally,
        *,
        source: str,
        generation_run_id: int | None = None,
        keys: Iterable[str] = (),
    ) -> None:
        """Add one batch of trials scored on bars ``[start_ts, end_ts]`` of ``series``; ``keys``: those
        of the candidates it counts (see :meth:`known`), stored with it in one transaction."""
        if batch.trials <= 0:
            return
        async with self.db.sessions() as session:
            row = SelectionTrials(
                exchange=series.exchange,
                symbol=series.symbol,
                timeframe=series.timeframe,
                start_ts=start_ts,
                end_ts=end_ts,
                source=source,
                trials=batch.trials,
                sharpe_count=batch.count,
                sharpe_mean=batch.mean,
                sharpe_m2=batch.m2,
                generation_run_id=generation_run_id,
            )
            session.add(row)
            await session.flush()
            assert row.id is not None
            session.add_all(SelectionTrialKey(batch_id=row.id, key=key) for key in sorted(set(keys)))
            await session.commit()
