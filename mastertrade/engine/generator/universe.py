"""A research universe as one workload: generation runs on many series (symbols × timeframes) at once.

``mt generate --symbols A,B --timeframes 1h,4h`` (or ``--universe``) and the nightly job call
:func:`generate_universe`. Each series is an ordinary generation run (:func:`.pipeline.generate`: its own
search, validation, stored strategies and ``generation_runs`` row), seeded from the universe's seed and the
series (:func:`universe_seeds`), so a series gets the same strategies whether it runs alone with that
derived seed or inside any universe.

How the series share the machine depends on the executor:

- **dask**: one cluster session is opened for the whole universe, and up to ``in_flight`` series search at
  once, each in its own thread; their batches reach the scheduler together and are spread over every
  worker (each worker keeps a warm scorer per series it has seen). The cluster works on the universe, not
  on one series at a time while the others wait.
- **threads / processes**: one series after the other; each already uses every local core, and running
  several at once would only multiply the memory. Measured with threads on 2026-12-05 (2 cores, quiet):
  four series of one year of 1h, ``--count 500``, took 4.8-5.0 s two at a time against 4.9-5.0 s one after
  the other (two runs each): the second series' breeding waits for the GIL the first one's holds. After
  each series the memory it filled is given back (:func:`.release.release_series_memory`), so a run over
  many series stays flat per series.

A series that cannot run (no candles, too few) is reported as skipped with the reason, and the others go
on; any other error stops the universe (the runs already finished stay stored), with a note naming the
series it was searching (:func:`failed_note`).
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from mastertrade.engine.generator.search import derive
from mastertrade.errors import UserInputError

if TYPE_CHECKING:
    from mastertrade.config import Settings
    from mastertrade.db.database import Database
    from mastertrade.engine.generator.pipeline import GenerationRequest, GenerationSummary

UniverseProgress = Callable[[float, float, str], None]
"""``progress(done, total, message)``: series finished (fractional) out of the universe's series."""


@dataclass
class SeriesOutcome:
    """One series of a universe: its run's summary, or why it was skipped."""

    symbol: str
    timeframe: str
    seed: int
    summary: GenerationSummary | None = None
    skipped: str | None = None

    def as_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"symbol": self.symbol, "timeframe": self.timeframe, "seed": self.seed}
        if self.summary is None:
            doc["skipped"] = self.skipped
            return doc
        summary = self.summary.as_dict()
        rows = summary["strategies"]
        held = [row["holdout_sharpe"] for row in rows if row["holdout_sharpe"] is not None]
        # the search's own pick (its best search-window Sharpe ratio) and the middle of all: the largest
        # hold-out figure of many would be a pick made on the hold-out, which no number shown as
        # out-of-sample may be
        searched = [row for row in rows if row["search_sharpe"] is not None]
        top = max(searched, key=lambda row: row["search_sharpe"]) if searched else None
        doc.update(
            run_id=summary["run_id"],
            exchange=summary["exchange"],
            simulated=summary["simulated"],
            counts=summary["counts"],
            timings=summary["timings"],
            top_strategy=None if top is None else top["id"],
            top_holdout_sharpe=None if top is None else top["holdout_sharpe"],
            median_holdout_sharpe=statistics.median(held) if held else None,
            holdout_buy_and_hold_sharpe=summary["data"]["holdout_buy_and_hold"]["sharpe"],
            data=summary["data"],
            strategies=summary["strategies"],
        )
        return doc


def failed_note(outcomes: Sequence[SeriesOutcome], index: int) -> str:
    """What a universe stopped by an error in series ``index`` adds to the error: which series it was
    searching, and that the runs of those searched before it stay stored (a nightly generation's error
    named neither, and the trader could not tell which series to look at)."""
    failed = outcomes[index]
    stored = sum(1 for outcome in outcomes if outcome.summary is not None)
    if not stored:
        kept = "none was searched before it"
    elif stored == 1:
        kept = "the run of the 1 searched before it stays stored"
    else:
        kept = f"the runs of the {stored} searched before it stay stored"
    return (
        f"while searching {failed.symbol} {failed.timeframe}, series {index + 1} of {len(outcomes)}: {kept}"
    )


def universe_seeds(seed: int, series: Sequence[tuple[str, str]]) -> list[int]:
    """The seed of each (symbol, timeframe) of a universe seeded with ``seed``."""
    return [derive(seed, symbol, timeframe) for symbol, timeframe in series]


