"""Circuit breakers and the kill switch, as pure state: what trips them and what resets them.

A tripped breaker pauses entries (see ``check``) until it is reset. Each breaker has its own trip rule and
reset rule:

- ``kill_switch``: trips on ``mt risk halt``; resets only by hand (``mt risk resume``).
- ``price_move``: trips when a bar's range (high - low) exceeds ``price_move_bar`` of its open, or the
  price moves more than ``price_move_minute`` within one minute of market time; resets after
  ``price_move_cooldown_s``.
- ``stale_data``: trips when a traded symbol had no price update for ``stale_after_s`` seconds; resets
  when every traded symbol is fresh again.
- ``consecutive_losses``: trips after ``consecutive_losses`` losing trades in a row; resets after
  ``losses_cooldown_s``.
- ``exchange_errors``: trips on ``error_burst`` exchange errors within ``error_window_s``; resets after
  ``error_cooldown_s``.

Every breaker can also be reset by hand (``mt risk resume``, which resets them all and the kill switch).

``Breakers`` holds the states and the small counters the rules need, and answers each observation with
the list of ``Change``s it caused; the caller (``manager``) persists the states, writes the audit log and
publishes the events. Times are wall-clock UTC datetimes passed in by the caller (nothing here reads a
clock). The one-minute price window runs on the market time the caller passes with each price: the wall
clock for a real venue, the bar time for a simulated one, whose accelerated minutes are not a minute.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mastertrade.config import RiskSettings


class Breaker(StrEnum):
    KILL_SWITCH = "kill_switch"
    PRICE_MOVE = "price_move"
    STALE_DATA = "stale_data"
    CONSECUTIVE_LOSSES = "consecutive_losses"
    EXCHANGE_ERRORS = "exchange_errors"


RESET_RULES = {
    Breaker.KILL_SWITCH: "manual",
    Breaker.PRICE_MOVE: "cool-down",
    Breaker.STALE_DATA: "fresh data",
    Breaker.CONSECUTIVE_LOSSES: "cool-down",
    Breaker.EXCHANGE_ERRORS: "cool-down",
}

_MINUTE_MS = 60_000


def cooldown_s(risk: RiskSettings, breaker: Breaker) -> float | None:
    """Seconds until a tripped breaker resets by itself (None: it does not), from ``[risk]``."""
    return {
        Breaker.PRICE_MOVE: risk.price_move_cooldown_s,
        Breaker.CONSECUTIVE_LOSSES: risk.losses_cooldown_s,
        Breaker.EXCHANGE_ERRORS: risk.error_cooldown_s,
    }.get(breaker)


@dataclass(frozen=True)
class BreakerState:
    """One breaker: tripped or not, why, since when and (for cool-downs) until when.

    ``data`` carries what must survive a restart besides the trip itself (the running count of losses).
    """

    name: Breaker
    tripped: bool = False
    reason: str | None = None
    tripped_at: datetime | None = None
    until: datetime | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name.value,
            "tripped": self.tripped,
            "reason": self.reason,
            "tripped_at": self.tripped_at,
            "until": self.until,
            "reset": RESET_RULES[self.name],
        }


@dataclass(frozen=True)
class Change:
    """A breaker tripped or reset, and why; ``by`` is "rule" or "hand"."""

    name: Breaker
    action: str
    reason: str
    state: BreakerState
    by: str = "rule"


class Breakers:
    """The states of all breakers and the rules that move them (see the module docstring)."""

    def __init__(self, policy: RiskSettings, states: Iterable[BreakerState] = ()) -> None:
        self.policy = policy
        self.states: dict[Breaker, BreakerState] = {name: BreakerState(name) for name in Breaker}
        for state in states:
            self.states[state.name] = state
        self._errors: deque[datetime] = deque()
        self._window: dict[str, deque[tuple[int, float]]] = {}

    # --- what the check needs -------------------------------------------------------------------

    @property
    def halted(self) -> bool:
        return self.states[Breaker.KILL_SWITCH].tripped

    @property
    def halt_reason(self) -> str | None:
        return self.states[Breaker.KILL_SWITCH].reason

    def tripped(self) -> list[tuple[str, str]]:
        """(name, reason) of every tripped breaker except the kill switch."""
        return [
            (state.name.value, state.reason or "")
            for state in self.states.values()
            if state.tripped and state.name is not Breaker.KILL_SWITCH
        ]

    # --- trips and resets -----------------------------------------------------------------------

    def _trip(self, name: Breaker, reason: str, now: datetime, by: str = "rule") -> list[Change]:
        current = self.states[name]
        if current.tripped:
            return []
        cooldown = cooldown_s(self.policy, name)
        until = now + timedelta(seconds=cooldown) if cooldown is not None else None
        state = replace(current, tripped=True, reason=reason, tripped_at=now, until=until)
        self.states[name] = state
        return [Change(name, "trip", reason, state, by)]

    def _reset(self, name: Breaker, reason: str, by: str = "rule") -> list[Change]:
        current = self.states[name]
        if not current.tripped:
            return []
        data = dict(current.data)
        if name is Breaker.CONSECUTIVE_LOSSES:
            data["losses"] = 0
        state = BreakerState(name, data=data)
        self.states[name] = state
        return [Change(name, "reset", reason, state, by)]

    def halt(self, reason: str, now: datetime) -> list[Change]:
        """The kill switch: stop all entries until ``resume``."""
        return self._trip(Breaker.KILL_SWITCH, reason or "halted by hand", now, by="hand")

    def resume(
        self, names: Iterable[Breaker] | None = None, *, reason: str = "reset by hand"
    ) -> list[Change]:
        """Reset the named breakers by hand (all of them, with the kill switch, when None)."""
        changes: list[Change] = []
        for name in names if names is not None else list(Breaker):
            changes += self._reset(name, reason, by="hand")
        if names is None:
            self._errors.clear()
        return changes

    def expire(self, now: datetime) -> list[Change]:
        """Reset every cool-down breaker whose time is up."""
        changes: list[Change] = []
        for state in list(self.states.values()):
            if state.tripped and state.until is not None and now >= state.until:
                changes += self._reset(state.name, "cool-down over")
        return changes

    # --- observations ---------------------------------------------------------------------------

    def on_bar(self, symbol: str, o: float, h: float, low: float, now: datetime) -> list[Change]:
        """A closed bar: its range against ``price_move_bar``."""
        if o <= 0:
            return []
        move = (h - low) / o
        if move > self.policy.price_move_bar:
            return self._trip(
                Breaker.PRICE_MOVE,
                f"{symbol} moved {move * 100:.1f}% within one bar "
                f"(limit {self.policy.price_move_bar * 100:.1f}%)",
                now,
            )
        return []

    def on_price(self, symbol: str, market_ms: int, price: float, now: datetime) -> list[Change]:
        """A price update at market time ``market_ms``: the move within the last minute."""
        if not price > 0:
            return []
        window = self._window.setdefault(symbol, deque())
        window.append((market_ms, price))
        while window and window[0][0] < market_ms - _MINUTE_MS:
            window.popleft()
        low = min(p for _, p in window)
        high = max(p for _, p in window)
        move = (high - low) / low
        if move > self.policy.price_move_minute:
            return self._trip(
                Breaker.PRICE_MOVE,
                f"{symbol} moved {move * 100:.1f}% within one minute "
                f"(limit {self.policy.price_move_minute * 100:.1f}%)",
                now,
            )
        return []

    def on_freshness(self, last_update: Mapping[str, datetime], now: datetime) -> list[Change]:
        """The time of the newest price of each traded symbol: trip when one is stale, reset when all
        are fresh again."""
        limit = timedelta(seconds=self.policy.stale_after_s)
        stale = sorted(symbol for symbol, at in last_update.items() if now - at > limit)
        if stale:
            oldest = min(last_update[symbol] for symbol in stale)
            age = (now - oldest).total_seconds()
            return self._trip(
                Breaker.STALE_DATA,
                f"no price for {', '.join(stale)} for {age:.0f}s (limit {self.policy.stale_after_s:.0f}s)",
                now,
            )
        return self._reset(Breaker.STALE_DATA, "prices are fresh again")

    def on_trade_closed(self, pnl: float, now: datetime) -> list[Change]:
        """A round trip ended with ``pnl``: count losses in a row (a win or break-even ends the run)."""
        state = self.states[Breaker.CONSECUTIVE_LOSSES]
        losses = int(state.data.get("losses", 0)) + 1 if pnl < 0 else 0
        self.states[Breaker.CONSECUTIVE_LOSSES] = replace(state, data={**state.data, "losses": losses})
        if losses >= self.policy.consecutive_losses:
            return self._trip(
                Breaker.CONSECUTIVE_LOSSES,
                f"{losses} losing trades in a row (limit {self.policy.consecutive_losses})",
                now,
            )
        return []

    def on_exchange_error(self, now: datetime, what: str = "") -> list[Change]:
        """An exchange call failed: a burst of them within the window trips the breaker."""
        self._errors.append(now)
        horizon = now - timedelta(seconds=self.policy.error_window_s)
        while self._errors and self._errors[0] < horizon:
            self._errors.popleft()
        if len(self._errors) >= self.policy.error_burst:
            detail = f"; last: {what}" if what else ""
            return self._trip(
                Breaker.EXCHANGE_ERRORS,
                f"{len(self._errors)} exchange errors within {self.policy.error_window_s:.0f}s{detail}",
                now,
            )
        return []
