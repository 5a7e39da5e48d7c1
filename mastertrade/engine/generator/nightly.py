"""The nightly run: refresh data, generate, filter, start paper trading the best, promote and retire.

:func:`nightly` does the work on a database and settings; :func:`nightly_job` is the scheduler's job
``nightly_generation`` (schedule: ``[scheduler] jobs.nightly_generation``, 03:00 UTC by default), which
reports progress as ``JobProgress`` events and publishes ``StrategyPromoted`` / ``StrategyRetired``.

The universe is every symbol of ``[market] symbols`` on each timeframe of ``[generator] timeframes``
(default: ``[market] timeframe``):

1. **refresh**: for each series, on an exchange venue, download the candles missing since the last stored
   one (the simulated and replay venues store what they produce; there is nothing to fetch);
2. **generate**: the whole universe as one workload (:mod:`.universe`): a generation run of
   ``[generator] count`` strategies per series on its newest ``lookback_bars`` candles (on a replay, the
   newest closed by its market time, never the bars it has yet to play: ``market.as_of``), seeded from the
   date and the series (so a night can be re-run and gives the same strategies on the same data); with
   the dask executor every series' batches go to the cluster at once. A series without enough candles is
   skipped with the reason;
3. **paper**: for each run on the ``[market] timeframe`` (the bars the trading core evaluates), the
   ``paper_per_run`` strategies that passed the filter, best deflated Sharpe ratio first, move
   ``passed -> paper`` (the trading core starts trading them in their own paper books); a passer whose
   hold-out record is a better one's (the same trades) is skipped. The passers of another timeframe stay
   passed, said in their series' ``paper_note``: on paper they would never see a bar, so never build the
   record promotion needs, and hold their paper slots for good.

The report keeps one entry per series in ``series``; the entries of the ``[market] timeframe`` are also
under ``symbols`` by symbol.

Then every paper and active strategy is judged by :mod:`.promotion`: promoted to active, retired, or kept.

Before its own generation, a night puts on paper the passers of nightly runs a night cut short left
passed (:func:`resume_paper`, under ``resumed`` in the report).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mastertrade.engine.generator.lifecycle import move_strategy, untraded_reason
from mastertrade.engine.generator.promotion import Decision, account_books, decide, read_record
from mastertrade.engine.generator.states import TRADING, State
from mastertrade.engine.generator.store import IllegalTransition, StoredStrategy, StrategyStore

if TYPE_CHECKING:
    from mastertrade.config import Settings
    from mastertrade.db.database import Database
    from mastertrade.engine.events import Event
    from mastertrade.engine.generator.pipeline import GenerationSummary
    from mastertrade.engine.generator.universe import SeriesOutcome
    from mastertrade.engine.kernel.context import EngineContext, JobRun
    from mastertrade.engine.market.venue import Venue

log = logging.getLogger(__name__)

DESCRIPTION = "Refresh data, generate and validate strategies, paper-trade the best, promote and retire"
JOB = "nightly_generation"

Publish = Callable[["Event"], object]
Progress = Callable[[float, float | None, str], None]


async def start_paper(
    store: StrategyStore, summary: GenerationSummary, count: int, *, publish: Publish | None = None
) -> list[dict[str, Any]]:
    """Move the ``count`` best passers of a run (highest deflated Sharpe ratio) from passed to paper.

    A passer that traded exactly like a better one over the hold-out (same trades, return, drawdown: a
    stop never reached, a threshold no bar fell between) is the same bet under another fingerprint; it
    stays passed rather than taking a paper slot, so ``count`` slots hold ``count`` different records."""
    return await _start_paper(store, summary.run_id, summary.passed, count, publish=publish)


async def _start_paper(
    store: StrategyStore,
    run_id: int,
    passers: list[StoredStrategy],
    count: int,
    *,
    publish: Publish | None = None,
) -> list[dict[str, Any]]:
    passed = sorted(passers, key=lambda s: -(s.deflated_sharpe or 0.0))
    chosen: list[StoredStrategy] = []
    seen: set[tuple[Any, ...]] = set()
    for strategy in passed:
        if len(chosen) == count:
            break
        record = _holdout_record(strategy)
        if record is not None and record in seen:
            log.info("strategy %s stays passed: it traded the hold-out as a better one did", strategy.id)
            continue
        if record is not None:
            seen.add(record)
        chosen.append(strategy)
    moved = []
    for strategy in chosen:
        reason = (
            f"{_RUN_REASON.format(run_id=run_id)} among the {count} best of {len(passed)} that passed"
            f" (deflated Sharpe {strategy.deflated_sharpe or 0.0:.3f})"
        ) + _behind_holding(strategy)
        try:
            await move_strategy(store, strategy.id, State.PAPER, reason, expect=State.PASSED, publish=publish)
        except IllegalTransition as exc:  # moved by hand meanwhile
            log.info("strategy %s not moved to paper: %s", strategy.id, exc)
            continue
        moved.append(
            {"id": strategy.id, "name": strategy.name, "from": "passed", "to": "paper", "reason": reason}
        )
    return moved


_RUN_REASON = "generation run {run_id}:"  # how a nightly move to paper begins its reason


async def resume_paper(
    db: Database, settings: Settings, *, publish: Publish | None = None
) -> list[dict[str, Any]]:
    """Put on paper the passers of nightly runs whose night was cut short.

    A night stores each series' run as it is searched and moves the passers to paper once every series
    is done: a daemon killed, restarted or stopped in between (a deploy at 03:05) left the runs stored
    and their passers passed for good, since each night papers its own runs only, and running the job
    again searches anew (what is stored is skipped). Every nightly run stored since the last night that
    finished, on the traded timeframe, whose passers none went on paper by a night's move, gets the move
    now, as its night would have made it."""
    from sqlalchemy import func
    from sqlmodel import col, select

    from mastertrade.db.models.daemon import JobRun
    from mastertrade.db.models.strategies import GenerationRun, StrategyRecord, StrategyTransition

    store = StrategyStore(db)
    async with db.sessions() as session:
        finished = (
            await session.exec(
                select(func.max(JobRun.finished_at)).where(
                    col(JobRun.job) == JOB, col(JobRun.outcome) == "ok"
                )
            )
        ).one()
        query = select(GenerationRun).where(
            col(GenerationRun.trigger) == "nightly", col(GenerationRun.outcome) == "ok"
        )
        if finished is not None:
            query = query.where(col(GenerationRun.started_at) > finished)
        runs = list((await session.exec(query.order_by(col(GenerationRun.id)))).all())
    moved: list[dict[str, Any]] = []
    for run in runs:
        assert run.id is not None
        if untraded_reason(run.symbol, run.timeframe, settings.market) is not None:
            continue
        passers = await store.list(states=[State.PASSED], generation_run_id=run.id)
        if not passers:
            continue
        async with db.sessions() as session:
            papered = (
                await session.exec(
                    select(func.count())
                    .select_from(StrategyTransition)
                    .join(StrategyRecord, col(StrategyRecord.id) == col(StrategyTransition.strategy_id))
                    .where(
                        col(StrategyRecord.generation_run_id) == run.id,
                        col(StrategyTransition.to_state) == State.PAPER.value,
                        col(StrategyTransition.reason).startswith(_RUN_REASON.format(run_id=run.id)),
                    )
                )
            ).one()
        if papered:
            continue
        log.info("nightly run %s was cut short before its passers went on paper: moving them now", run.id)
        moved += await _start_paper(store, run.id, passers, settings.generator.paper_per_run, publish=publish)
    return moved


def untraded_note(passed: int, reason: str) -> str:
    """Why a run's passers stay passed rather than go on paper: ``reason`` (``lifecycle.untraded_reason``)."""
    return f"{passed} passed and stay passed, not on paper: {reason}"