def series_of(
    symbols: Sequence[str], timeframes: Sequence[str], *, what: str = "timeframe"
) -> list[tuple[str, str]]:
    """Every (symbol, timeframe), symbols first, duplicates dropped (``UserInputError`` when empty, or
    naming a symbol that is not BASE/QUOTE, or a timeframe, as ``what``, not spelled its one way). A
    symbol is the market in any case, spelled as it is stored (``btc/usdt`` is BTC/USDT): one series, one
    seed, whatever the spelling typed."""
    from mastertrade.engine.market.symbols import parse_symbol
    from mastertrade.engine.market.timeframes import check_timeframe

    symbols = list(dict.fromkeys(parse_symbol(s) for s in symbols if s.strip()))
    timeframes = list(dict.fromkeys(t.strip() for t in timeframes if t.strip()))
    if not symbols:
        raise UserInputError("the universe has no symbols: give --symbols A,B or set [market] symbols")
    if not timeframes:
        raise UserInputError(
            "the universe has no timeframes: give --timeframes 1h,4h or set [market] timeframe"
        )
    for timeframe in timeframes:
        check_timeframe(timeframe, what=what)
    return [(symbol, timeframe) for symbol in symbols for timeframe in timeframes]


def config_universe(settings: Settings) -> list[tuple[str, str]]:
    """The configured universe: [market] symbols × ([generator] timeframes or [market] timeframe)."""
    return series_of(settings.market.symbols, settings.generator.timeframes or [settings.market.timeframe])


async def generate_universe(
    db: Database,
    settings: Settings,
    template: GenerationRequest,
    series: Sequence[tuple[str, str]],
    *,
    seed: int | None = None,
    progress: UniverseProgress | None = None,
    in_flight: int | None = None,
) -> tuple[int, list[SeriesOutcome]]:
    """One generation run per series of ``series`` (see the module docstring), as ``template`` says
    (its symbol, timeframe and seed are replaced per series). Returns the universe's seed and one outcome
    per series, in the order given."""
    from mastertrade.engine.generator.pipeline import check_request, generate

    check_request(template)
    base = seed if seed is not None else secrets.randbits(32)
    if not 0 <= base < 2**63:
        raise UserInputError(f"invalid seed {base}: must be between 0 and 2**63 - 1")
    kind = template.executor or settings.generator.executor
    scheduler = template.scheduler or settings.generator.scheduler
    outcomes = [
        SeriesOutcome(symbol, timeframe, own)
        for (symbol, timeframe), own in zip(series, universe_seeds(base, series), strict=True)
    ]
    done = [0.0] * len(outcomes)
    single_timeframe = len({timeframe for _, timeframe in series}) == 1

    def label(outcome: SeriesOutcome) -> str:
        return outcome.symbol if single_timeframe else f"{outcome.symbol} {outcome.timeframe}"

    def report(index: int, fraction: float, message: str) -> None:
        done[index] = fraction
        if progress is not None:
            progress(sum(done), len(outcomes), f"{label(outcomes[index])}: {message}")

    async def one(index: int) -> None:
        outcome = outcomes[index]
        request = replace(template, symbol=outcome.symbol, timeframe=outcome.timeframe, seed=outcome.seed)

        def step(scored: int, expected: int, message: str) -> None:
            report(index, min(scored / max(expected, 1), 0.99), message)

        try:
            outcome.summary = await generate(db, settings, request, progress=step)
        except UserInputError as exc:  # no or too few candles: the rest of the universe goes on
            outcome.skipped = str(exc)
        except Exception as exc:
            # it stops the universe: which series, and what stays of the others, travel with it (the
            # nightly job's stored error, a traceback's last lines)
            exc.add_note(failed_note(outcomes, index))
            raise
        report(index, 1.0, "skipped" if outcome.skipped else "done")

    if kind != "dask":
        from mastertrade.engine.generator.release import release_series_memory

        for index in range(len(outcomes)):
            await one(index)
            # nothing of a finished series is kept for the next (see the release module)
            await asyncio.to_thread(release_series_memory)
        return base, outcomes

    from mastertrade.engine.generator.cluster_address import require_dask

    require_dask()
    from mastertrade.engine.generator.cluster import session

    # one session for the universe: every series' executor reuses it (sessions are shared by address)
    context = session(scheduler, template.workers or settings.generator.workers)
    opened = await asyncio.to_thread(context.__enter__)
    try:
        limit = asyncio.Semaphore(in_flight or max(2, opened.threads()))

        async def limited(index: int) -> None:
            async with limit:
                await one(index)

        try:
            async with asyncio.TaskGroup() as group:
                for index in range(len(outcomes)):
                    group.create_task(limited(index))
        except BaseExceptionGroup as failed:  # the first error, as a sequential run would raise it
            raise failed.exceptions[0] from None
    finally:
        await asyncio.to_thread(context.__exit__, None, None, None)
    return base, outcomes
