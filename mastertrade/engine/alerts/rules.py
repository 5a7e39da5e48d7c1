"""Alert rules: which bus events become alerts, with what severity, text and dedupe key.

Two families share one interface (``Rule.evaluate(event) -> AlertCandidate | None``):

- built-in event rules, switched on by name in ``[alerts] events``: ``order_filled``, ``risk_limit``,
  ``circuit_breaker``, ``goal_milestone``, ``strategy``, ``service_failure``, ``data_source``,
  ``whale``;
- rules the user adds (``mt alerts add``, stored in the database): ``price_cross`` (a symbol's price
  crosses a level), ``pct_move`` (a symbol moves by at least N percent within a window), ``signal``
  (a condition in the genome language becomes true on a closed bar: ``signal_rule.py``), or any of
  the event kinds above narrowed by ``symbol`` (or ``service``) and given their own severity.

Adding a kind (another area): write a formatter ``(event) -> AlertCandidate | None`` and add it to
``EVENT_KINDS`` with the event types it reads; its events come from ``engine/events.py``.

This module is imported when the settings load (to check ``[alerts] events``): keep it light.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mastertrade.engine.alerts.move_window import MoveWindow
from mastertrade.engine.alerts.rule_base import AlertCandidate as AlertCandidate
from mastertrade.engine.alerts.rule_base import Rule as Rule
from mastertrade.engine.alerts.rule_base import Severity as Severity
from mastertrade.engine.collectors.events import SourceStateChanged, WhaleSpotted
from mastertrade.engine.events import (
    CircuitBreakerTripped,
    Event,
    GoalMilestone,
    OrderFilled,
    PriceTick,
    RiskBreached,
    ServiceStateChanged,
    StrategyPromoted,
    StrategyRetired,
    book_label,
)
from mastertrade.engine.market.symbols import same_symbol
from mastertrade.errors import UserInputError


def _order_filled(event: Event) -> AlertCandidate | None:
    assert isinstance(event, OrderFilled)
    partial = f", {event.remaining:g} remaining" if event.remaining else ""
    strategy = f" (strategy {event.strategy_id})" if event.strategy_id else ""
    label = book_label(event.book or event.mode, event.mode)
    if label == "account":
        label = f"{event.mode} account"  # "paper account"; a live one already says "live account"
    return AlertCandidate(
        rule="order_filled",
        severity=Severity.INFO,
        dedupe_key=f"order_filled:{event.order_id}:{event.amount:g}@{event.price:g}",
        title=f"[{label}] {event.side} {event.amount:g} {event.symbol} filled at {event.price:g}",
        body=f"Order {event.client_order_id} filled{partial}, fee {_fees(event)}{strategy}.",
    )


EXIT_TITLES = {
    "exit_cancelled": "an exit was cancelled at the exchange, not by MasterTrade",
    "exit_unplaced": "part of the position has no exits at the exchange",
    "exit_unsettled": "an exit's state at the exchange is unknown: the position's protection is unclear",
    "market_gone": "its market is no longer listed by the exchange: its orders and position are stuck there",
}
"""Alerts about a live position's exits (``execution/exit_cancels.py``, ``live_partial.py``,
``lost_legs.py``) or its market (``gone_markets.py``): the message
says it all, there is no value against a limit."""


def _fees(event: OrderFilled) -> str:
    """The fill's fees each in its asset ("0.4 USDT", "0.008 BNB", "0.0001 BTC + 0.2 USDT")."""
    charged = {event.fee_asset: event.fee} if event.fee_asset else {}
    for asset, cost in event.more_fees.items():
        charged[asset] = charged.get(asset, 0.0) + cost
    if not charged:
        return f"{event.fee:g}"
    # fixed point: a fee of 3e-05 BNB is 0.00003 BNB to a person
    return " + ".join(f"{f'{cost:.8f}'.rstrip('0').rstrip('.')} {asset}" for asset, cost in charged.items())


