"""The dashboard's messages. From the app to the screens: which part of the live state changed. From the
screens to the app: what the user asked for (``ChartRequested``, ``TicketRequested`` ...), which the app
handles with ``@on``; a screen never imports the app.

The app folds every daemon event into ``LiveState`` at once and posts at most one message per topic
per flush interval (``MasterTradeApp.flush_s``): a burst of 200 ticks becomes one ``PricesTicked``.
A newer message of the same kind makes a queued one redundant (the screen redraws from the state, not
from the message), so each says so in ``can_replace`` and the queue drops the older one.
"""

from __future__ import annotations

from typing import Literal

from textual.message import Message

from mastertrade.engine.api.schemas_strategies import StrategySummary
from mastertrade.tui.state import Topic

StrategyAction = Literal["activate", "pause", "retire"]


class StateChanged(Message, bubble=False):
    """Base: some topic of the live state changed; redraw from ``app.state``."""

    topic: Topic

    def can_replace(self, message: Message) -> bool:
        return type(message) is type(self)


class ConnectionChanged(StateChanged):
    topic = "connection"


class StatusChanged(StateChanged):
    topic = "status"


class PricesTicked(StateChanged):
    topic = "prices"


class CandlesChanged(StateChanged):
    topic = "candles"


class AccountChanged(StateChanged):
    """Balance, positions, orders or the equity curve."""

    topic = "account"


class RiskChanged(StateChanged):
    topic = "risk"


class GoalsChanged(StateChanged):
    topic = "goals"


class AlertsRaised(StateChanged):
    topic = "alerts"


class LogAppended(StateChanged):
    topic = "log"


class JobsProgressed(StateChanged):
    topic = "jobs"


class StrategiesChanged(StateChanged):
    topic = "strategies"


MESSAGES: dict[Topic, type[StateChanged]] = {
    kind.topic: kind
    for kind in (
        ConnectionChanged,
        StatusChanged,
        PricesTicked,
        CandlesChanged,
        AccountChanged,
        RiskChanged,
        GoalsChanged,
        AlertsRaised,
        LogAppended,
        JobsProgressed,
        StrategiesChanged,
    )
}


# --- requests: what a screen asks the app to do (the screens never import the app) --------------------


class ChartRequested(Message):
    """A chart of ``symbol`` on ``timeframe`` is wanted and not loaded yet."""

    def __init__(self, symbol: str, timeframe: str) -> None:
        super().__init__()
        self.symbol = symbol
        self.timeframe = timeframe


class TicketRequested(Message):
    """The order ticket, for ``symbol`` (None: the user picks) on ``side``."""

    def __init__(self, symbol: str | None, side: str) -> None:
        super().__init__()
        self.symbol = symbol
        self.side = side


class CancelConfirmed(Message):
    """The user confirmed cancelling order ``order_id``."""

    def __init__(self, order_id: int) -> None:
        super().__init__()
        self.order_id = order_id


class HaltRequested(Message):
    """The kill switch was asked for (the app asks for confirmation)."""


class ResumeRequested(Message):
    """Resuming trading was asked for (the app asks for confirmation)."""


class BreakerResetConfirmed(Message):
    """The user confirmed resetting ``breaker``."""

    def __init__(self, breaker: str) -> None:
        super().__init__()
        self.breaker = breaker


class StrategyChangeRequested(Message):
    """A move of a strategy (activate, pause, retire); the app confirms it where it matters."""

    def __init__(self, strategy: StrategySummary, action: StrategyAction) -> None:
        super().__init__()
        self.strategy = strategy
        self.action = action


class GenerationRequested(Message):
    """A generation run was asked for."""


class OverlaysRequested(Message):
    """The chart of ``symbol`` on ``timeframe`` needs the daemon's lines of overlay set ``label``, for
    the closed bars up to ``until``."""

    def __init__(self, symbol: str, timeframe: str, label: str, until: int) -> None:
        super().__init__()
        self.symbol = symbol
        self.timeframe = timeframe
        self.label = label
        self.until = until
