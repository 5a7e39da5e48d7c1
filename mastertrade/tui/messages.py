"""What the app tells the screen on show: which part of the live state changed.

The app folds every daemon event into ``LiveState`` at once and posts at most one message per topic
per flush interval (``MasterTradeApp.flush_s``): a burst of 200 ticks becomes one ``PricesTicked``.
A newer message of the same kind makes a queued one redundant (the screen redraws from the state, not
from the message), so each says so in ``can_replace`` and the queue drops the older one.
"""

from __future__ import annotations

from textual.message import Message

from mastertrade.tui.state import Topic


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
