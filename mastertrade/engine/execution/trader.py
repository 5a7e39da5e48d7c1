"""The decisions of one daemon: the market's events in, the strategies' orders out.

The flow (DESIGN.md "Data flow"): a price update goes to the account (its broker fills on it, then the
paper-stage strategies' books) and to the price breakers; a closed candle also marks every book's equity
and then evaluates the strategies on it (``strategies.latest_signals``, the backtester's code):

- a **paper-stage** strategy trades its own paper book (``strategy:<id>``), sized by its own fraction of
  equity at the fill exactly as its backtest, so ``mt strategy parity`` can compare the two. The book
  opens on the first bar the strategy is evaluated on and trades from the next, as a backtest's first
  bar only opens its account; the account's risk limits and breakers do not apply to these sandboxes
  (they would make the paper record differ from the backtest it is compared with);
- an **active** strategy trades the account: an entry is sized by Kelly (its backtest blended with its
  own record) x the goal risk factor, capped by the position limit, then checked by the account's risk
  gate (``Account.send``: may resize or reject it, with the reason audited); an exit sells what the
  strategy holds (its own fills' share of the account). In live mode the exchange holds no stop orders:
  the entry's stop-loss, take-profit and trailing stop are kept by the daemon itself
  (``protector.Protector``), which watches every price update and sells through the account.

The ``Trader`` only decides: it is built from its collaborators (the ``Account``, the ``GoalsDesk``, the
stored series with their features (``research.series``), the strategies), which ``wiring.build_trader``
assembles for the daemon and a test can replace by fakes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from mastertrade import errors
from mastertrade.config import Settings
from mastertrade.db.types import utcnow
from mastertrade.engine import events
from mastertrade.engine.backtest.params import OrderParams, order_params
from mastertrade.engine.execution.account import Account
from mastertrade.engine.execution.goals_desk import GoalsDesk
from mastertrade.engine.execution.matching import Bar
from mastertrade.engine.execution.protector import Protector
from mastertrade.engine.execution.strategies import (
    StaticStrategies,
    StrategySource,
    TradedStrategy,
    latest_signals,
    window_bars,
)
from mastertrade.engine.execution.strategy_orders import Action, decide, entry_request, exit_request
from mastertrade.engine.market.timeframes import timeframe_ms
from mastertrade.engine.sizing.kelly import kelly_sizing
from mastertrade.engine.sizing.sizer import size_entry

if TYPE_CHECKING:
    from mastertrade.engine.market.store import SeriesKey
    from mastertrade.engine.research.series import Series

log = logging.getLogger(__name__)


class SeriesSource(Protocol):
    """The stored series the Trader decides on (``research.series.SeriesLoader``)."""

    async def load(
        self,
        key: SeriesKey,
        strategies: Sequence[Any] = (),
        *,
        start: int | None = None,
        end: int | None = None,
        simulated: bool | None = None,
    ) -> Series: ...


@dataclass(frozen=True)
class PriceUpdate:
    """One update of a symbol's current bar from the market feed."""

    symbol: str
    timeframe: str
    bar: Bar
    simulated: bool = True


