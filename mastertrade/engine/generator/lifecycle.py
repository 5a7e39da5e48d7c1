"""Move a stored strategy through its life cycle: the one door for every move, by hand or by rule.

``move_strategy`` is what ``mt strategy activate|pause|retire|paper`` (directly when no daemon runs, else
through the daemon's ``POST /v1/strategies/{id}/<action>``), the API, the nightly run (start paper,
promote, retire) and ``mt demo`` call. It

1. reads the strategy and moves it with a compare-and-set (``StrategyStore.transition(expect=...)``):
   if something else moved it since it was read, the move is refused (``IllegalTransition``) rather
   than applied to a state nobody looked at; an illegal move names the allowed ones;
2. logs it, and publishes ``StrategyPromoted`` (into paper or active) or ``StrategyRetired``, which the
   alert service turns into the ``strategy`` alert and the TUI shows, when there is a bus to publish on
   (a move made without a running daemon has nobody to tell: the daemon's trading core reads the stored
   states on each closed candle).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mastertrade.engine.generator.states import State, parse_state
from mastertrade.engine.generator.store import StoredStrategy, StrategyStore
from mastertrade.errors import UserInputError

if TYPE_CHECKING:
    from mastertrade.config import MarketSettings
    from mastertrade.engine.events import Event

log = logging.getLogger(__name__)

Publish = Callable[["Event"], object]

ACTIONS: dict[str, tuple[State, str]] = {
    "activate": (State.ACTIVE, "activated"),
    "pause": (State.PAUSED, "paused"),
    "retire": (State.RETIRED, "retired"),
    "paper": (State.PAPER, "moved to paper trading"),
}
"""The moves made by hand (command line, API, TUI): the target state and how it reads in the history."""


def action_target(action: str) -> State:
    """The state a hand-made move goes to; an unknown action is a ``UserInputError`` naming them."""
    if action not in ACTIONS:
        raise UserInputError(f"invalid strategy action {action!r}: choose {', '.join(ACTIONS)}")
    return ACTIONS[action][0]


def untraded_reason(symbol: str | None, timeframe: str | None, market: MarketSettings) -> str | None:
    """Why a strategy on ``symbol`` ``timeframe`` gets no bar from the daemon's feed, so never trades on
    paper or the account (the trading core evaluates the closed bars of ``[market] symbols`` on the
    ``[market] timeframe`` only), or None when it does get them."""
    where = f"{symbol} {timeframe}"
    if timeframe != market.timeframe:
        return (
            f"the daemon trades {market.timeframe} bars ([market] timeframe): {where} gets no bar and will"
            f" not trade while it does"
        )
    if symbol not in market.symbols:
        return (
            f"the daemon streams {', '.join(market.symbols)} ([market] symbols): {where} gets no bar and"
            f" will not trade until {symbol} is added"
        )
    return None


@dataclass(frozen=True)
class Move:
    """A strategy before and after a move, and why it moved."""

    before: StoredStrategy
    after: StoredStrategy
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.after.id,
            "name": self.after.name,
            "from": self.before.state.value,
            "to": self.after.state.value,
            "reason": self.reason,
        }


async def move_strategy(
    store: StrategyStore,
    spec: str,
    target: State | str,
    reason: str,
    *,
    expect: State | str | None = None,
    publish: Publish | None = None,
) -> Move:
    """Move the strategy ``spec`` (an id or a unique prefix) to ``target`` (module docstring).

    ``expect`` is the state the caller saw (default: the state read here); the move only happens from
    it."""
    target = parse_state(str(target))
    before = await store.get(spec)
    seen = parse_state(str(expect)) if expect is not None else before.state
    after = await store.transition(before.id, target, reason, expect=seen)
    log.info("strategy %s %s -> %s: %s", after.id, before.state.value, after.state.value, reason)
    if publish is not None:
        from mastertrade.engine.events import StrategyPromoted, StrategyRetired

        if target in (State.PAPER, State.ACTIVE):
            publish(
                StrategyPromoted(
                    strategy_id=after.id,
                    name=after.name,
                    stage_from=before.state.value,
                    stage_to=after.state.value,
                    reason=reason,
                )
            )
        elif target is State.RETIRED:
            publish(StrategyRetired(strategy_id=after.id, name=after.name, reason=reason))
    return Move(before, after, reason)
