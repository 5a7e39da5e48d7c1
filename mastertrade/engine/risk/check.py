"""The pre-trade check: a pure function from (order, portfolio, limits, controls) to a decision.

Every order the trading core sends passes through ``check_order`` first. It does no I/O and reads no
clock, so the same inputs always give the same decision, and a property test can throw random
portfolios at it and prove that nothing it approves breaks a limit.

The rules, in the order they are applied:

- **Malformed orders** (amount or price not a positive finite number, unknown side) are rejected.
- **Sells** are exits: long-only spot means a sell can only reduce a held position, so it is approved
  whatever the other limits say (reduce-only mode, breakers and the kill switch stop entries, never
  exits). A sell of more than the free position is resized down to it (or rejected when nothing is free).
- **Buys** are entries and must pass, in turn: the kill switch; every circuit breaker; the drawdown
  limit (from the peak, ``max_drawdown`` or more puts the account in reduce-only mode); the daily loss
  limit; the number of open positions (a buy in a symbol not yet held opens one more); then the size
  limits: the position in the symbol after the fill (held value plus open buy orders plus this order)
  at most ``max_position`` x equity, the total exposure at most ``max_exposure`` x equity, and the
  cost with fee at most the free cash. A buy that breaks a size limit is resized to the largest amount
  that fits all of them (``resize``) or rejected; a buy (resized or not) worth less than
  ``min_notional`` is rejected.

Values are in the quote currency at the order's reference price (the last price when the order is
proposed). A resized amount is checked against every limit again, written the plain way (the state
after the fill against the limit); rounding that would break a limit by an ulp is taken off the amount.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mastertrade.config import RiskSettings


class Verdict(StrEnum):
    APPROVE = "approve"
    RESIZE = "resize"
    REJECT = "reject"


class Reason(StrEnum):
    """Why an order was rejected or resized (stable codes: they are in the audit log and in JSON)."""

    INVALID = "invalid_order"
    NO_POSITION = "no_position"
    NO_EQUITY = "no_equity"
    KILL_SWITCH = "kill_switch"
    CIRCUIT_BREAKER = "circuit_breaker"
    REDUCE_ONLY = "drawdown_reduce_only"
    DAILY_LOSS = "daily_loss_limit"
    MAX_OPEN_POSITIONS = "max_open_positions"
    MAX_POSITION = "max_position"
    MAX_EXPOSURE = "max_exposure"
    CASH = "insufficient_cash"
    MIN_NOTIONAL = "min_notional"


@dataclass(frozen=True)
class ProposedOrder:
    """An order as the check sees it: ``price`` is the reference price its value is taken at (the limit
    price of a limit order, else the last price) and ``fee`` the fee fraction its cost includes."""

    symbol: str
    side: str
    amount: float
    price: float
    fee: float = 0.0

    @property
    def notional(self) -> float:
        return self.amount * self.price


@dataclass(frozen=True)
class Holding:
    """A held position: ``amount`` of the base asset marked at ``price``; ``reserved`` of it is already
    promised to open sell orders."""

    amount: float
    price: float
    reserved: float = 0.0

    @property
    def value(self) -> float:
        return self.amount * self.price


@dataclass(frozen=True)
class PortfolioSnapshot:
    """The account as the check sees it, in quote currency.

    ``cash`` is all quote cash, including ``open_buys`` (the value of resting buy orders per symbol,
    which that cash is promised to). ``buy_fee`` is the fee rate the broker holds back beside each
    resting buy's value (the paper broker keeps a buy's fee aside until it fills; an exchange such as
    Binance holds back the value only): ``reserved_cash`` is what the broker holds back, so the check's
    free cash is the broker's. ``peak_equity`` is the equity peak the drawdown is measured from and
    ``day_start_equity`` the equity at the start of the UTC day.
    """

    cash: float
    holdings: Mapping[str, Holding] = field(default_factory=dict)
    open_buys: Mapping[str, float] = field(default_factory=dict)
    peak_equity: float | None = None
    day_start_equity: float | None = None
    buy_fee: float = 0.0

    @property
    def positions_value(self) -> float:
        return math.fsum(holding.value for holding in self.holdings.values())

    @property
    def equity(self) -> float:
        return self.cash + self.positions_value

    @property
    def open_buys_value(self) -> float:
        return math.fsum(self.open_buys.values())

    @property
    def reserved_cash(self) -> float:
        """Cash the broker holds back for the resting buys: their value and, where it keeps them aside,
        their fees."""
        return math.fsum(value * (1 + self.buy_fee) for value in self.open_buys.values())

    @property
    def free_cash(self) -> float:
        return self.cash - self.reserved_cash

    @property
    def exposure(self) -> float:
        """Value of all positions plus the open buy orders (their fees are not exposure)."""
        return self.positions_value + self.open_buys_value

    def symbol_exposure(self, symbol: str) -> float:
        holding = self.holdings.get(symbol)
        return (holding.value if holding else 0.0) + self.open_buys.get(symbol, 0.0)

    def is_open(self, symbol: str) -> bool:
        """Whether the symbol counts as an open position (held, or with a resting buy order)."""
        holding = self.holdings.get(symbol)
        return (holding is not None and holding.amount > 0) or self.open_buys.get(symbol, 0.0) > 0

    @property
    def open_positions(self) -> int:
        return len({s for s in (*self.holdings, *self.open_buys) if self.is_open(s)})

    @property
    def drawdown(self) -> float:
        """Fraction below the peak (0 at or above it)."""
        peak = self.peak_equity
        if peak is None or peak <= 0:
            return 0.0
        return max(0.0, (peak - self.equity) / peak)

    @property
    def daily_loss(self) -> float:
        """Fraction lost since the start of the day (0 when up)."""
        start = self.day_start_equity
        if start is None or start <= 0:
            return 0.0
        return max(0.0, (start - self.equity) / start)


@dataclass(frozen=True)
class Controls:
    """The switches that stop entries: the kill switch and the tripped circuit breakers (name, reason)."""

    halted: bool = False
    halt_reason: str | None = None
    tripped: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True)
class Finding:
    """One reason behind a decision: a stable code and a sentence with the numbers."""

    code: Reason
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code.value, "message": self.message}


@dataclass(frozen=True)
class Decision:
    """The outcome: ``amount`` is what may be sent (0 when rejected); ``findings`` say why."""

    verdict: Verdict
    order: ProposedOrder
    amount: float
    findings: tuple[Finding, ...] = ()

    @property
    def approved(self) -> bool:
        return self.verdict is not Verdict.REJECT

    @property
    def reason(self) -> str:
        """The findings as one line (what ``mt trade`` prints for a rejection)."""
        return "; ".join(finding.message for finding in self.findings) or "within all limits"

    @property
    def codes(self) -> list[str]:
        return [finding.code.value for finding in self.findings]

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "symbol": self.order.symbol,
            "side": self.order.side,
            "requested": self.order.amount,
            "amount": self.amount,
            "price": self.order.price,
            "reason": self.reason,
            "findings": [finding.as_dict() for finding in self.findings],
        }


def _pct(value: float) -> str:
    return f"{value * 100:.2f}%"


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _reject(order: ProposedOrder, code: Reason, message: str) -> Decision:
    return Decision(Verdict.REJECT, order, 0.0, (Finding(code, message),))


def _finite_positive(value: float) -> bool:
    return math.isfinite(value) and value > 0


def check_order(
    order: ProposedOrder,
    portfolio: PortfolioSnapshot,
    limits: RiskSettings,
    controls: Controls | None = None,
) -> Decision:
    """Approve, resize or reject ``order`` (see the module docstring for the rules)."""
    controls = controls or Controls()
    if order.side not in ("buy", "sell"):
        return _reject(order, Reason.INVALID, f"invalid side {order.side!r}: expected buy or sell")
    if not _finite_positive(order.amount):
        return _reject(order, Reason.INVALID, f"invalid amount {order.amount!r}: must be a positive number")
    if not _finite_positive(order.price):
        return _reject(order, Reason.INVALID, f"invalid price {order.price!r}: must be a positive number")
    if not (math.isfinite(order.fee) and 0 <= order.fee < 1):
        return _reject(order, Reason.INVALID, f"invalid fee {order.fee!r}: must be a fraction in [0, 1)")
    if order.side == "sell":
        return _check_exit(order, portfolio)
    return _check_entry(order, portfolio, limits, controls)


def _check_exit(order: ProposedOrder, portfolio: PortfolioSnapshot) -> Decision:
    holding = portfolio.holdings.get(order.symbol)
    free = max(0.0, holding.amount - holding.reserved) if holding else 0.0
    if holding and free <= holding.amount * 1e-9:
        free = 0.0  # float residue of the fills (5.6e-17 of 0.01 held), not a position to sell
    if order.amount <= free * (1 + 1e-9):  # (0.12499 of 0.24999 less 0.125 is 0.12498999999999999)
        return Decision(Verdict.APPROVE, order, order.amount)
    if free <= 0:
        held = holding.amount if holding else 0.0
        why = (
            f"the {held:.8g} held are all reserved by open sell orders (a protective stop or take-profit,"
            " or another sell): cancel one of them first"
            if held > 0
            else "no free position to sell (long-only spot)"
        )
        return _reject(order, Reason.NO_POSITION, f"sell of {order.amount:.8g} {order.symbol}: {why}")
    return Decision(
        Verdict.RESIZE,
        order,
        free,
        (
            Finding(
                Reason.NO_POSITION,
                f"sell of {order.amount:.8g} {order.symbol} exceeds the free position {free:.8g}; "
                f"resized to it (long-only spot)",
            ),
        ),
    )


def _check_entry(
    order: ProposedOrder, portfolio: PortfolioSnapshot, limits: RiskSettings, controls: Controls
) -> Decision:
    equity = portfolio.equity
    if not (math.isfinite(equity) and equity > 0):
        return _reject(order, Reason.NO_EQUITY, f"account equity is {_money(equity)}: no entries")
    if controls.halted:
        why = f" ({controls.halt_reason})" if controls.halt_reason else ""
        return _reject(order, Reason.KILL_SWITCH, f"trading is halted by the kill switch{why}: no entries")
    if controls.tripped:
        names = ", ".join(f"{name} ({reason})" for name, reason in controls.tripped)
        return _reject(order, Reason.CIRCUIT_BREAKER, f"circuit breaker tripped: {names}: no entries")
    if portfolio.drawdown >= limits.max_drawdown:
        return _reject(
            order,
            Reason.REDUCE_ONLY,
            f"drawdown {_pct(portfolio.drawdown)} is at or above the {_pct(limits.max_drawdown)} limit: "
            f"reduce-only mode, no entries",
        )
    if portfolio.daily_loss >= limits.daily_loss_limit:
        return _reject(
            order,
            Reason.DAILY_LOSS,
            f"today's loss {_pct(portfolio.daily_loss)} reached the daily limit "
            f"{_pct(limits.daily_loss_limit)}: no entries until tomorrow (UTC)",
        )
    if not portfolio.is_open(order.symbol) and portfolio.open_positions >= limits.max_open_positions:
        return _reject(
            order,
            Reason.MAX_OPEN_POSITIONS,
            f"{portfolio.open_positions} positions are open, the limit is {limits.max_open_positions}",
        )

    # Room left under each size limit, as order value (quote currency), and the plain test of it.
    limits_in_play = _size_limits(order, portfolio, limits)
    failed = [item for item in limits_in_play if not item.holds(order.notional)]
    amount = order.amount
    findings: list[Finding] = []
    if failed:
        tightest = min(failed, key=lambda item: item.room)
        if not limits.resize or tightest.room <= 0:
            return _reject(order, tightest.code, tightest.message)
        amount = _fit(tightest.room / order.price, order, limits_in_play)
        findings = [
            Finding(tightest.code, f"{tightest.message}; resized from {order.amount:.8g} to {amount:.8g}")
        ]
    if not amount * order.price >= limits.min_notional or amount <= 0:
        why = findings[0].message + "; then " if findings else ""
        return _reject(
            order,
            Reason.MIN_NOTIONAL,
            f"{why}order value {_money(amount * order.price)} is below the minimum "
            f"{_money(limits.min_notional)}",
        )
    if not findings:
        return Decision(Verdict.APPROVE, order, amount)
    return Decision(Verdict.RESIZE, order, amount, tuple(findings))


@dataclass(frozen=True)
class _SizeLimit:
    code: Reason
    room: float
    """Largest order value that fits, as computed for the message and the resize."""
    limit: float
    used: float
    scale: float
    message: str

    def holds(self, value: float) -> bool:
        """Whether an order of this value keeps the limit: used + value * scale <= limit."""
        return self.used + value * self.scale <= self.limit


def _size_limits(
    order: ProposedOrder, portfolio: PortfolioSnapshot, limits: RiskSettings
) -> list[_SizeLimit]:
    equity = portfolio.equity
    position_cap = limits.max_position * equity
    exposure_cap = limits.max_exposure * equity
    used_symbol = portfolio.symbol_exposure(order.symbol)
    used_total = portfolio.exposure
    free = portfolio.free_cash
    position_room = position_cap - used_symbol
    exposure_room = exposure_cap - used_total
    return [
        _SizeLimit(
            Reason.MAX_POSITION,
            position_room,
            position_cap,
            used_symbol,
            1.0,
            f"{order.symbol} would exceed the position limit of {_pct(limits.max_position)} of equity "
            f"(room {_money(max(position_room, 0))})",
        ),
        _SizeLimit(
            Reason.MAX_EXPOSURE,
            exposure_room,
            exposure_cap,
            used_total,
            1.0,
            f"total exposure would exceed {_pct(limits.max_exposure)} of equity "
            f"(room {_money(max(exposure_room, 0))})",
        ),
        _SizeLimit(
            Reason.CASH,
            free / (1 + order.fee),
            free,
            0.0,
            1 + order.fee,
            f"cost with fee exceeds the free cash {_money(max(free, 0))}",
        ),
    ]


def _fit(amount: float, order: ProposedOrder, size_limits: Sequence[_SizeLimit]) -> float:
    """The largest amount near ``amount`` (and not above it) whose value keeps every size limit: the
    room was computed by subtraction, and floating-point rounding can put it an ulp over the edge, so
    step down by a growing number of ulps until it holds."""
    for step in range(52):
        if amount <= 0 or all(item.holds(amount * order.price) for item in size_limits):
            return amount
        amount *= 1 - 2.0 ** (step - 52)
    return 0.0
