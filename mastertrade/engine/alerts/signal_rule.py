"""Alert rules written in the genome condition language (``mt alerts add --when '{"<": [{"feature":
"fear_greed"}, 20]}' --symbol BTC/USDT``): any indicator, price or alternative-data condition a strategy
could use can raise an alert.

A ``SignalRule`` holds the condition as the entry rule of a small genome (``{"name": "alert-…",
"entry": WHEN, "exit": WHEN}``), so it is validated, described and evaluated by the very code that runs
strategies: ``signal_watch.py`` evaluates it as each bar of its series closes, over the same window of
stored candles and alternative data the trader uses (``execution/strategies.py``), and publishes a
``ConditionMet`` when the condition becomes true at that bar (it was false at the bar before). The
rule turns that event into the alert; while the condition stays true nothing more is said.

This module is imported when the rules are built: the genome parser is imported only when a signal
rule is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from mastertrade.engine.alerts.rule_base import AlertCandidate, Rule, Severity
from mastertrade.engine.events import Event
from mastertrade.errors import UserInputError

if TYPE_CHECKING:
    from mastertrade.engine.signals.strategy import Strategy


@dataclass(frozen=True, slots=True, kw_only=True)
class ConditionMet(Event):
    """A signal rule's condition became true at the close of bar ``ts`` of its series."""

    type: ClassVar[str] = "alert.condition"

    rule_id: int
    name: str
    symbol: str
    timeframe: str
    ts: int
    close: float
    description: str
    simulated: bool = False


def parse_when(when: Any, *, symbol: str, timeframe: str) -> Strategy:
    """The condition as a runnable strategy (its entry signal); ``InvalidGenome`` naming the bad part of
    ``--when`` (its JSON path) otherwise."""
    from mastertrade.engine.signals.genome import parse_genome
    from mastertrade.engine.signals.strategy import Strategy
    from mastertrade.errors import InvalidGenome

    if isinstance(when, str):
        try:
            when = json.loads(when)
        except json.JSONDecodeError as exc:
            raise InvalidGenome(
                f"invalid --when {when!r}: not JSON ({exc.msg} at column {exc.colno})"
            ) from None
    if not isinstance(when, dict):
        raise InvalidGenome(f'invalid --when {json.dumps(when)}: expected a rule object like {{"<": [a, b]}}')
    try:
        genome = parse_genome(
            {"name": "alert", "symbol": symbol, "timeframe": timeframe, "entry": when, "exit": when}
        )
    except InvalidGenome as exc:
        message = str(exc)
        if message.startswith("entry"):
            message = "--when" + message.removeprefix("entry")
        raise InvalidGenome(message) from None
    return Strategy.from_genome(genome)


class SignalRule(Rule):
    """Alerts when its condition becomes true on a closed bar of ``symbol`` / ``timeframe``."""

    types = frozenset({ConditionMet.type})

    def __init__(
        self,
        *,
        when: Any,
        symbol: str,
        timeframe: str,
        rule_id: int | None = None,
        name: str | None = None,
        severity: Severity | None = None,
    ) -> None:
        self.strategy = parse_when(when, symbol=symbol, timeframe=timeframe)
        assert self.strategy.genome is not None
        self.when: dict[str, Any] = self.strategy.genome.to_dict()["entry"]
        from mastertrade.engine.signals.describe import describe_rule

        self.description = describe_rule(self.strategy.genome.entry)
        super().__init__(
            rule_id=rule_id,
            name=name or f"{symbol} {timeframe}: {self.description}",
            kind="signal",
            severity=severity,
        )
        self.symbol = symbol
        self.timeframe = timeframe

    def params(self) -> dict[str, Any]:
        return {"symbol": self.symbol, "timeframe": self.timeframe, "when": self.when}

    def evaluate(self, event: Event) -> AlertCandidate | None:
        if not isinstance(event, ConditionMet) or event.rule_id != self.rule_id:
            return None
        from mastertrade.engine.market.timeframes import to_iso

        simulated = " (simulated market)" if event.simulated else ""
        return self._finish(
            AlertCandidate(
                rule=self.name,
                severity=Severity.WARNING,
                dedupe_key=f"signal:{self.symbol}:{self.timeframe}:{event.ts}",
                title=f"{self.symbol} {self.timeframe}: {self.description}",
                body=f"The condition holds at the close of the {to_iso(event.ts)} bar "
                f"(close {event.close:g}){simulated}.",
            )
        )


def build_signal_rule(
    params: dict[str, Any], *, rule_id: int | None, name: str | None, severity: Severity | None
) -> SignalRule:
    """A signal rule from its stored or submitted parameters (``when``, ``symbol``, ``timeframe``)."""
    when, symbol = params.get("when"), params.get("symbol")
    if when is None:
        raise UserInputError(
            'a signal rule needs --when, a condition like \'{"<": [{"feature": "fear_greed"}, 20]}\''
        )
    if not symbol:
        raise UserInputError("a signal rule needs --symbol, the series whose closing bars it watches")
    timeframe = params.get("timeframe")
    if not timeframe:
        raise UserInputError("a signal rule needs --timeframe")
    return SignalRule(
        when=when, symbol=str(symbol), timeframe=str(timeframe), rule_id=rule_id, name=name, severity=severity
    )