def _risk_limit(event: Event) -> AlertCandidate | None:
    assert isinstance(event, RiskBreached)
    where = f" on {event.symbol}" if event.symbol else ""
    severity = Severity.CRITICAL if event.severity == "critical" else Severity.WARNING
    if event.limit in EXIT_TITLES:
        return AlertCandidate(
            rule="risk_limit",
            severity=severity,
            # each cancel is its own alert (its message names the orders); a position without exits is
            # one alert while it lasts
            dedupe_key=f"risk:{event.limit}:{event.symbol or '*'}"
            + (f":{zlib.crc32(event.message.encode()):08x}" if event.limit == "exit_cancelled" else ""),
            title=f"{event.symbol or 'live position'}: {EXIT_TITLES[event.limit]}",
            body=event.message,
        )
    return AlertCandidate(
        rule="risk_limit",
        severity=severity,
        dedupe_key=f"risk:{event.limit}:{event.symbol or '*'}",
        title=f"Risk limit {event.limit} hit{where}",
        body=f"{event.message} (value {event.value:g}, limit {event.threshold:g}).",
    )


def _circuit_breaker(event: Event) -> AlertCandidate | None:
    assert isinstance(event, CircuitBreakerTripped)
    until = f" until {event.until}" if event.until else " until resumed"
    return AlertCandidate(
        rule="circuit_breaker",
        severity=Severity.CRITICAL,
        dedupe_key=f"circuit:{event.breaker}",
        title=f"Trading halted: {event.breaker}",
        body=f"{event.reason}. Trading is halted{until}.",
    )


def _goal_milestone(event: Event) -> AlertCandidate | None:
    assert isinstance(event, GoalMilestone)
    return AlertCandidate(
        rule="goal_milestone",
        severity=Severity.INFO,
        dedupe_key=f"goal:{event.goal_id}:{event.milestone}",
        title=f"Goal {event.name}: {event.milestone} reached",
        body=event.message or f"{event.name} is at {event.progress_pct:.1f}% of its target.",
    )


def _strategy(event: Event) -> AlertCandidate | None:
    if isinstance(event, StrategyPromoted):
        return AlertCandidate(
            rule="strategy",
            severity=Severity.INFO,
            dedupe_key=f"strategy:{event.strategy_id}:{event.stage_to}",
            title=f"Strategy {event.name} promoted to {event.stage_to}",
            body=event.reason or f"{event.name} moved from {event.stage_from} to {event.stage_to}.",
        )
    assert isinstance(event, StrategyRetired)
    return AlertCandidate(
        rule="strategy",
        severity=Severity.WARNING,
        dedupe_key=f"strategy:{event.strategy_id}:retired",
        title=f"Strategy {event.name} retired",
        body=event.reason or f"{event.name} was retired.",
    )


def _service_failure(event: Event) -> AlertCandidate | None:
    assert isinstance(event, ServiceStateChanged)
    if event.service == "daemon" and event.state == "recovered":
        return AlertCandidate(
            rule="service_failure",
            severity=Severity.CRITICAL,
            dedupe_key="service:daemon:recovered",
            title="Daemon restarted after an unclean stop",
            body=event.error or "The previous daemon run ended without a clean stop (crash or kill).",
        )
    if event.service == "scheduler" and event.state == "interrupted":
        return AlertCandidate(
            rule="service_failure",
            severity=Severity.WARNING,
            dedupe_key="service:scheduler:interrupted",
            title="Job run interrupted by the daemon's end",
            body=event.error or "A job run was interrupted by the previous daemon's end.",
        )
    if event.state != "crashed":
        return None
    retry = f" Restarting in {event.backoff_s:g} s." if event.backoff_s is not None else ""
    return AlertCandidate(
        rule="service_failure",
        severity=Severity.WARNING,
        dedupe_key=f"service:{event.service}:crashed",
        title=f"Service {event.service} crashed",
        body=f"{event.error or 'unknown error'} (restart {event.restarts}).{retry}",
    )


def _data_source(event: Event) -> AlertCandidate | None:
    assert isinstance(event, SourceStateChanged)
    if event.degraded:
        return AlertCandidate(
            rule="data_source",
            severity=Severity.WARNING,
            dedupe_key=f"source:{event.source}:{event.state}",
            title=f"Data source {event.source} is {event.state}",
            body=event.reason or f"{event.source} stopped delivering; strategies see its last values.",
        )
    if event.previous in ("stale", "error") and event.state == "ok":
        return AlertCandidate(
            rule="data_source",
            severity=Severity.INFO,
            dedupe_key=f"source:{event.source}:ok",
            title=f"Data source {event.source} recovered",
            body=f"{event.source} delivers again.",
        )
    return None


