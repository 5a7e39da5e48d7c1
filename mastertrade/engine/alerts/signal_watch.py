"""Evaluates the signal alert rules (``signal_rule.py``) as bars close.

For each ``CandleClosed`` it takes the signal rules on that series and evaluates them exactly as the
trader evaluates strategies on that bar (``Trader.on_candle_closed``): the stored candles up to and
including the closed bar over ``window_bars`` of the rule, the alternative data through
``features_for`` with the same lookahead-free alignment, and the backtester's own signal code through
an ``IndicatorCache``. When a rule's condition holds at this bar but did not at the bar before, it
publishes a ``ConditionMet`` on the bus; the alert manager's rules turn it into the alert.

A rule on forecasts whose candles changed since their training (``collectors.forecast_candles``) reads
them as missing; that is said in a warning once per model version, as the forecasts service says it, not
on every closed bar.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from mastertrade.engine.alerts.signal_rule import ConditionMet, SignalRule
from mastertrade.engine.events import CandleClosed
from mastertrade.engine.market.symbols import same_symbol
from mastertrade.errors import MasterTradeError

if TYPE_CHECKING:
    from mastertrade.engine.kernel.context import EngineContext

log = logging.getLogger(__name__)


async def watch_signals(ctx: EngineContext) -> None:
    """Run until cancelled: evaluate the signal rules on every closed bar."""
    subscription = ctx.bus.subscribe({CandleClosed.type}, name="alert-signals", maxsize=10_000)
    warned: set[str] = set()
    async with subscription:
        async for event in subscription:
            if isinstance(event, CandleClosed):
                await evaluate_bar(ctx, event, warned=warned)


async def evaluate_bar(
    ctx: EngineContext, event: CandleClosed, *, warned: set[str] | None = None
) -> list[ConditionMet]:
    """Evaluate the signal rules of ``event``'s series at its bar; publishes and returns what fired.
    ``warned``: the stale-forecast reasons already said (each names its model version), said again only
    when new."""
    chosen = [
        rule
        for rule in ctx.alerts.rules.rules
        if isinstance(rule, SignalRule)
        and same_symbol(rule.symbol, event.symbol)
        and rule.timeframe == event.timeframe
    ]
    if not chosen:
        return []
    import pandas as pd

    from mastertrade.engine.collectors.provider import features_for
    from mastertrade.engine.execution.strategies import window_bars
    from mastertrade.engine.market.store import SeriesKey
    from mastertrade.engine.market.timeframes import timeframe_ms
    from mastertrade.engine.signals.indicators import IndicatorCache

    step = timeframe_ms(event.timeframe)
    window = max(window_bars(rule.strategy) for rule in chosen)
    key = SeriesKey(event.venue, event.symbol, event.timeframe)
    frame = await ctx.candles.read(key, event.ts - window * step, event.ts + 1)
    if not len(frame) or int(pd.DatetimeIndex(frame.index).as_unit("ms").asi8[-1]) != event.ts:
        log.warning("signal alerts: the closed bar %d of %s is not stored; not evaluated", event.ts, key)
        return []
    features = await features_for(
        ctx.db,
        [rule.strategy for rule in chosen],
        timeframe=event.timeframe,
        simulated=event.simulated,
        exchange=event.venue,
        stale="skip",  # a rule on forecasts whose candles changed reads them as missing, with a warning
        until=event.ts + step,  # the bar's close: on a replay, the bars after it are still to play
    )
    for reason in features.stale if features is not None else ():
        if warned is None or reason not in warned:
            if warned is not None:
                warned.add(reason)
            log.warning("signal alerts: %s; rules on that forecast read it as missing", reason)
    cache = IndicatorCache(frame, features=features)
    fired = []
    for rule in chosen:
        try:
            holds, _ = rule.strategy.signals(cache)
        except MasterTradeError as exc:
            log.error("signal alert rule %s: %s", rule.rule_id, exc)
            continue
        if not holds[-1] or (len(holds) > 1 and holds[-2]):
            continue
        met = ConditionMet(
            rule_id=rule.rule_id or 0,
            name=rule.name,
            symbol=event.symbol,
            timeframe=event.timeframe,
            ts=event.ts,
            close=event.candle.close,
            description=rule.description,
            simulated=event.simulated,
        )
        ctx.bus.publish(met)
        fired.append(met)
    return fired
