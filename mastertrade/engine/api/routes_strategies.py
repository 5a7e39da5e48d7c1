"""``/v1/strategies``: the stored strategies (what ``mt generate`` and the nightly run store), one
strategy in full, and moving one through the pipeline by hand.

- ``GET /v1/strategies?state=&symbol=&timeframe=&limit=`` (at most 1,000): newest first, each with
  its out-of-sample headline figures and, once it has a paper book, its paper record.
- ``GET /v1/strategies/{id}``: the genome and its words, the validation (full series, in-sample,
  out-of-sample, folds, reference engine), the history, the backtest equity curve (the fast engine on
  the stored candles of its series, on a replay those closed by its market time, computed in a worker
  thread) and the paper book's equity curve.
- ``POST /v1/strategies/{id}/activate|pause|retire|paper``: ``generator.lifecycle.move_strategy``, the
  door the command line and the nightly run use too; an illegal move answers 400 ``illegal_transition``
  naming the allowed ones, an unknown id 404; ``expect`` (the state the caller saw) makes the move a
  compare-and-set. A move into paper or active publishes ``StrategyPromoted`` and a retirement
  ``StrategyRetired``.

Ids may be abbreviated to a unique prefix of at least 4 hex digits, as on the command line.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Query

from mastertrade import errors
from mastertrade.engine.api.deps import Ctx
from mastertrade.engine.api.equity import Point, recent_equity, thin
from mastertrade.engine.api.schemas_strategies import (
    BacktestInfo,
    PaperRecord,
    StrategyDetail,
    StrategySummary,
    TransitionInfo,
    TransitionRequest,
)
from mastertrade.engine.api.schemas_trading import EquityPointInfo
from mastertrade.engine.generator.states import State, parse_state
from mastertrade.engine.generator.store import StoredStrategy, StrategyHeadline, StrategyStore
from mastertrade.engine.kernel.context import EngineContext
from mastertrade.engine.market.timeframes import canonical_timeframe, check_timeframe, timeframe_ms

log = logging.getLogger(__name__)

router = APIRouter(tags=["strategies"])

CURVE_POINTS = 500
MAX_LISTED = 1000
"""The most strategies one listing returns. Each row's JSON columns are decoded on the daemon's event
loop, which is also the trading loop: 100,000 allowed meant a listing of 14,000 stored strategies held
it for 36 s (a health check waited that long); 1,000 held it 0.8 s at worst on a busy 2-core machine."""
HEADLINE = ("sharpe", "return_pct", "max_drawdown_pct", "trades")
EXTRA_OOS = ("profit_factor", "win_rate_pct", "sortino", "calmar", "exposure_pct", "cagr_pct")


def paper_book(strategy_id: str) -> str:
    return f"strategy:{strategy_id}"


async def paper_books(ctx: EngineContext) -> set[str]:
    from mastertrade.engine.execution.journal import Journal

    return {book.id for book in await Journal(ctx.db).books() if book.id.startswith("strategy:")}


async def paper_record(ctx: EngineContext, strategy: StoredStrategy) -> PaperRecord | None:
    """Its paper book's record as the promotion rules read it (whatever its state is now)."""
    from mastertrade.engine.generator.promotion import read_record

    record = await read_record(ctx.db, dataclasses.replace(strategy, state=State.PAPER))
    if record is None:
        return None
    return PaperRecord(book=paper_book(strategy.id), **record.as_dict())


def summary_fields(strategy: StoredStrategy | StrategyHeadline, paper: PaperRecord | None) -> dict[str, Any]:
    oos = strategy.holdout
    return {
        "id": strategy.id,
        "name": strategy.name,
        "state": strategy.state.value,
        "symbol": strategy.symbol,
        "timeframe": strategy.timeframe,
        "exchange": strategy.exchange,
        **{key: oos.get(key) for key in HEADLINE},
        "out_of_sample": oos,
        "deflated_sharpe": strategy.deflated_sharpe,
        "reference_agrees": strategy.reference_agrees,
        "complexity": strategy.complexity,
        "generation_run_id": strategy.generation_run_id,
        "paper": paper,
        "state_since": strategy.state_since,
        "created_at": strategy.created_at,
        "updated_at": strategy.updated_at,
    }