def _whale(event: Event) -> AlertCandidate | None:
    assert isinstance(event, WhaleSpotted)
    return AlertCandidate(
        rule="whale",
        severity=Severity.INFO,
        dedupe_key=f"whale:{event.symbol}:{event.block_ts}",
        title=f"Whale transaction: ${event.max_usd:,.0f} {event.symbol}",
        body=event.message() + ".",
    )


@dataclass(frozen=True)
class EventKind:
    types: frozenset[str]
    describe: str
    format: Callable[[Event], AlertCandidate | None]


EVENT_KINDS: dict[str, EventKind] = {
    "order_filled": EventKind(frozenset({"order.filled"}), "an order was filled", _order_filled),
    "risk_limit": EventKind(frozenset({"risk.breached"}), "a risk limit was hit", _risk_limit),
    "circuit_breaker": EventKind(
        frozenset({"risk.circuit_breaker"}), "a circuit breaker halted trading", _circuit_breaker
    ),
    "goal_milestone": EventKind(frozenset({"goal.milestone"}), "a goal reached a milestone", _goal_milestone),
    "strategy": EventKind(
        frozenset({"strategy.promoted", "strategy.retired"}), "a strategy was promoted or retired", _strategy
    ),
    "service_failure": EventKind(
        frozenset({"service.state"}), "a service crashed or the daemon stopped uncleanly", _service_failure
    ),
    "data_source": EventKind(
        frozenset({"collector.state"}), "an alternative-data source went stale or failed", _data_source
    ),
    "whale": EventKind(
        frozenset({"collector.whale"}), "a transaction above the whale threshold was seen", _whale
    ),
}
BUILTIN_RULES = tuple(EVENT_KINDS)
PRICE_KINDS = ("price_cross", "pct_move")
RULE_KINDS = (*PRICE_KINDS, "signal", *BUILTIN_RULES)
RULE_EVENT_TYPES = frozenset({"price.tick", "alert.condition"}).union(
    *(kind.types for kind in EVENT_KINDS.values())
)


class EventRule(Rule):
    """One of the event kinds, optionally narrowed to a symbol or a service."""

    def __init__(
        self,
        kind: str,
        *,
        rule_id: int | None = None,
        name: str | None = None,
        severity: Severity | None = None,
        symbol: str | None = None,
        service: str | None = None,
    ) -> None:
        super().__init__(rule_id=rule_id, name=name or kind, kind=kind, severity=severity)
        self.spec = EVENT_KINDS[kind]
        self.types = self.spec.types
        self.symbol = symbol
        self.service = service

    def params(self) -> dict[str, Any]:
        return {key: value for key, value in (("symbol", self.symbol), ("service", self.service)) if value}

    def evaluate(self, event: Event) -> AlertCandidate | None:
        if event.type not in self.types:
            return None
        if self.symbol is not None and not same_symbol(getattr(event, "symbol", None) or "", self.symbol):
            return None
        if self.service is not None and getattr(event, "service", None) != self.service:
            return None
        return self._finish(self.spec.format(event))


class PriceCrossRule(Rule):
    """Fires when a symbol's price moves from one side of ``level`` to the other."""

    types = frozenset({"price.tick"})

    def __init__(
        self,
        *,
        symbol: str,
        level: float,
        direction: str = "any",
        rule_id: int | None = None,
        name: str | None = None,
        severity: Severity | None = None,
    ) -> None:
        way = "" if direction == "any" else f"{direction} "
        super().__init__(
            rule_id=rule_id,
            name=name or f"{symbol} crosses {way}{level:g}",
            kind="price_cross",
            severity=severity,
        )
        self.symbol = symbol
        self.level = level
        self.direction = direction
        self._last: float | None = None

    def params(self) -> dict[str, Any]:
        return {"symbol": self.symbol, "level": self.level, "direction": self.direction}

    def evaluate(self, event: Event) -> AlertCandidate | None:
        if not isinstance(event, PriceTick) or not same_symbol(event.symbol, self.symbol):
            return None
        previous, price = self._last, event.price
        self._last = price
        if previous is None:
            return None
        crossed = None
        if previous < self.level <= price:
            crossed = "above"
        elif previous > self.level >= price:
            crossed = "below"
        if crossed is None or self.direction not in ("any", crossed):
            return None
        return self._finish(
            AlertCandidate(
                rule=self.name,
                severity=Severity.WARNING,
                dedupe_key=f"price_cross:{self.symbol}:{self.level:g}:{crossed}",
                title=f"{self.symbol} crossed {crossed} {self.level:g}",
                body=f"{self.symbol} is at {price:g} (was {previous:g}){_simulated(event)}.",
            )
        )


