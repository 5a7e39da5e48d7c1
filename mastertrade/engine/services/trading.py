"""The trading service: runs the ``Trader`` on the market feed's events, and the trading jobs.

On start it settles the mode. Paper unless both live switches are on: ``mode = "live"`` in the config
and the ``LiveConsent`` the daemon provides when it was started with ``--live``. With the config saying
live but no ``--live``, nothing trades: the service provides ``TradingOff`` with the reason (which the
API answers with) and idles. In live mode the account's broker is a ``LiveBroker`` on its own ccxt client
of the ``[exchange]`` settings, and every exchange error feeds the exchange-errors breaker. The exchange
then holds no stop orders: the ``Trader`` protects the strategies' live positions itself
(``execution/protector.py``), so a live daemon must keep running for its positions to stay protected.

Then it provides the ``Trader``, its ``Account`` and ``GoalsDesk`` to the API routes and the jobs, and
feeds the ``Trader``: each ``PriceTick`` and ``CandleClosed`` in order (inside ``ctx.work``, so a stopping
daemon lets a fill be journaled), and every few seconds the housekeeping (breaker cool-downs, stale
data, live fills).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mastertrade.engine.events import CandleClosed, PriceTick
from mastertrade.engine.execution.strategies import StrategySource, TradedStrategy

if TYPE_CHECKING:
    from mastertrade.engine.kernel.context import EngineContext, JobRegistry, JobRun

log = logging.getLogger(__name__)

HOUSEKEEPING_S = 5.0


@dataclass(frozen=True)
class TradingOff:
    """Why this daemon does not trade."""

    reason: str


class TradingService:
    name = "trading"

    async def run(self, ctx: EngineContext) -> None:
        from mastertrade.engine.execution.account import Account
        from mastertrade.engine.execution.broker import LiveConsent
        from mastertrade.engine.execution.goals_desk import GoalsDesk
        from mastertrade.engine.execution.trader import Trader
        from mastertrade.engine.execution.wiring import build_trader

        subscription = ctx.bus.subscribe({"price.tick", "candle.closed"}, name="trading", maxsize=10_000)
        async with subscription:
            consent = ctx.find(LiveConsent)
            if ctx.settings.mode == "live" and consent is None:
                reason = (
                    'trading is off: the config says mode = "live" but the daemon was started without --live '
                    '(restart it with `mt daemon start --live`, or set mode = "paper")'
                )
                log.error(reason)
                ctx.provide(TradingOff(reason))
                await ctx.stopping.wait()
                return
            if consent is not None and (
                ctx.settings.market.venue != "ccxt" or ctx.venue.id != ctx.settings.exchange.id
            ):
                reason = (
                    f"trading is off: live trading on {ctx.settings.exchange.id} needs that exchange's "
                    f'own prices ([market] venue = "ccxt"), but the market feed is {ctx.venue.id!r}'
                )
                log.error(reason)
                ctx.provide(TradingOff(reason))
                await ctx.stopping.wait()
                return
            account = None
            venue = None
            holder: dict[str, Trader] = {}
            if consent is not None:
                from mastertrade.engine.execution.journal import Journal
                from mastertrade.engine.execution.live import LiveBroker
                from mastertrade.engine.market.ccxt_venue import CcxtVenue

                venue = CcxtVenue(ctx.settings.exchange)

                async def on_error(what: str) -> None:
                    trader = holder.get("trader")
                    if trader is not None:
                        await trader.account.risk.on_exchange_error(what)

                account = LiveBroker(
                    Journal(ctx.db),
                    venue,
                    consent,
                    quote=ctx.settings.paper.quote,
                    intent_max_age_s=ctx.settings.execution.intent_max_age_s,
                    unknown_grace_s=ctx.settings.execution.unknown_grace_s,
                    answer_within_s=ctx.settings.execution.answer_within_s,
                    publish=ctx.bus.publish,
                    on_error=on_error,
                )
            market_clock = None
            if ctx.venue.simulated:
                # Simulated or replayed: cool-downs, goal periods and the account's day run on market
                # time, as far as this service has read the feed (the bars it traded on, not the feed's
                # newest), from where a restarted replay stands; the freshness of prices stays on the
                # wall clock (a stopped feed is stale).
                from mastertrade.engine.kernel.clock import MarketTime
                from mastertrade.engine.market.resume import resume_market_time

                market_clock = MarketTime(ctx.clock)
                market = ctx.settings.market
                await resume_market_time(ctx.venue, market.symbols, market.timeframe, market_clock)
            trader = build_trader(
                ctx.settings,
                ctx.db,
                ctx.candles,
                venue_id=ctx.venue.id,
                broker=account,
                strategies=ContextStrategies(ctx),
                publish=ctx.bus.publish,
                **({"clock": market_clock, "wall": ctx.clock.now} if market_clock is not None else {}),
            )
            trader.market_clock = market_clock
            holder["trader"] = trader
            wire_parity_monitor(ctx, trader)
            try:
                async with ctx.work("trading start"):
                    await trader.start()
                ctx.provide(trader.account)
                ctx.provide(trader.goals)
                ctx.provide(trader)
                log.info("trading %s (%s book)", trader.mode, trader.account.book)
                await self._loop(ctx, trader, subscription)
            finally:
                for kind in (Trader, Account, GoalsDesk):
                    ctx.components.pop(kind, None)
                if venue is not None:
                    await venue.close()

    async def _loop(self, ctx: EngineContext, trader: Any, subscription: Any) -> None:
        from mastertrade.engine.candle import Bar
        from mastertrade.engine.execution.trader import PriceUpdate
        from mastertrade.engine.market.timeframes import timeframe_ms

        interval = min(HOUSEKEEPING_S, ctx.settings.execution.poll_interval_s)
        next_housekeeping = time.monotonic()
        while True:
            wait = max(0.0, next_housekeeping - time.monotonic())
            try:
                event = await subscription.get(wait_s=wait)
            except TimeoutError:
                event = None
            if isinstance(event, PriceTick | CandleClosed):
                closed = isinstance(event, CandleClosed)
                bar_ts = event.candle.ts
                # Market time: a closed bar is at its close, a tick at its time in the bar (else the open).
                if closed:
                    at = bar_ts + timeframe_ms(event.timeframe)
                else:
                    at = event.at_ms if isinstance(event, PriceTick) and event.at_ms is not None else bar_ts
                if trader.market_clock is not None:
                    trader.market_clock.observe(at)
                update = PriceUpdate(
                    event.symbol,
                    event.timeframe,
                    Bar(event.candle, closed=closed),
                    simulated=event.simulated,
                    at=at,
                )
                async with ctx.work("trade on price"):
                    if closed:
                        await trader.on_candle_closed(update)
                    else:
                        await trader.on_price(update)
            if time.monotonic() >= next_housekeeping:
                next_housekeeping = time.monotonic() + interval
                async with ctx.work("trading housekeeping"):
                    await trader.housekeeping()
            await asyncio.sleep(0)


def wire_parity_monitor(ctx: EngineContext, trader: Any) -> None:
    """The parity monitor's pause goes through the life-cycle door (a strategy the store does not know,
    like a test's, is only alerted on); its statuses are stored as ``parity`` snapshots of the books."""
    from mastertrade.engine.generator.lifecycle import move_strategy
    from mastertrade.engine.generator.states import State
    from mastertrade.engine.generator.store import StrategyStore

    async def pause(strategy_id: str, reason: str) -> None:
        await move_strategy(StrategyStore(ctx.db), strategy_id, State.PAUSED, reason, publish=ctx.bus.publish)

    async def save(book: str, status: dict[str, Any]) -> None:
        await trader.account.risk.store.save_snapshot("parity", book, status)

    trader.parity.pause = pause
    trader.parity.save = save


