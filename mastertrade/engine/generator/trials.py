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

A candidate is counted once per series, whichever command scored it and on whichever overlapping
bars. Every batch with keys keeps the hash of each configuration it counted (:func:`trial_key`; a genome's
through :func:`genome_trial_key`, the same key whether ``mt generate``'s search, ``mt optimize``'s tuning
or ``mt optimize --evolve`` scored it; the ``selection_trial_keys`` table), and :meth:`TrialRegistry.tally`
counts each key once among the batches it pools. "The same bars" is the rule N already follows: bars that
overlap. A configuration scored on a window shifted from an earlier one (tonight's lookback, one day on
from last night's) is the same trial of the same selection: it was looked at on data the earlier score
saw too, so it is not a new draw and must not raise N a second time. Yet it stays in the new batch: a
later window that overlaps the new batch but not the old one must still count it. Only on exactly the
same bars does a run leave a configuration out of its batch (:func:`new_batch`): its score there is the
same observation again. On other bars its per-day Sharpe ratio is a new observation of the spread, so it
enters ``V``'s moments although not ``N``. Batches stored without keys (before the ``s33_trial_keys``
revision for tunings and ``s34_trial_key_index`` for generation runs, and the RL policies' batches of
one) keep counting all their trials: a configuration in them cannot be recognised, so it may be counted
once more, never once less.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from itertools import batched
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert
from sqlmodel import col, select

from mastertrade.db.models.strategies import SelectionTrialKey, SelectionTrials

if TYPE_CHECKING:
    from mastertrade.db.database import Database
    from mastertrade.engine.market.store import SeriesKey
    from mastertrade.engine.signals.genome import Genome


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


def genome_trial_key(genome: Genome) -> str:
    """The registry's key of a genome configuration, the same whichever command scored it: the hash of its
    logic, stops and size (its fingerprint), whatever its name."""
    from mastertrade.engine.signals.canonical import fingerprint

    return trial_key(f"genome:{fingerprint(genome)}")


@dataclass(frozen=True)
class Counted:
    """Which of a run's keys the registry counted before on bars overlapping the run's (``overlapping``),
    which of those on exactly the run's bars (``exact``), and ``prior``, the registry's tally of those
    overlapping bars (:meth:`TrialRegistry.tally`), read with them from the same batches.

    The same batches matter when two runs of one series overlap in time: a batch another run recorded
    between a tally read before the search and a key lookup after it had its keys "counted before" and
    its trials missing from N (two concurrent ``mt generate`` runs: the second said "1,351 trials, 1,323
    of its candidates counted before" where the registry then held 2,674). Read together, a batch
    recorded meanwhile is in both or in neither."""

    overlapping: frozenset[str] = frozenset()
    exact: frozenset[str] = frozenset()
    prior: Tally = Tally()


@dataclass(frozen=True)
class Batch:
    """A run's trials (see the module docstring): ``recorded`` (the moments of its candidates not counted
    on exactly these bars before) and their ``keys`` go into the registry; ``added``, the candidates
    counted on no overlapping bars before, is what the run adds to N; ``before`` the others."""

    recorded: Tally
    keys: tuple[str, ...]
    added: int
    before: int

    def pooled(self, prior: Tally) -> Tally:
        """``prior`` (the registry's tally of these bars) with this batch: each candidate counted once."""
        return replace(prior + self.recorded, trials=prior.trials + self.added)


def new_batch(scored: Mapping[str, float | None], counted: Counted) -> Batch:
    """The :class:`Batch` of a run that scored the candidates keyed in ``scored`` (each with its per-day
    Sharpe ratio, ``None`` when undefined), ``counted`` what the registry knew of them."""
    fresh = {key: sharpe for key, sharpe in scored.items() if key not in counted.exact}
    recorded = Tally.of(len(fresh), fresh.values()) if fresh else Tally()
    added = sum(1 for key in scored if key not in counted.overlapping)
    return Batch(recorded, tuple(sorted(fresh)), added, len(scored) - added)


Lookup = Callable[[Iterable[str]], Counted]
"""What a run scoring in a worker thread is given to ask the registry which keys it counted before."""