class PctMoveRule(Rule):
    """Fires when a symbol (or any symbol) moves by at least ``pct`` percent within ``window_s``
    seconds: from the window's lowest price up, or from its highest down, to the newest price; the
    window then starts afresh, so a steady trend alerts once per further move. The window's prices are
    kept to 1% of its length (``move_window.MoveWindow``), in memory that does not grow with it."""

    types = frozenset({"price.tick"})

    def __init__(
        self,
        *,
        pct: float,
        window_s: float,
        symbol: str | None = None,
        rule_id: int | None = None,
        name: str | None = None,
        severity: Severity | None = None,
    ) -> None:
        label = f"{symbol or 'any symbol'} moves {pct:g}% in {_duration(window_s)}"
        super().__init__(rule_id=rule_id, name=name or label, kind="pct_move", severity=severity)
        self.symbol = symbol
        self.pct = pct
        self.window_s = window_s
        self._windows: dict[str, MoveWindow] = {}

    def samples(self) -> int:
        """How many entries the rule keeps in memory, over every symbol it has seen."""
        return sum(len(window) for window in self._windows.values())

    def params(self) -> dict[str, Any]:
        return {"symbol": self.symbol, "pct": self.pct, "window": _duration(self.window_s)}

    def evaluate(self, event: Event) -> AlertCandidate | None:
        if not isinstance(event, PriceTick) or (
            self.symbol is not None and not same_symbol(event.symbol, self.symbol)
        ):
            return None
        window = self._windows.get(event.symbol)
        if window is None:
            window = self._windows[event.symbol] = MoveWindow(self.window_s)
        window.add(event.at, event.price)
        low, high = window.low(), window.high()
        if low <= 0:
            return None
        up, down = (event.price / low - 1) * 100, (event.price / high - 1) * 100
        change, reference = (up, low) if up >= -down else (down, high)
        if abs(change) < self.pct:
            return None
        window.restart(event.at, event.price)
        way = "up" if change > 0 else "down"
        return self._finish(
            AlertCandidate(
                rule=self.name,
                severity=Severity.WARNING,
                dedupe_key=f"pct_move:{event.symbol}:{way}",
                title=f"{event.symbol} {way} {abs(change):.2f}% in {_duration(self.window_s)}",
                body=f"{event.symbol} moved from {reference:g} to {event.price:g}{_simulated(event)}.",
            )
        )


