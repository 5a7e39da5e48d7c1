"""The risk manager as the trading service uses it: the pure check and the breakers, with their effects.

Every decision is written to the audit log; every breaker change is persisted (so it survives a restart),
audited and published (``CircuitBreakerTripped`` on a trip, which the alert rules deliver;
``CircuitBreakerReset`` on a reset). A rejected entry caused by an account-wide limit (drawdown, daily
loss) is also published as ``RiskBreached``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from mastertrade.db.types import utcnow
from mastertrade.engine import events
from mastertrade.engine.risk.breakers import Breaker, Breakers, BreakerState, Change
from mastertrade.engine.risk.check import (
    Controls,
    Decision,
    PortfolioSnapshot,
    ProposedOrder,
    Reason,
    Verdict,
    check_order,
)
from mastertrade.engine.risk.store import RiskStore
from mastertrade.utc import iso

if TYPE_CHECKING:
    from mastertrade.config import RiskSettings

log = logging.getLogger(__name__)

Publish = Callable[[events.Event], object]
ACCOUNT_LIMITS = {Reason.REDUCE_ONLY: "max_drawdown", Reason.DAILY_LOSS: "daily_loss_limit"}


CircuitBreakerReset = events.CircuitBreakerReset  # its home is the events module; this name stays


class RiskManager:
    """Checks orders and runs the breakers for the trading service (see the module docstring)."""

    def __init__(
        self,
        store: RiskStore,
        settings: RiskSettings,
        *,
        publish: Publish | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.settings = settings
        self.publish = publish
        self.clock = clock
        self.breakers = Breakers(settings)

    async def start(self) -> None:
        """Load the persisted breaker states (a trip survives a restart) and apply elapsed cool-downs."""
        self.breakers = Breakers(self.settings, await self.store.load_breakers())
        await self.expire()

    # --- the check ------------------------------------------------------------------------------

    def controls(self) -> Controls:
        return Controls(self.breakers.halted, self.breakers.halt_reason, tuple(self.breakers.tripped()))

    async def check(
        self,
        order: ProposedOrder,
        portfolio: PortfolioSnapshot,
        *,
        book: str,
        strategy_id: str | None = None,
        client_order_id: str | None = None,
        sizing: str | None = None,
    ) -> Decision:
        """The pure check's decision, audited (and an account-wide limit hit published). ``sizing``: how
        a strategy's entry was sized (Kelly x goal factor), kept in the audit row beside the decision so
        `mt risk audit` shows why an approved entry has the size it has."""
        await self.expire()
        decision = check_order(order, portfolio, self.settings, self.controls())
        await self.store.audit(
            decision.verdict.value,
            decision.reason + (f" (sizing: {sizing})" if sizing else ""),
            book=book,
            client_order_id=client_order_id,
            strategy_id=strategy_id,
            symbol=order.symbol,
            side=order.side,
            requested=order.amount,
            amount=decision.amount,
            data={
                "price": order.price,
                "findings": [finding.as_dict() for finding in decision.findings],
                "equity": portfolio.equity,
                "drawdown": portfolio.drawdown,
                "daily_loss": portfolio.daily_loss,
                "sizing": sizing,
            },
        )
        if decision.verdict is Verdict.REJECT:
            code = decision.findings[0].code
            limit = ACCOUNT_LIMITS.get(code)
            if limit is not None and self.publish is not None:
                value = portfolio.drawdown if code is Reason.REDUCE_ONLY else portfolio.daily_loss
                threshold = (
                    self.settings.max_drawdown
                    if code is Reason.REDUCE_ONLY
                    else self.settings.daily_loss_limit
                )
                self.publish(
                    events.RiskBreached(
                        limit=limit,
                        value=value,
                        threshold=threshold,
                        message=decision.reason,
                        severity="critical" if code is Reason.REDUCE_ONLY else "warning",
                        symbol=order.symbol,
                    )
                )
        return decision

    # --- the kill switch ------------------------------------------------------------------------

    async def halt(self, reason: str) -> list[Change]:
        return await self._apply(self.breakers.halt(reason, self.clock()))

    async def resume(
        self,
        names: list[Breaker] | None = None,
        *,
        drawdown_since_ts: int | None = None,
        reset_drawdown: bool = True,
    ) -> list[Change]:
        """Reset the named breakers by hand; all of them and the kill switch when None. With
        ``reset_drawdown`` that also sets a new drawdown baseline (the peak is measured from market time
        ``drawdown_since_ts`` on); without it the baseline is kept, so halting and resuming never forgets
        a loss. The account resets it only to release the drawdown limit (``Account.resume``)."""
        changes = await self._apply(self.breakers.resume(names))
        if names is None:
            kill = self.breakers.states[Breaker.KILL_SWITCH]
            data = dict(kill.data)
            if reset_drawdown:
                data["drawdown_since_ts"] = drawdown_since_ts
            self.breakers.states[Breaker.KILL_SWITCH] = BreakerState(Breaker.KILL_SWITCH, data=data)
            await self.store.save_breaker(self.breakers.states[Breaker.KILL_SWITCH])
            await self.store.audit(
                "resume",
                "resumed by hand: every breaker reset, "
                + ("drawdown measured from now" if reset_drawdown else "drawdown baseline kept"),
            )
        return changes

    @property
    def drawdown_since_ts(self) -> int | None:
        """Market time (epoch ms) from which the drawdown peak is measured (None: all history)."""
        value = self.breakers.states[Breaker.KILL_SWITCH].data.get("drawdown_since_ts")
        return int(value) if isinstance(value, int | float) else None

    # --- observations ---------------------------------------------------------------------------

    async def expire(self) -> list[Change]:
        return await self._apply(self.breakers.expire(self.clock()))

    async def on_bar(self, symbol: str, o: float, h: float, low: float) -> list[Change]:
        return await self._apply(self.breakers.on_bar(symbol, o, h, low, self.clock()))

    async def on_price(self, symbol: str, market_ms: int, price: float) -> list[Change]:
        return await self._apply(self.breakers.on_price(symbol, market_ms, price, self.clock()))

    async def on_freshness(
        self, last_update: Mapping[str, datetime], now: datetime | None = None
    ) -> list[Change]:
        """``last_update``: when each symbol's newest price arrived, on the clock ``now`` reads (by default
        this manager's; a simulation passes the wall clock, see ``Account.wall``)."""
        return await self._apply(self.breakers.on_freshness(last_update, now or self.clock()))

    async def on_trade_closed(self, pnl: float) -> list[Change]:
        changes = self.breakers.on_trade_closed(pnl, self.clock())
        if not changes:  # the running count must survive a restart too
            await self.store.save_breaker(self.breakers.states[Breaker.CONSECUTIVE_LOSSES])
        return await self._apply(changes)

    async def on_exchange_error(self, what: str) -> list[Change]:
        return await self._apply(self.breakers.on_exchange_error(self.clock(), what))

    async def _apply(self, changes: list[Change]) -> list[Change]:
        for change in changes:
            await self.store.save_breaker(change.state)
            kind = {
                "trip": "halt" if change.name is Breaker.KILL_SWITCH else "breaker_trip",
                "reset": "breaker_reset",
            }[change.action]
            await self.store.audit(
                kind,
                f"{change.name.value}: {change.reason}",
                data={"breaker": change.name.value, "action": change.action, "by": change.by},
            )
            if change.action == "trip":
                log.warning("circuit breaker %s tripped: %s", change.name.value, change.reason)
                until = iso(change.state.until) if change.state.until else None
                self._emit(
                    events.CircuitBreakerTripped(breaker=change.name.value, reason=change.reason, until=until)
                )
            else:
                log.info("circuit breaker %s reset (%s): %s", change.name.value, change.by, change.reason)
                self._emit(CircuitBreakerReset(breaker=change.name.value, reason=change.reason, by=change.by))
        return changes

    def _emit(self, event: events.Event) -> None:
        if self.publish is not None:
            self.publish(event)

    def status(self) -> list[BreakerState]:
        return list(self.breakers.states.values())