async def summary(ctx: EngineContext, strategy: StoredStrategy, books: set[str]) -> StrategySummary:
    paper = await paper_record(ctx, strategy) if paper_book(strategy.id) in books else None
    return StrategySummary.model_validate(summary_fields(strategy, paper))


def _states(values: list[str] | None) -> list[State] | None:
    """``state=paper&state=active`` or ``state=paper,active``; a bad name is a 400 naming the states."""
    if not values:
        return None
    return [parse_state(name.strip()) for value in values for name in value.split(",") if name.strip()]


@router.get("/v1/strategies", response_model=list[StrategySummary], summary="Stored strategies, newest first")
async def strategies(
    ctx: Ctx,
    state: Annotated[
        list[str] | None, Query(description="only these states (repeat, or comma-separate)")
    ] = None,
    symbol: str | None = None,
    timeframe: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LISTED)] = MAX_LISTED,
) -> list[StrategySummary]:
    store = StrategyStore(ctx.db)
    if timeframe is not None:
        timeframe_ms(timeframe)  # `7x` can match nothing: a 400 naming it, not an empty list
    rows = await store.summaries(states=_states(state), symbol=symbol, timeframe=timeframe, limit=limit)
    if not rows and timeframe is not None and canonical_timeframe(timeframe) != timeframe:
        # `60m` finds only strategies stored under it before such spellings were refused
        check_timeframe(timeframe)
    books = await paper_books(ctx)
    found = []
    for row in rows:  # headlines only; the few with a paper book are read whole for their record
        paper = await paper_record(ctx, await store.get(row.id)) if paper_book(row.id) in books else None
        found.append(StrategySummary.model_validate(summary_fields(row, paper)))
    return found


@router.get(
    "/v1/strategies/{strategy_id}",
    response_model=StrategyDetail,
    summary="A stored strategy in full: genome, validation, history, backtest and paper equity",
)
async def strategy(ctx: Ctx, strategy_id: str) -> StrategyDetail:

    store = StrategyStore(ctx.db)
    found = await store.get(strategy_id)
    books = await paper_books(ctx)
    book = paper_book(found.id)
    paper: PaperRecord | None = None
    paper_curve: list[Point] = []
    if book in books:
        paper = await paper_record(ctx, found)
        paper_curve = thin(await recent_equity(ctx.db, book), CURVE_POINTS)
    backtest, backtest_curve = await backtest_equity(ctx, found)
    history = [TransitionInfo.model_validate(item.as_dict()) for item in await store.history(found.id)]
    oos = found.holdout
    return StrategyDetail.model_validate(
        {
            **summary_fields(found, paper),
            "genome": found.genome_data if found.plugin is None else None,
            "description": found.description(multiline=True),
            "metrics": {key: oos[key] for key in EXTRA_OOS if oos.get(key) is not None},
            "full_series": found.metrics,
            "in_sample": found.in_sample,
            "holdout_buy_and_hold": found.selection.get("holdout_buy_and_hold"),
            "folds": found.folds,
            "reference": found.reference,
            "history": history,
            "backtest": backtest,
            "backtest_equity": [EquityPointInfo(ts=ts, equity=value) for ts, value in backtest_curve],
            "paper_equity": [EquityPointInfo(ts=ts, equity=value) for ts, value in paper_curve],
        }
    )