def _simulated(event: PriceTick) -> str:
    return " (simulated market)" if event.simulated else ""


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd]?)")
_UNIT_S = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any, *, what: str = "window") -> float:
    """Seconds from 90, "90s", "15m", "1h" or "1d"."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        match = _DURATION.fullmatch(str(value).strip().lower())
        if not match:
            raise UserInputError(f"invalid {what} {value!r}: expected seconds or a duration like 15m, 1h, 1d")
        seconds = float(match.group(1)) * _UNIT_S[match.group(2)]
    if not seconds > 0 or math.isinf(seconds):
        raise UserInputError(f"invalid {what} {value!r}: must be a positive duration")
    return seconds


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def _a(kind: str) -> str:
    """``a pct_move``, ``an order_filled``."""
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"


_LARGEST = {"level": 1e12, "pct": 1e6}
"""The largest ``level`` (the largest price an order takes, ``cli.validation.MAX_PRICE``) and ``pct`` (a
ten-thousandfold move): a rule past them can never fire, and ``--level 1e30`` was stored as one."""


def _number(params: Mapping[str, Any], key: str, kind: str) -> float:
    if params.get(key) is None:
        raise UserInputError(f"{_a(kind)} rule needs --{key}")
    try:
        value = float(params[key])
    except (TypeError, ValueError):
        raise UserInputError(f"invalid --{key} {params[key]!r}: expected a number") from None
    if not value > 0 or math.isinf(value):
        raise UserInputError(f"invalid --{key} {params[key]!r}: must be a positive number")
    largest = _LARGEST.get(key)
    if largest is not None and value > largest:
        raise UserInputError(f"invalid --{key} {params[key]!r}: larger than {largest:g}")
    return value


_PARAMS = {
    "price_cross": {"symbol", "level", "direction"},
    "pct_move": {"symbol", "pct", "window"},
    "signal": {"when", "symbol", "timeframe"},
    "order_filled": {"symbol"},
    "risk_limit": {"symbol"},
    "service_failure": {"service"},
}

RULE_NAME_MAX = 128
"""Longest rule name: the ``alert_rules.name`` and ``alerts.rule`` columns."""

_RULE_NAME = re.compile(r"[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*")
"""Not only spaces, and no control character: a newline or an escape sequence in a name broke
`mt alerts list`'s table and reached the terminal (the dashboard's alerts too)."""


def check_rule_name(name: str) -> None:
    """Refuse a name the user gives a rule that the stored columns or a terminal cannot hold
    (``UserInputError`` naming it); the CLI checks it before asking the daemon, which checks it again."""
    if len(name) > RULE_NAME_MAX:
        raise UserInputError(
            f"invalid name {name[:24] + '...'!r}: {len(name)} characters, at most {RULE_NAME_MAX}"
        )
    if _RULE_NAME.fullmatch(name) is None:
        raise UserInputError(
            f"invalid name {name!r}: not only spaces, no tab, newline or other control character"
        )


def build_rule(
    kind: str,
    params: Mapping[str, Any],
    *,
    rule_id: int | None = None,
    name: str | None = None,
    severity: str | None = None,
) -> Rule:
    """A rule from its stored or submitted form; ``UserInputError`` naming any bad value."""
    if kind not in RULE_KINDS:
        raise UserInputError(f"unknown alert rule kind {kind!r}: expected one of {', '.join(RULE_KINDS)}")
    level: Severity | None = None
    if severity is not None:
        try:
            level = Severity(severity)
        except ValueError:
            raise UserInputError(
                f"invalid severity {severity!r}: expected info, warning or critical"
            ) from None
    allowed = _PARAMS.get(kind, set())
    unknown = sorted(key for key, value in params.items() if key not in allowed and value is not None)
    if unknown:
        takes = f"it takes {', '.join(f'--{key}' for key in sorted(allowed))}" if allowed else "it takes none"
        raise UserInputError(f"{_a(kind)} rule takes no --{unknown[0]} ({takes})")
    symbol = params.get("symbol") or None
    if kind == "price_cross":
        if not symbol:
            raise UserInputError("a price_cross rule needs --symbol")
        direction = params.get("direction") or "any"
        if direction not in ("above", "below", "any"):
            raise UserInputError(f"invalid --direction {direction!r}: expected above, below or any")
        return PriceCrossRule(
            symbol=str(symbol),
            level=_number(params, "level", kind),
            direction=direction,
            rule_id=rule_id,
            name=name,
            severity=level,
        )
    if kind == "signal":
        from mastertrade.engine.alerts.signal_rule import build_signal_rule

        return build_signal_rule(dict(params), rule_id=rule_id, name=name, severity=level)
    if kind == "pct_move":
        return PctMoveRule(
            symbol=str(symbol) if symbol else None,
            pct=_number(params, "pct", kind),
            window_s=parse_duration(params.get("window") or "1h", what="--window"),
            rule_id=rule_id,
            name=name,
            severity=level,
        )
    service = params.get("service") or None
    return EventRule(
        kind,
        rule_id=rule_id,
        name=name,
        severity=level,
        symbol=str(symbol) if symbol else None,
        service=str(service) if service else None,
    )


@dataclass
class RuleSet:
    """The rules in force: the built-in ones from the config, then the user's."""

    rules: list[Rule] = field(default_factory=list)

    def evaluate(self, event: Event) -> list[AlertCandidate]:
        """The alerts ``event`` calls for, one per happening: where several rules see the same one (a
        built-in rule and a user's narrower rule of the same kind), the most severe alert is kept, and of
        equally severe ones the user's (the later rule), which the trader asked for by name."""
        found: dict[str, AlertCandidate] = {}
        for rule in self.rules:
            if event.type in rule.types:
                candidate = rule.evaluate(event)
                if candidate is None:
                    continue
                about = candidate.about or candidate.dedupe_key
                kept = found.get(about)
                if kept is None or candidate.rank >= kept.rank:
                    found[about] = candidate
        return list(found.values())