class Trader:
    """See the module docstring."""

    def __init__(
        self,
        settings: Settings,
        account: Account,
        goals: GoalsDesk,
        series: SeriesSource,
        *,
        venue_id: str,
        strategies: StrategySource | None = None,
        protection: Protector | None = None,
        clock: Any = utcnow,
    ) -> None:
        self.settings = settings
        self.account = account
        self.goals = goals
        self.series = series
        self.venue_id = venue_id
        self.strategies = strategies or StaticStrategies()
        self.protection = protection
        """Live only: the daemon-side protective exits of the strategies' positions."""
        self.clock = clock
        self._started: Any = None

    @property
    def mode(self) -> str:
        return self.account.mode

    # --- life cycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        self._started = self.clock()
        await self.account.start()
        await self.goals.start()
        if self.protection is not None:
            await self.protection.start()

    async def close(self) -> None:
        await self.account.close()

    # --- market events ----------------------------------------------------------------------------

    async def on_price(self, update: PriceUpdate) -> None:
        """A forming (or closed) bar: fill what it fills in every book, feed the price breakers."""
        bar = update.bar
        await self.account.on_price(update.symbol, bar)
        if self.protection is not None:
            await self.protection.on_price(update.symbol, bar)
        await self.account.on_price_books(update.symbol, bar)
        market_ms = bar.ts if update.simulated else int(self.clock().timestamp() * 1000)
        await self.account.risk.on_price(update.symbol, market_ms, bar.close)

    async def on_price_bar(self, symbol: str, bar: Bar) -> None:
        """``on_price`` for a bar of the trading timeframe (a convenience for callers without a feed)."""
        await self.on_price(PriceUpdate(symbol, self.settings.market.timeframe, bar, simulated=False))

    async def on_candle_closed(self, update: PriceUpdate) -> None:
        """A closed bar: fills, breakers, equity marks, then the strategies' decisions at its close."""
        await self.on_price(update)
        bar = update.bar
        await self.account.risk.on_bar(update.symbol, bar.open, bar.high, bar.low)
        await self.account.mark_equity(bar.ts)
        if update.timeframe != self.settings.market.timeframe:
            return
        chosen = [
            item
            for item in await self.strategies.traded()
            if item.symbol == update.symbol and item.timeframe == update.timeframe
        ]
        if not chosen:
            return
        step = timeframe_ms(update.timeframe)
        from mastertrade.engine.market.store import SeriesKey

        window = max(window_bars(item.strategy) for item in chosen)
        series = await self.series.load(
            SeriesKey(self.venue_id, update.symbol, update.timeframe),
            [item.strategy for item in chosen],
            start=bar.ts - window * step,
            end=bar.ts + 1,
            simulated=update.simulated,
        )
        if not len(series) or int(series.stamps()[-1]) != bar.ts:
            log.warning(
                "%s %s: the closed bar %d is not stored; no signals", update.symbol, update.timeframe, bar.ts
            )
            return
        for item in chosen:
            try:
                entry, exit_ = latest_signals(item.strategy, series.frame, series.features)
            except errors.MasterTradeError as exc:
                log.error("strategy %s: %s", item.id, exc)
                continue
            await self._act(item, entry, exit_, bar, bar.ts + step)

    async def _act(self, item: TradedStrategy, entry: bool, exit_: bool, bar: Bar, placed_ts: int) -> None:
        symbol = item.strategy.symbol
        assert symbol is not None
        bracket = order_params(item.strategy)
        if item.stage == "paper":
            if item.id not in self.account.books and not await self.account.has_book(item.id):
                # The book opens on this bar and trades from the next, as a backtest's bar 0 only opens
                # the account: so parity's backtest starts on this bar.
                await self.account.strategy_book(item.id, bar.ts)
                return
            broker = await self.account.strategy_book(item.id, bar.ts)
            ledger = await broker.ledger()
            position = ledger.positions.get(symbol)
            long = position is not None and position.opened_ts is not None and position.amount > 0
            action = decide(long=long, entry=entry, exit_=exit_)
            if action is Action.EXIT:
                assert position is not None
                await broker.cancel_exits(symbol, "exit signal")
                await broker.submit(
                    exit_request(symbol, position.amount, bar.close, strategy_id=item.id), placed_ts=placed_ts
                )
            elif action is Action.ENTER:
                await broker.submit(
                    entry_request(symbol, bracket, bar.close, strategy_id=item.id), placed_ts=placed_ts
                )
            if action is not None:
                self._signal(item, action, bar)
            return
        held = await self.account.strategy_holding(item.id, symbol)
        action = decide(long=held > 0, entry=entry, exit_=exit_)
        if action is None:
            return
        self._signal(item, action, bar)
        if action is Action.EXIT:
            await self.account.broker.cancel_exits(symbol, "exit signal")
            request = exit_request(symbol, held, bar.close, strategy_id=item.id)
            await self.account.send(request, bar.close, placed_ts, strategy_id=item.id)
            if self.protection is not None:
                await self.protection.sync(symbol)  # a filled exit closes the position's protection
            return
        portfolio = await self.account.portfolio()
        sizing = kelly_sizing(
            item.backtest,
            await self.account.real_record(item.id),
            kelly_fraction=self.settings.sizing.kelly_fraction,
            prior_trades=self.settings.sizing.prior_trades,
            min_trades=self.settings.sizing.min_trades,
            default_fraction=self.settings.sizing.default_fraction,
        )
        factor = await self.goals.risk_factor(portfolio)
        size = size_entry(portfolio.equity, bar.close, sizing, factor, self.settings.risk.max_position)
        if size.amount <= 0:
            await self.account.risk.store.audit(
                "reject",
                f"sizing: {size.explanation}",
                book=self.account.book,
                strategy_id=item.id,
                symbol=symbol,
                side="buy",
            )
            return
        if self.protection is not None:
            # Live: no stop orders at the exchange; the protector keeps the bracket and sells itself.
            plain = entry_request(
                symbol, OrderParams(size=bracket.size), bar.close, strategy_id=item.id, amount=size.amount
            )
            await self.protection.enter(
                plain,
                bracket,
                lambda request: self.account.send(
                    request, bar.close, placed_ts, strategy_id=item.id, sizing=size.explanation
                ),
            )
            return
        request = entry_request(symbol, bracket, bar.close, strategy_id=item.id, amount=size.amount)
        await self.account.send(request, bar.close, placed_ts, strategy_id=item.id, sizing=size.explanation)

    def _signal(self, item: TradedStrategy, action: Action, bar: Bar) -> None:
        symbol = item.strategy.symbol or ""
        self.account.emit(
            events.SignalRaised(
                strategy_id=item.id,
                symbol=symbol,
                timeframe=item.strategy.timeframe or "",
                side="buy" if action is Action.ENTER else "sell",
                price=bar.close,
                bar_ts=bar.ts,
                reason=f"{item.stage} strategy {item.strategy.name}",
            )
        )

    async def housekeeping(self) -> None:
        """Periodic: breaker cool-downs, stale data, and (live) fills of resting orders."""
        risk = self.account.risk
        await risk.expire()
        symbols = list(self.settings.market.symbols)
        if self.protection is not None:  # a protected position's prices must stay fresh too
            symbols += [symbol for symbol in self.protection.symbols() if symbol not in symbols]
        since = self._started or self.clock()  # a symbol not seen yet is as old as this run
        seen_at = self.account.seen_at
        await risk.on_freshness({symbol: seen_at.get(symbol, since) for symbol in symbols})
        await self.account.poll()
        if self.protection is not None:
            await self.protection.sync()
            await self.protection.check_health(seen_at, since, risk.policy.stale_after_s)