class ContextStrategies(StrategySource):
    """The strategies of whatever ``StrategySource`` the daemon provides now (tests provide their own),
    else the stored paper and active strategies (``generator.source.StoredStrategies``).

    The trading core asks at every closed candle of every symbol, and the stored list rarely changes,
    so it is read again only when it may have: every stored strategy and every move of one records a
    row in ``strategy_transitions`` in the same transaction, from whichever process (the API, the
    nightly run, ``mt strategy`` or ``mt demo`` on the database directly), and rows are never deleted.
    One look at the newest transition's id per candle (an index lookup) tells whether the list read
    last is still the stored one; a strategy activated or paused anywhere trades (or stops) from the
    next candle on, as before."""

    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx
        self._stored: StrategySource | None = None
        self._read: tuple[int | None, list[TradedStrategy]] | None = None
        """The newest transition id seen and the stored list read after seeing it."""

    async def traded(self) -> Sequence[TradedStrategy]:
        source = self.ctx.find(StrategySource)
        if source is not None:
            return list(await source.traded())
        if self._stored is None:
            from mastertrade.engine.generator.source import StoredStrategies

            self._stored = StoredStrategies(self.ctx.db)
        # The id first, then the list: a move committed in between makes the next look read again.
        seen = await self._newest_transition()
        if self._read is None or self._read[0] != seen:
            self._read = (seen, list(await self._stored.traded()))
        return list(self._read[1])

    async def _newest_transition(self) -> int | None:
        from sqlalchemy import text

        async with self.ctx.db.engine.connect() as conn:
            newest = await conn.scalar(text("SELECT MAX(id) FROM strategy_transitions"))
        return None if newest is None else int(newest)