def _holdout_record(strategy: StoredStrategy) -> tuple[Any, ...] | None:
    """What a strategy did over its hold-out (its trades and the figures they made), None when unknown."""
    held = strategy.holdout
    figures = tuple(held.get(key) for key in ("trades", "return_pct", "max_drawdown_pct", "final_equity"))
    if any(value is None for value in figures):
        return None
    return (*figures, json.dumps(held.get("trade_stats"), sort_keys=True))


def _behind_holding(strategy: StoredStrategy) -> str:
    """What the paper record should know from the start: the strategy did worse than buy-and-hold over
    its hold-out, by return or by Sharpe ratio, as every report says it (``report.versus_buy_and_hold``);
    empty when it did not, or when the run recorded no baseline."""
    from mastertrade.engine.generator.report import versus_buy_and_hold

    baseline = strategy.selection.get("holdout_buy_and_hold")
    if not baseline:
        return ""
    return versus_buy_and_hold(strategy.holdout, baseline, " over its hold-out")


async def apply_rules(
    db: Database, settings: Settings, *, publish: Publish | None = None
) -> list[dict[str, Any]]:
    """Judge every paper and active strategy by its record; returns every decision (kept ones too)."""
    store = StrategyStore(db)
    rules = settings.generator
    decisions = []
    trading = await store.list(states=TRADING)
    # the account's books, once: an active strategy's record is its trades there
    accounts = await account_books(db) if any(s.state is State.ACTIVE for s in trading) else []
    for strategy in trading:
        record = await read_record(db, strategy, accounts=accounts)
        decision = decide(strategy, record, rules)
        if decision.action == "promote":
            decision = await _unless_taken_off(store, strategy, decision)
        item: dict[str, Any] = {
            "id": strategy.id,
            "name": strategy.name,
            "state": strategy.state.value,
            "action": decision.action,
            "reason": decision.reason,
            "record": None if record is None else record.as_dict(),
        }
        decisions.append(item)
        if decision.action == "keep":
            continue
        target = State.ACTIVE if decision.action == "promote" else State.RETIRED
        try:
            await move_strategy(
                store, strategy.id, target, decision.reason, expect=strategy.state, publish=publish
            )
        except IllegalTransition as exc:
            item["action"], item["reason"] = "keep", f"not applied: {exc}"
            continue
    return decisions


