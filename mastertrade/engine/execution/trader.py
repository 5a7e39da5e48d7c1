"""The decisions of one daemon: the market's events in, the strategies' orders out.

The flow (DESIGN.md "Data flow"): a price update goes to the account (its broker fills on it) and to the
price breakers; a closed candle also marks the account's equity and then has the bar clock
(``bar_clock.BarClock``) evaluate every stored bar the strategies have not seen yet, in order, with the
backtester's code:

- every traded strategy (paper or active) trades its own paper book (``strategy:<id>``) on whole closed
  bars, sized by its own fraction of equity at the fill exactly as its backtest, so ``mt strategy parity``
  and the parity monitor can compare the two. The book opens on the first bar the strategy is evaluated
  on and trades from the next, as a backtest's first bar only opens its account; the account's risk
  limits and breakers do not apply to these sandboxes (they would make the paper record differ from the
  backtest it is compared with);
- an **active** strategy also trades the account: an entry is sized by Kelly (its backtest blended with its
  own record) x the goal risk factor, capped by the position limit, then checked by the account's risk
  gate (``Account.send``: may resize or reject it, with the reason audited); an exit takes back the
  strategy's own exits (paper: its brackets' legs, never another owner's) and sells what the strategy
  holds (its own fills' share of the account), less what the sells by hand still on their way take of
  it (``Account.strategy_to_sell``: their coins are theirs until they end) and what its exits the exchange
  would not take back still hold (the rest is owed, and the next prices try again: ``owed_exits``). In live
  mode the exchange holds no stop orders: the entry's stop-loss, take-profit and trailing stop are kept by
  the daemon itself (``protector.Protector``), which watches every price update and sells through the
  account.

The ``Trader`` only decides: it is built from its collaborators (the ``Account``, the ``GoalsDesk``, the
stored series with their features (``research.series``), the strategies), which ``wiring.build_trader``
assembles for the daemon and a test can replace by fakes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from mastertrade import errors
from mastertrade.config import Settings
from mastertrade.db.types import utcnow
from mastertrade.engine import events
from mastertrade.engine.backtest.params import OrderParams, order_params
from mastertrade.engine.candle import Bar
from mastertrade.engine.execution import dust
from mastertrade.engine.execution.account import Account
from mastertrade.engine.execution.bar_clock import BarClock, SeriesSource
from mastertrade.engine.execution.goals_desk import GoalsDesk
from mastertrade.engine.execution.order_shares import TOLERANCE
from mastertrade.engine.execution.owed_exits import OwedExits
from mastertrade.engine.execution.protector import Protector
from mastertrade.engine.execution.strategies import StaticStrategies, StrategySource, TradedStrategy
from mastertrade.engine.execution.strategy_orders import Action, decide, entry_request, exit_request
from mastertrade.engine.kernel.clock import MarketTime
from mastertrade.engine.orders import OrderRequest, Side
from mastertrade.engine.sizing.kelly import kelly_sizing
from mastertrade.engine.sizing.sizer import size_entry
from mastertrade.utc import to_ms

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PriceUpdate:
    """One update of a symbol's current bar from the market feed."""

    symbol: str
    timeframe: str
    bar: Bar
    simulated: bool = True
    at: int | None = None
    """Market time of the update (epoch ms), when the feed knows it (a simulated tick inside its bar)."""


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
        owed: OwedExits | None = None,
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
        self._dust_said: dict[tuple[str, str], float] = {}
        """Live: the dust each strategy's exit found unsellable, said once (``_dust``)."""
        self.owed = owed if owed is not None else OwedExits(None, account.book, clock)
        """Live: the exits the strategies still owe, their exits at the exchange not taken back yet (kept
        in the journal: a start resumes them)."""
        self._started: Any = None
        self.market_clock: MarketTime | None = None
        """In a simulated market, the ``MarketTime`` the trading core runs on (the trading service moves
        it as it reads the feed)."""
        from mastertrade.engine.market.store import is_simulated_exchange

        self.simulated = is_simulated_exchange(venue_id)
        self.bar_clock = BarClock(
            series,
            account,
            venue_id,
            account=self._act_in_account,
            on_signal=self._signal,
        )
        """Evaluates every closed bar exactly once, in order, for every traded strategy."""
        from mastertrade.engine.execution.parity_monitor import ParityMonitor

        self.parity = ParityMonitor(settings.parity, self._book_parity, publish=account.emit)
        """Holds each book to its backtest as bars close (``parity_monitor``); the daemon wires its pause."""
        self.bar_clock.after_step.append(self.parity.on_step)

    @property
    def mode(self) -> str:
        return self.account.mode

    # --- life cycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        self._started = self.account.wall()
        await self.account.start()
        await self.goals.start()
        if self.protection is not None:
            await self.protection.start()
            await self.owed.load()  # tried at each symbol's first prices

    async def close(self) -> None:
        await self.account.close()

    # --- market events ----------------------------------------------------------------------------

    async def on_price(self, update: PriceUpdate) -> None:
        """A forming (or closed) bar: fill what it fills in the account, feed the price breakers (the
        strategies' books trade whole closed bars only, from the bar clock)."""
        bar = update.bar
        await self.account.on_price(update.symbol, bar)
        if self.protection is not None:
            await self.protection.on_price(update.symbol, bar)
            for owed in self.owed.due(update.symbol):
                await self._exit_owed(owed.strategy_id, update.symbol, bar)
        if update.simulated:  # the one-minute price window runs on market time
            market_ms = update.at if update.at is not None else bar.ts
        else:
            market_ms = to_ms(self.clock())
        await self.account.risk.on_price(update.symbol, market_ms, bar.close)
        await self.account.risk.expire()  # cool-downs end on market time, not at the next housekeeping

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
        await self.bar_clock.catch_up(chosen, update.symbol, update.timeframe, bar.ts)
        await self.parity.run_due()

    async def _book_parity(self, item: TradedStrategy) -> dict[str, Any]:
        from mastertrade.engine.execution.parity_report import strategy_book_parity

        return await strategy_book_parity(
            self.series,
            self.account.journal,
            self.venue_id,
            item,
            cash=self.settings.paper.strategy_cash,
            fee=self.settings.paper.fee,
        )

    async def _act_in_account(
        self, item: TradedStrategy, entry: bool, exit_: bool, bar: Bar, placed_ts: int, newest: bool
    ) -> None:
        """An active strategy's signals at ``bar`` in the account (its own paper book is the bar
        clock's). The account acts on the newest bar only: a bar evaluated while catching up is recorded
        in the strategy's paper book, but its order is never sent late (it would fill at today's price,
        not at the next bar's open the backtest assumes)."""
        symbol = item.strategy.symbol
        assert symbol is not None
        if not newest:
            log.warning("strategy %s: bar %d evaluated late; no account order for it", item.id, bar.ts)
            return
        bracket = order_params(item.strategy)
        held = await self.account.strategy_holding(item.id, symbol)
        action = decide(long=held > 0, entry=entry, exit_=exit_)
        if action is None:
            return
        self._signal(item, action, bar)
        side = Side.SELL if action is Action.EXIT else Side.BUY
        working = await self.account.strategy_order_on_its_way(item.id, symbol, side)
        if working is not None:
            reason = (
                f"strategy {item.id}'s {side.value} order {working.id} ({working.client_order_id}) is still "
                f"{working.state}: no second {side.value} at bar {bar.ts}"
            )
            log.warning("%s", reason)
            await self._audit_reject(
                reason, item.id, symbol, side.value, client_order_id=working.client_order_id
            )
            return
        if action is Action.EXIT:
            await self._exit(item.id, symbol, bar, placed_ts)
            return
        portfolio = await self.account.portfolio()
        sizing = kelly_sizing(
            item.backtest,
            await self.account.real_record(item.id),
            self.settings.sizing,
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
                lambda request: self._send(item.id, request, bar, placed_ts, sizing=size.explanation),
            )
            return
        request = entry_request(symbol, bracket, bar.close, strategy_id=item.id, amount=size.amount)
        await self._send(item.id, request, bar, placed_ts, sizing=size.explanation)

    async def _exit(
        self, strategy_id: str, symbol: str, bar: Bar, placed_ts: int, *, owed: bool = False
    ) -> None:
        """An active strategy's exit in the account: its own exits are taken back (paper: its brackets' legs;
        live: those resting at the exchange, which hold its coins), then what it holds is sold, less what
        the sells by hand on their way take of it (``Account.strategy_to_sell``) and what its exits the
        exchange would not take back still hold: the coins free beside them are other owners', never sold
        as its own. Such an exit is owed (``owed_exits``, kept in the journal) and tried again at the next
        prices; ``owed``: this is that try, which sells only once no exit of the strategy rests any more.
        It is paid once its sell is sent (refused or not: a refusal is said, not sent again) or nothing is
        left to sell."""
        await self.account.broker.cancel_exits(symbol, "exit signal", strategy_id=strategy_id)
        if self.protection is not None:  # its exits resting at the exchange hold the coins
            await self.protection.release(symbol, strategy_id, "exit signal")
        held = await self.account.strategy_holding(strategy_id, symbol)
        if held <= 0:  # an exit resting there had filled: nothing left to sell
            await self.owed.paid(strategy_id, symbol)
            if self.protection is not None:
                await self.protection.sync(symbol)
            return
        amount, resting = await self.account.strategy_to_sell(strategy_id, symbol), 0.0
        if self.protection is not None:
            amount, resting = await self.protection.beside_resting(symbol, strategy_id, amount)
        if resting > 0:
            await self.owed.owe(strategy_id, symbol, bar.ts)
            beside = amount > held * TOLERANCE and not owed
            (log.debug if owed else log.warning)(
                "strategy %s: exit at bar %d: its exits resting at the exchange, which hold %.8g of the %.8g "
                "%s it holds, could not be taken back yet; %s, and the next prices ask again",
                strategy_id,
                bar.ts,
                resting,
                held,
                symbol,
                f"selling the {amount:.8g} beside them" if beside else "nothing sold",
            )
            if not beside:
                return
        elif amount <= held * TOLERANCE:  # a sell by hand on its way has all its coins: it sells them
            await self.owed.paid(strategy_id, symbol)
            log.info(
                "strategy %s: exit at bar %d: the %.8g %s it holds are promised to a sell by hand still "
                "working (`mt orders --open`); nothing else to sell",
                strategy_id,
                bar.ts,
                held,
                symbol,
            )
            if self.protection is not None:
                await self.protection.sync(symbol)
            return
        if self._dust(strategy_id, symbol, amount, bar):
            if not resting > 0:  # (beside its exits still resting, the rest stays owed)
                await self.owed.paid(strategy_id, symbol)
            return
        request = exit_request(symbol, amount, bar.close, strategy_id=strategy_id)
        watched = self.protection is not None and self.protection.watches(symbol, strategy_id)
        await self._send(strategy_id, request, bar, placed_ts)
        if not resting > 0:  # journaled (and sent) first: a crash before this resumes it at the start
            await self.owed.paid(strategy_id, symbol)
        if self.protection is not None:
            await self.protection.sync(symbol)  # a filled exit closes the position's protection
        if not watched and getattr(self.account.broker, "exchange", None) is not None:
            # live, without a protection (one closing says it in its reason): the dust it left, once
            left = await self.account.strategy_dust(strategy_id, symbol)
            if left > 0:
                log.warning("strategy %s: exit at bar %d: %s", strategy_id, bar.ts, dust.said(left, symbol))

    def _dust(self, strategy_id: str, symbol: str, amount: float, bar: Bar) -> bool:
        """Whether the ``amount`` a strategy's exit would sell is less than the live exchange takes in one
        sell (``dust.unsellable``): dust no fill marked so (a journal from before the fills kept the
        exchange's minimum, an entry that brought in less than one order), or a rest worth less than the
        minimum notional. Refused before it was sent, it was asked again at every exit signal, each time an
        error, a refused order in the risk audit and an alert; now it is said once (again when the amount
        changes, and once per run) and not sent."""
        exchange = getattr(self.account.broker, "exchange", None)  # a live broker's market limits
        if exchange is None or not dust.unsellable(exchange, symbol, amount, bar.close):
            return False
        if self._dust_said.get((strategy_id, symbol)) != amount:
            self._dust_said[(strategy_id, symbol)] = amount
            log.warning(
                "strategy %s: exit at bar %d: nothing sent: the %.8g %s it would sell are less than the "
                "exchange takes in one sell at %.8g, which would refuse it",
                strategy_id,
                bar.ts,
                amount,
                symbol,
                bar.close,
            )
        return True

    async def _exit_owed(self, strategy_id: str, symbol: str, bar: Bar) -> None:
        """Try again an exit owed since its exits could not be taken back (``owed_exits``), unless its sell
        is still on its way (its outcome comes first)."""
        if await self.account.strategy_holding(strategy_id, symbol) <= 0:
            await self.owed.paid(strategy_id, symbol)
            if self.protection is not None:
                await self.protection.sync(symbol)
            return
        working = await self.account.strategy_order_on_its_way(strategy_id, symbol, Side.SELL)
        if working is not None:
            await self.owed.owe(strategy_id, symbol, bar.ts)
            return
        await self._exit(strategy_id, symbol, bar, self.account.placed_ts(symbol), owed=True)

    async def _send(
        self, strategy_id: str, request: OrderRequest, bar: Bar, placed_ts: int, sizing: str | None = None
    ) -> object:
        """A strategy's order through the account's risk gate and broker. One the broker refuses before it
        is journaled (a market not trading at the exchange, dust at its precision) is audited, said as an
        ``OrderRejected`` and logged, as a refusal of the risk manager is: raised, it failed the whole
        bar's work (the trading service restarted, the other strategies of the bar not evaluated)."""
        try:
            return await self.account.send(
                request, bar.close, placed_ts, strategy_id=strategy_id, sizing=sizing
            )
        except errors.MasterTradeError as exc:
            reason = f"strategy {strategy_id}'s {request.side.value} not placed: {exc}"
            log.error("%s", reason)
            await self._audit_reject(
                reason, strategy_id, request.symbol, request.side.value, requested=request.amount
            )
            self.account.emit(
                events.OrderRejected(
                    client_order_id=request.client_order_id or "",
                    symbol=request.symbol,
                    side=request.side.value,
                    amount=request.amount or 0.0,
                    reason=reason,
                    mode=self.mode,
                    book=self.account.book,
                )
            )
            return None

    async def _audit_reject(
        self,
        reason: str,
        strategy_id: str,
        symbol: str,
        side: str,
        *,
        client_order_id: str | None = None,
        requested: float | None = None,
    ) -> None:
        """A strategy's order not sent, in the risk audit (as the risk manager's refusals are)."""
        await self.account.risk.store.audit(
            "reject",
            reason,
            book=self.account.book,
            client_order_id=client_order_id,
            strategy_id=strategy_id,
            symbol=symbol,
            side=side,
            requested=requested,
        )

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
        wall = self.account.wall()
        since = self._started or wall  # a symbol not seen yet is as old as this run
        seen_at = self.account.seen_at
        await risk.on_freshness({symbol: seen_at.get(symbol, since) for symbol in symbols}, wall)
        await self.account.poll()
        if self.protection is not None:
            await self.protection.sync()
            await self.protection.check_health(seen_at, since, risk.settings.stale_after_s)