def _account(ctx: EngineContext) -> Any:
    from mastertrade.engine.execution.account import Account

    return ctx.find(Account)


def _available(ctx: EngineContext) -> str | None:
    if _account(ctx) is not None:
        return None
    off = ctx.find(TradingOff)
    return off.reason if off is not None else "the trading service is not running yet"


async def risk_metrics(ctx: EngineContext, run: JobRun) -> dict[str, Any]:
    from mastertrade.engine.execution.riskmetrics import compute_risk_metrics
    from mastertrade.engine.market.as_of import research_until

    account = _account(ctx)
    if account is None:
        raise RuntimeError(_available(ctx))
    # on a replay, the closes it has played: its store holds the ones to come too
    until = research_until(ctx.venue, ctx.market_time)
    return await compute_risk_metrics(account, ctx.candles, ctx.venue.id, until=until)


async def goal_snapshots(ctx: EngineContext, run: JobRun) -> dict[str, Any]:
    from mastertrade.engine.execution.goals_desk import GoalsDesk

    desk = ctx.find(GoalsDesk)
    if desk is None:
        raise RuntimeError(_available(ctx))
    report = await desk.snapshot()
    return {"goals": len(report["goals"]), "risk_factor": report["risk_factor"]["value"]}


def goals_summary(result: Any) -> str | None:
    """The ``goal_snapshots`` job's result in words: how many goals it recorded, or that there were none
    to record (a bare "ok" read as progress recorded)."""
    if not isinstance(result, dict) or not isinstance(result.get("goals"), int):
        return None
    goals = result["goals"]
    if not goals:
        return "no goals to record (`mt goal add`)"
    factor = result.get("risk_factor")
    said = f"{goals} goal{'s' if goals != 1 else ''} recorded"
    return said + (f", risk factor {factor:.2f}" if isinstance(factor, int | float) else "")


def register_jobs(jobs: JobRegistry) -> None:
    """The trading jobs (their schedules are in ``[scheduler] jobs``)."""
    from mastertrade.engine.execution.riskmetrics import var_summary

    jobs.add(
        "risk_metrics",
        risk_metrics,
        "Compute VaR, CVaR and exposure of the account",
        available=_available,
        summarize=var_summary,
    )
    jobs.add(
        "goal_snapshots",
        goal_snapshots,
        "Record goal progress and the risk factor",
        available=_available,
        summarize=goals_summary,
    )