async def backtest_equity(ctx: EngineContext, strategy: StoredStrategy) -> tuple[BacktestInfo, list[Point]]:
    """The fast engine's equity curve of ``strategy`` over every stored candle of its series (thinned),
    with ``[backtest]`` cash and fee; no curve, with the reason, when its series has no candles. On a
    replay, over the candles closed by its market time only (``market.as_of``): its store holds the bars
    it has yet to play, which no curve may show."""
    import numpy as np

    from mastertrade.engine.market.as_of import left_out, research_until
    from mastertrade.engine.research.backtest import backtest_series
    from mastertrade.engine.research.series import SeriesLoader

    config = ctx.settings.backtest
    genome = strategy.strategy()  # a genome's, or an installed plugin's
    until = research_until(ctx.venue, ctx.market_time)
    try:
        series = await SeriesLoader(ctx.db, ctx.candles, stale="refuse").find(
            strategy.symbol, strategy.timeframe, strategy.exchange, [genome], until=until
        )
    except errors.UserInputError as exc:  # NotFound included: no candles stored for its series
        return BacktestInfo(cash=config.cash, fee=config.fee, note=str(exc)), []
    frame = series.frame
    if len(frame) < 2:
        return BacktestInfo(cash=config.cash, fee=config.fee, note=f"only {len(frame)} candle stored"), []

    def run() -> Any:
        return backtest_series(genome, series, cash=config.cash, fee=config.fee, engine="fast")

    done = await asyncio.to_thread(run)
    result = done.result
    metrics = result.metrics()
    note = None
    if metrics.get("trades") == 0 and not result.open_trade:  # a flat curve says why, as `mt backtest` does
        from mastertrade.engine.backtest.no_trades import no_trade_reason

        warmup = int(getattr(genome, "warmup", 0))
        note = no_trade_reason(strategy.name, warmup, done.entries[done.begin :], done.exits[done.begin :])
    stamps = series.stamps()
    equity = np.asarray(result.equity, dtype=float)
    curve = thin([(int(ts), float(value)) for ts, value in zip(stamps, equity, strict=True)], CURVE_POINTS)
    info = BacktestInfo(
        start=metrics.get("start"),
        end=metrics.get("end"),
        bars=len(frame),
        cash=config.cash,
        fee=config.fee,
        return_pct=metrics.get("return_pct"),
        trades=metrics.get("trades"),
        note=note,
        **({} if until is None else await left_out(ctx.db, series.key, until)),
    )
    return info, curve


async def _move(
    ctx: EngineContext, strategy_id: str, action: str, body: TransitionRequest | None
) -> StrategySummary:
    from mastertrade.engine.generator.lifecycle import ACTIONS, move_strategy

    target, done = ACTIONS[action]
    reason = body.reason if body is not None and body.reason else f"{done} by the user over the API"
    expect = parse_state(body.expect) if body is not None and body.expect else None
    async with ctx.work(f"strategy {action}"):
        moved = await move_strategy(
            StrategyStore(ctx.db), strategy_id, target, reason, expect=expect, publish=ctx.bus.publish
        )
    done_summary = await summary(ctx, moved.after, await paper_books(ctx))
    return done_summary.model_copy(update={"moved_from": moved.before.state.value})


@router.post(
    "/v1/strategies/{strategy_id}/activate",
    response_model=StrategySummary,
    summary="Let a paper or paused strategy trade the account",
)
async def activate(ctx: Ctx, strategy_id: str, body: TransitionRequest | None = None) -> StrategySummary:
    return await _move(ctx, strategy_id, "activate", body)


@router.post(
    "/v1/strategies/{strategy_id}/pause",
    response_model=StrategySummary,
    summary="Stop a paper or active strategy from trading, keeping it",
)
async def pause(ctx: Ctx, strategy_id: str, body: TransitionRequest | None = None) -> StrategySummary:
    return await _move(ctx, strategy_id, "pause", body)


@router.post(
    "/v1/strategies/{strategy_id}/retire",
    response_model=StrategySummary,
    summary="Stop a strategy for good",
)
async def retire(ctx: Ctx, strategy_id: str, body: TransitionRequest | None = None) -> StrategySummary:
    return await _move(ctx, strategy_id, "retire", body)


@router.post(
    "/v1/strategies/{strategy_id}/paper",
    response_model=StrategySummary,
    summary="Start paper trading a strategy that passed, or resume a paused one on paper",
)
async def paper(ctx: Ctx, strategy_id: str, body: TransitionRequest | None = None) -> StrategySummary:
    return await _move(ctx, strategy_id, "paper", body)