async def _unless_taken_off(store: StrategyStore, strategy: StoredStrategy, decision: Decision) -> Decision:
    """A paper strategy that traded the account before was taken off it (paused by the trader or the
    parity monitor, then put on paper by hand): the rules do not put it back. Its paper book runs on
    through the pause, so its record still holds the stint that made someone take it off, and a promotion
    on it would undo the trader's move at the next night; only ``mt strategy activate`` puts it back."""
    history = await store.history(strategy.id)
    off = next(
        (
            item
            for item in reversed(history)
            if item.from_state is State.ACTIVE and item.to_state is not State.ACTIVE
        ),
        None,
    )
    if off is None:
        return decision
    return Decision(
        "keep",
        f"traded the account before and was taken off it ({off.reason}): the rules do not put it back,"
        f" `mt strategy activate {strategy.id}` does; {decision.reason}",
    )


async def refresh(
    db: Database, settings: Settings, venue: Venue | None, symbol: str, timeframe: str | None = None
) -> dict[str, Any]:
    """Download the candles missing since the last stored one (exchange venues only)."""
    if venue is None or venue.simulated:
        return {"skipped": "simulated or replay venue: nothing to download"}
    from mastertrade.engine.market.download import download
    from mastertrade.engine.market.store import CandleStore, SeriesKey
    from mastertrade.engine.market.timeframes import now_ms, timeframe_ms

    timeframe = timeframe or settings.market.timeframe
    candles = CandleStore(db)
    last = await candles.last_ts(SeriesKey(venue.id, symbol, timeframe))
    since = (
        last if last is not None else now_ms() - settings.generator.lookback_bars * timeframe_ms(timeframe)
    )
    summary = await download(
        candles, venue, symbol, timeframe, since, page_limit=settings.exchange.page_limit
    )
    return {"new": summary.new, "stored": summary.stored}