class TrialRegistry:
    """The ``selection_trials`` table (see the module docstring)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def tally(self, series: SeriesKey, start_ts: int, end_ts: int) -> Tally:
        """Every recorded batch of ``series`` whose bars overlap ``[start_ts, end_ts]``, pooled, each key
        counted once among them (see the module docstring)."""
        return (await self.counted(series, start_ts, end_ts, ())).prior

    async def counted(self, series: SeriesKey, start_ts: int, end_ts: int, keys: Iterable[str]) -> Counted:
        """Which of ``keys`` (:func:`trial_key`) were counted before on bars of ``series`` overlapping
        ``[start_ts, end_ts]``, which of them on exactly those bars, and the tally of those bars.

        Everything comes from the batches the first query finds: a batch recorded while this reads (its
        keys are committed with it) is left out of the keys and of the tally alike, whatever the
        database's isolation (SQLite reads each statement on its own snapshot without a transaction,
        PostgreSQL's read committed each statement on its own). A key kept by several pooled batches
        is found from its rows marked ``seen_before`` (kept by an earlier batch of the series when
        recorded): of any two rows of one key the later is marked, so only the rows of the marked keys
        are read, not every key of every night."""
        wanted = list(keys)
        async with self.db.sessions() as session:
            batches = await _batches(session, series)
            pooled = {
                batch_id: row
                for batch_id, row in batches.items()
                if row.start_ts <= end_ts and row.end_ts >= start_ts
            }
            repeated = await _repeats(session, series, start_ts, end_ts, pooled)
            found = await _rows_of(session, wanted) if wanted else []
        prior = Tally()
        for batch_id in sorted(pooled):
            row = pooled[batch_id]
            prior = prior + Tally(row.trials, row.sharpe_count, row.sharpe_mean, row.sharpe_m2, 1)
        overlapping: set[str] = set()
        exact: set[str] = set()
        for key, batch_id in found:
            kept = pooled.get(batch_id)
            if kept is not None:
                overlapping.add(key)
                if (kept.start_ts, kept.end_ts) == (start_ts, end_ts):
                    exact.add(key)
        return Counted(
            frozenset(overlapping), frozenset(exact), replace(prior, trials=prior.trials - repeated)
        )

    def lookup(self, series: SeriesKey, start_ts: int, end_ts: int) -> Lookup:
        """:meth:`counted` for a worker thread of ``asyncio.to_thread`` (called on the event loop): it
        blocks the thread, not the loop, until the query has run there. The loop outlives such threads
        (``asyncio.run`` waits for them with the loop running), so the query always gets its turn."""
        loop = asyncio.get_running_loop()

        def counted(keys: Iterable[str]) -> Counted:
            work = self.counted(series, start_ts, end_ts, list(keys))
            return asyncio.run_coroutine_threadsafe(work, loop).result()

        return counted

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
        of the candidates it counts (see :meth:`counted`), stored with it in one transaction (a bulk
        insert: a generation run counts a few thousand)."""
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
            batch_id = row.id
            assert batch_id is not None
            wanted = set(keys)
            if wanted:
                earlier = await _batches(session, series)
                earlier.pop(batch_id)  # only an earlier batch marks a key seen before
                before = {key for key, kept_by in await _rows_of(session, wanted) if kept_by in earlier}
                rows = [{"batch_id": batch_id, "key": key, "seen_before": key in before} for key in wanted]
                # Core's executemany in the session's transaction: no ORM object per key
                connection = await session.connection()
                await connection.execute(insert(SelectionTrialKey.__table__), rows)  # type: ignore[attr-defined]
            await session.commit()


CHUNK = 500
"""Values bound in one ``IN (...)``: SQLite takes up to 999 parameters a statement."""


async def _batches(session: Any, series: SeriesKey) -> dict[int, SelectionTrials]:
    """Every batch of ``series`` by id (a row a night: small beside its keys)."""
    query = select(SelectionTrials).where(
        col(SelectionTrials.exchange) == series.exchange,
        col(SelectionTrials.symbol) == series.symbol,
        col(SelectionTrials.timeframe) == series.timeframe,
    )
    rows = (await session.exec(query)).all()
    return {row.id: row for row in rows if row.id is not None}


async def _repeats(
    session: Any, series: SeriesKey, start_ts: int, end_ts: int, pooled: Mapping[int, SelectionTrials]
) -> int:
    """How many rows of the ``pooled`` batches repeat a key another of them kept: the rows of the keys
    marked ``seen_before`` in batches overlapping the bars (found in SQL, which may see a batch recorded
    since ``pooled`` was read), counted in ``pooled`` only."""
    overlapping = select(SelectionTrials.id).where(
        col(SelectionTrials.exchange) == series.exchange,
        col(SelectionTrials.symbol) == series.symbol,
        col(SelectionTrials.timeframe) == series.timeframe,
        col(SelectionTrials.start_ts) <= end_ts,
        col(SelectionTrials.end_ts) >= start_ts,
    )
    marked = (
        select(col(SelectionTrialKey.key).label("key"))
        .where(col(SelectionTrialKey.batch_id).in_(overlapping), col(SelectionTrialKey.seen_before))
        .distinct()
        .subquery()
    )
    rows = (
        select(SelectionTrialKey.key, SelectionTrialKey.batch_id)
        .join(marked, col(SelectionTrialKey.key) == marked.c.key)
        .where(col(SelectionTrialKey.batch_id).in_(overlapping))
    )
    kept = Counter(key for key, batch_id in (await session.exec(rows)).all() if batch_id in pooled)
    return sum(count - 1 for count in kept.values())


async def _rows_of(session: Any, keys: Iterable[str]) -> list[tuple[str, int]]:
    """Every stored row of ``keys``, any series: ``(key, batch_id)``, found by the key's index."""
    found: list[tuple[str, int]] = []
    for chunk in batched(sorted(set(keys)), CHUNK):
        query = select(SelectionTrialKey.key, SelectionTrialKey.batch_id).where(
            col(SelectionTrialKey.key).in_(chunk)
        )
        found.extend((await session.exec(query)).all())
    return found