async def nightly(
    db: Database,
    settings: Settings,
    *,
    exchange: str,
    venue: Venue | None = None,
    publish: Publish | None = None,
    progress: Progress | None = None,
    now: datetime | None = None,
    until: int | None = None,
) -> dict[str, Any]:
    """The nightly run (see the module docstring); returns its summary (stored as the job's result).
    ``until``: the market time (epoch ms) the generation reads bars up to (a replay's: its store holds
    the bars it has yet to play; ``market.as_of``)."""
    from mastertrade.engine.generator.pipeline import GenerationRequest
    from mastertrade.engine.generator.universe import config_universe, generate_universe
    from mastertrade.engine.market.store import CandleStore, SeriesKey, is_simulated_exchange
    from mastertrade.errors import RetryableError

    now = now or datetime.now(UTC)
    market, config = settings.market, settings.generator
    store = StrategyStore(db)
    report: dict[str, Any] = {
        "date": now.date().isoformat(),
        "simulated": is_simulated_exchange(exchange),  # its strategies were searched on simulated prices
        "symbols": {},
        "series": [],
        "paper": [],
        "decisions": [],
    }
    if until is not None:
        from mastertrade.utc import iso_ms

        report["market_time"] = iso_ms(until)
    universe = config_universe(settings)
    entries: list[dict[str, Any]] = []
    for symbol, timeframe in universe:
        entry: dict[str, Any] = {"symbol": symbol, "timeframe": timeframe}
        entries.append(entry)
        report["series"].append(entry)
        if timeframe == market.timeframe:
            report["symbols"][symbol] = entry
        try:
            entry["refresh"] = await refresh(db, settings, venue, symbol, timeframe)
        except RetryableError as exc:  # a flaky exchange: generate on what is stored
            entry["refresh"] = {"error": str(exc)}
        if venue is not None and venue.simulated and timeframe != market.timeframe:
            if await CandleStore(db).last_ts(SeriesKey(exchange, symbol, timeframe)) is None:
                # the generator's advice (`mt data sim`) writes the research series, not the feed's
                entry["skipped"] = (
                    f"no {timeframe} series on {exchange}: the simulated feed makes {market.timeframe} bars"
                    f" only ([market] timeframe); research {timeframe} with `mt generate --symbols {symbol}"
                    f" --timeframes {timeframe}`"
                )
                log.info("nightly generation skipped %s %s: %s", symbol, timeframe, entry["skipped"])
    pending = [entry for entry in entries if "skipped" not in entry]
    searched = [(entry["symbol"], entry["timeframe"]) for entry in pending]
    # before this night stores runs of its own: what a night cut short left passed
    report["resumed"] = await resume_paper(db, settings, publish=publish)

    request = GenerationRequest(
        symbol=universe[0][0], timeframe=universe[0][1], exchange=exchange, trigger="nightly", until=until
    )
    seed = int(now.strftime("%Y%m%d"))
    if config.nightly_seed is not None:
        # the nights run so far: the series run most often (a series without candles yet stores no run,
        # so counting the first series alone held the seed still while it had none)
        runs = [await store.count_runs(trigger="nightly", symbol=s, timeframe=t) for s, t in universe]
        seed = config.nightly_seed + max(runs)
    report["seed"] = seed
    outcomes: list[SeriesOutcome] = []
    if searched:  # each series' seed derives from the night's and the series: the others' stay the same
        _, outcomes = await generate_universe(db, settings, request, searched, seed=seed, progress=progress)
    for entry, outcome in zip(pending, outcomes, strict=True):
        if outcome.summary is None:  # no or too few candles yet: nothing to search on
            entry["skipped"] = outcome.skipped
            log.info(
                "nightly generation skipped %s %s: %s", outcome.symbol, outcome.timeframe, entry["skipped"]
            )
            continue
        summary = outcome.summary
        entry["run_id"] = summary.run_id
        if summary.data.get("forecasts_left_out"):  # their candles changed: train again (logged too)
            entry["forecasts_left_out"] = summary.data["forecasts_left_out"]
        entry["counts"] = summary.counts
        entry["timings"] = {key: round(value, 3) for key, value in summary.timings.items()}
        untraded = untraded_reason(outcome.symbol, outcome.timeframe, market)
        if untraded is not None:
            # on paper, a passer the feed gives no bar would never build a record, and would hold its
            # paper slot for good
            if summary.passed:
                entry["paper_note"] = untraded_note(len(summary.passed), untraded)
                log.info("nightly run %s: %s", summary.run_id, entry["paper_note"])
            continue
        report["paper"] += await start_paper(store, summary, config.paper_per_run, publish=publish)
    total = max(len(searched), 1)  # the series searched, as the generation counted its progress
    report["decisions"] = await apply_rules(db, settings, publish=publish)
    if progress is not None:
        progress(total, total, "done")
    return report


async def nightly_job(ctx: EngineContext, run: JobRun) -> dict[str, Any]:
    """The scheduler's ``nightly_generation`` job."""
    from mastertrade.engine.market.as_of import research_until

    loop = asyncio.get_running_loop()

    def progress(done: float, total: float | None, message: str) -> None:
        # called from the generation's worker thread: hand it to the event loop
        loop.call_soon_threadsafe(run.progress, done, total, message)

    return await nightly(
        ctx.db,
        ctx.settings,
        exchange=ctx.venue.id,
        venue=ctx.venue,
        publish=ctx.bus.publish,
        progress=progress,
        # market time: on a simulated market each simulated night is its own date (and seed), as the
        # scheduler that fired the job counts nights; the wall clock gave every night of a day one seed
        now=ctx.market_time.now(),
        # on a replay, the bars it has played: its store holds the ones to come too
        until=research_until(ctx.venue, ctx.market_time),
    )
