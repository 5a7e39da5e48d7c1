"""Request and response bodies of the trading routes (orders, positions, balance, risk, goals, parity),
shared with ``mastertrade.client``. Imports only pydantic and the order vocabulary
(``engine/orders.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mastertrade.engine.orders import DIGITS_ONLY, OrderState

Side = Literal["buy", "sell"]
OrderKind = Literal["market", "limit", "stop"]
OrderRole = Literal["order", "entry", "exit", "stop_loss", "take_profit", "trailing_stop"]
"""What an order is for: by hand ("order"), a strategy's signal ("entry", "exit"), or a bracket's or a
protection's exit ("stop_loss", "take_profit", "trailing_stop")."""
Mode = Literal["paper", "live"]
Keeper = Literal["exchange", "daemon"]
"""Who keeps a protective exit: resting at the exchange, or watched by the running daemon."""
GoalKindName = Literal["return", "profit", "value"]
PeriodName = Literal["day", "week", "month", "year", "none"]


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Request(BaseModel):
    # Infinity and NaN are refused like any number outside a field's range (422, naming the value),
    # not let through to be refused later by the handler with another status.
    # Strict: a number is a JSON number and a switch a JSON boolean. Lax pydantic took `"amount": true`
    # as 1 and `"amount": "0.5"` as 0.5; a whole number is still a number (`"amount": 1`).
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)


MIN_EXIT_FRACTION = 1e-6
"""The smallest ``stop_loss`` or ``take_profit`` fraction: 0.0001% of the price. Below it the exit sits at
the entry price itself (``1e-320`` rounds to it) and fires at the first tick: a typo, not a plan."""


class OrderCreate(Request):
    symbol: str = Field(description="BASE/QUOTE, e.g. BTC/USDT")
    side: Side
    amount: float = Field(gt=0, description="in units of the base asset")
    type: OrderKind = "market"
    price: float | None = Field(default=None, gt=0, description="limit price, or the stop's trigger")
    live: bool = Field(default=False, description="confirms a live order (the daemon must trade live)")
    client_order_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9._:/-]{1,36}$",
        description="the caller's own id (not digits alone: those read as an order id): an order already "
        "placed with it is returned, not placed again",
    )
    allow_resize: bool = Field(
        default=False,
        description="let the amount be cut to fit a risk limit or, live, the market's lot step "
        "(else refused)",
    )
    stop_loss: float | None = Field(
        default=None,
        ge=MIN_EXIT_FRACTION,
        lt=1,
        description="a buy's protective stop, as a fraction below its price",
    )
    take_profit: float | None = Field(
        default=None,
        ge=MIN_EXIT_FRACTION,
        le=100,
        description="a buy's take-profit, as a fraction above its price",
    )

    @field_validator("client_order_id")
    @classmethod
    def _not_digits_alone(cls, value: str | None) -> str | None:
        if value is not None and value.isdigit():
            raise ValueError(DIGITS_ONLY)
        return value


class CancelRequest(Request):
    unprotect: bool = Field(
        default=False,
        description="cancel the stop protecting an open position anyway, leaving the position without it "
        "(else such a cancel is refused with 409 stop_protects_position, naming the position)",
    )


class OrderShare(Model):
    strategy_id: str | None = Field(description="the strategy whose coins these are; null: the account's own")
    amount: float = Field(description="what of the sell is its, in base units")


class OrderInfo(Model):
    id: int
    client_order_id: str
    book: str
    mode: Mode
    symbol: str
    side: Side
    type: OrderKind
    role: OrderRole
    amount: float | None = None
    equity_fraction: float | None = None
    price: float | None = None
    stop_price: float | None = None
    state: OrderState
    filled: float
    average_price: float | None = None
    fee: float | None = Field(
        description="its fills' fees in the quote currency (a fee in the base asset at its fill's price, "
        "one in a third asset such as BNB at a price the daemon had); null when a fee is in an asset the "
        "daemon had no price for: then only `fees` says what was paid"
    )
    fees: dict[str, float] = Field(
        default_factory=dict, description="its fills' fees as charged, by asset (e.g. USDT, BTC, BNB)"
    )
    exchange_order_id: str | None = None
    strategy_id: str | None = None
    shares: list[OrderShare] | None = Field(
        default=None,
        description="a sell by hand that sold several owners' coins (the account's own, strategies' "
        "positions: those no exit order reserves, those whose exits it took back or replaced): each one's "
        "share, in the order its fills went to them (the account's own first, then the strategies by id, "
        "or those whose paper exit sets it took, the newest set first); each strategy's position dropped "
        "by its part. null: the order is strategy_id's (the account's own when that is null)",
    )
    parent_id: int | None = None
    reason: str | None = None
    placed_ts: int
    created_at: datetime
    updated_at: datetime
    market_gone: str | None = Field(
        default=None,
        description="live: its market is no longer listed by the exchange (delisted or removed) while the "
        "order still works there: what is known and when it is asked again; null otherwise",
    )
    held_until: datetime | None = Field(
        default=None,
        description="live, an order not yet at the exchange (sent or unknown): until when the exchange's "
        "rate limit (a 429's or 418's Retry-After) holds every request to it; the daemon sends the order, "
        "or asks for it, once that wait is over; null when no rate limit holds it",
    )


class Finding(Model):
    code: str
    message: str


class RiskDecision(Model):
    verdict: Literal["approve", "resize", "reject"]
    symbol: str
    side: Side
    requested: float
    amount: float
    price: float
    reason: str
    findings: list[Finding] = Field(default_factory=list)


class PlaceResult(Model):
    order: OrderInfo
    risk: RiskDecision
    exits: str | None = None
    """A sell by hand of a position its bracket exits hold: what was done to them (cancelled with a
    whole sell, resized to what a partial sell leaves; ``bracket_sell``); beside a strategy's position
    that no exit order reserves, what the sell takes of it (``watched_sell``)."""


class OrderCheck(RiskDecision):
    """``POST /v1/orders/check``: the risk decision placing the order would get now, nothing sent.

    ``value`` and ``fee`` are estimates at the reference ``price`` for the ``amount`` the check allows
    (the resized amount of a resize, 0 for a rejection)."""

    value: float = Field(description="amount x price, in the quote currency")
    fee: float = Field(description="the fee at the paper fee rate on that value")
    fee_rate: float
    quote: str
    mode: Mode


class EquityPointInfo(Model):
    """One mark of a book's equity: ``ts`` is market time (the bar's open, epoch ms), ``equity`` in quote."""

    ts: int
    equity: float


class PositionInfo(Model):
    book: str = Field(
        default="", description='the book it is in: the account ("paper"/"live") or "strategy:<id>"'
    )
    symbol: str
    amount: float
    average_price: float | None = None
    cost: float
    mark: float | None = None
    value: float | None = None
    value_at_cost: bool = Field(
        default=False,
        description="no price yet (e.g. just after a daemon restart): value is at cost (amount x average "
        "price), as the balance's positions_value counts it, and unrealised_pnl is unknown",
    )
    unrealised_pnl: float | None = None
    realised_pnl: float = Field(
        description="realised by this position's own sells since it opened (opened_ts); earlier round "
        "trips in the symbol are in symbol_realised_pnl"
    )
    fees: float = Field(
        description="fees paid on this position's fills since it opened, in the quote currency (fees in "
        "another asset valued at the price the daemon had when the fill was booked)"
    )
    unpriced_fees: dict[str, float] = Field(
        default_factory=dict,
        description="fees of this position's fills in an asset the daemon had no price for (e.g. BNB), by "
        "asset: left out of fees and realised_pnl, never added to quote amounts",
    )
    symbol_realised_pnl: float = Field(
        default=0.0,
        description="realised in this symbol by the book over every round trip, this one included",
    )
    symbol_fees: float = Field(
        default=0.0, description="fees paid in this symbol by the book over every round trip"
    )
    symbol_unpriced_fees: dict[str, float] = Field(
        default_factory=dict, description="unpriced_fees of this symbol over every round trip, by asset"
    )
    opened_ts: int | None = None
    unprotected: str | None = Field(
        default=None,
        description="live: why (part of) this position has no exits at the exchange though its buy asked "
        "for them (a filled part below the exchange's minimum notional, until it grows); null otherwise",
    )
    market_gone: str | None = Field(
        default=None,
        description="live: its market is no longer listed by the exchange (delisted or removed): the "
        "orders stuck there and when it is asked again; null otherwise",
    )


class FillInfo(Model):
    """One fill of the account's book: ``ts`` is its market time (epoch ms), ``recorded_at`` when the
    daemon booked it (wall clock, what ``GET /v1/fills?since=`` filters on)."""

    order_id: int
    symbol: str
    side: Side
    amount: float
    price: float
    fee: float
    fee_asset: str
    role: OrderRole
    strategy_id: str | None = None
    ts: int
    recorded_at: datetime


class BalanceInfo(Model):
    book: str
    mode: Mode
    quote: str
    balances: dict[str, float]
    cash: float
    reserved: float = Field(
        description="cash the broker holds back for resting buys (the paper broker keeps their fees aside "
        "too); reserved + free_cash = cash"
    )
    free_cash: float
    positions_value: float
    equity: float
    realised_pnl: float
    unrealised_pnl: float | None = Field(
        description="of the open positions at their last prices; null (unknown) while a position has no "
        "price yet (just after a daemon restart): it is then counted at cost in positions_value and equity"
    )
    at_cost: list[str] = Field(
        default_factory=list,
        description="the symbols of open positions with no price yet, counted at cost (their unrealised "
        "P&L unknown)",
    )
    unpriced_fees: dict[str, float] = Field(
        default_factory=dict,
        description="fees paid in an asset the daemon had no price for in the quote currency (e.g. BNB), by "
        "asset: left out of realised_pnl rather than added to quote amounts",
    )


class BreakerInfo(Model):
    name: str
    tripped: bool
    reason: str | None = None
    tripped_at: datetime | None = None
    until: datetime | None = None
    reset: str


class ProtectionInfo(Model):
    """One live position the daemon protects (levels in the quote currency)."""

    id: int
    symbol: str
    strategy_id: str | None = None
    state: Literal["pending", "active", "triggered"] = Field(
        description="pending, active, or triggered (its sell is on its way)"
    )
    amount: float | None = None
    entry_price: float | None = None
    stop_price: float | None = Field(default=None, description="the stop in force")
    stop_role: Literal["stop_loss", "trailing_stop"] | None = Field(
        default=None, description="stop_loss or trailing_stop"
    )
    take_price: float | None = None
    trail_peak: float | None = None
    stop_loss: float | None = None
    take_profit: float | None = None
    trailing_stop: float | None = None
    trigger: str | None = None
    exit_client_order_id: str | None = None
    entry_client_order_id: str
    reason: str | None = None


class HeldTakeProfit(Model):
    """A manual entry's take-profit kept by the daemon: its stop rests at the exchange, and the venue has
    no OCO order lists to rest both; it holds only while the daemon runs."""

    order_id: int
    symbol: str
    price: float | None = None
    amount: float | None = None
    by: Keeper = "daemon"
    note: str


class ProtectionStatus(Model):
    """Live mode: the protective exits of strategies' positions. ``by`` is "exchange" when their stops
    also rest there as native orders (``[execution] native_stops`` on a venue that has them), "daemon"
    when only the running daemon protects them; ``note`` says which in words."""

    by: Keeper
    note: str
    protected_positions: int
    pending: int
    degraded: bool
    degraded_reason: str | None = None
    protections: list[ProtectionInfo] = Field(default_factory=list)
    take_profit_by: Keeper = Field(
        default="daemon",
        description="exchange when take-profits rest there with their stop (one OCO order list), else daemon",
    )
    held_take_profits: list[HeldTakeProfit] = Field(
        default_factory=list,
        description="manual entries' take-profits the daemon keeps (a venue without OCO order lists)",
    )


class RiskStatus(Model):
    mode: Mode
    halted: bool
    halt_reason: str | None = None
    reduce_only: bool
    equity: float
    cash: float
    exposure: float
    exposure_pct: float | None = None
    open_positions: int
    drawdown: float
    daily_loss: float
    peak_equity: float | None = None
    limits: dict[str, int | float]  # a count (max_open_positions) stays a whole number
    breakers: list[BreakerInfo]
    var: dict[str, Any] | None = Field(default=None, description="the latest risk_metrics snapshot")
    var_at: datetime | None = None
    protection: ProtectionStatus | None = Field(
        default=None, description="live mode: the positions the daemon protects (null on paper)"
    )


REASON_MAX = 500
REASON = r"^[^\x00-\x1f\x7f-\x9f]*$"
"""A reason a human gives, kept in a history or the audit log (a strategy's move, the kill switch): at
most ``REASON_MAX`` characters and no control character (a newline or an escape sequence in one broke
`mt strategy show`'s history table and wrote to the terminal; a halt's reason had no bound at all)."""


class HaltRequest(Request):
    reason: str = Field(
        default="",
        max_length=REASON_MAX,
        pattern=REASON,
        description="why, kept in the audit log (at most 500 characters, no control character; "
        "empty: halted by hand)",
    )


class ResumeRequest(Request):
    breaker: str | None = Field(
        default=None, description="one breaker to reset; all and the kill switch if empty"
    )


class AuditInfo(Model):
    id: int
    at: datetime
    kind: str
    book: str | None = None
    client_order_id: str | None = None
    strategy_id: str | None = None
    symbol: str | None = None
    side: Side | None = None
    requested: float | None = None
    amount: float | None = None
    reason: str
    data: dict[str, Any] = Field(default_factory=dict)


GOAL_NAME = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
"""A goal's name: not only spaces, and no control character (a newline or an escape sequence in a name
broke `mt goal list`'s table and wrote to the terminal)."""


class GoalCreate(Request):
    name: str = Field(min_length=1, max_length=80, pattern=GOAL_NAME)
    kind: GoalKindName
    target: float = Field(
        gt=0,
        le=1e12,
        allow_inf_nan=False,
        description="a fraction for return goals (0.10 = 10%), quote currency otherwise (at most 1e12)",
    )
    period: PeriodName = "month"
    deadline: str | None = Field(default=None, description="ISO-8601 date, for value goals")

    @model_validator(mode="after")
    def _not_too_small(self) -> GoalCreate:
        from mastertrade.engine.sizing.goals import SMALLEST_TARGET

        least, shown = SMALLEST_TARGET[self.kind]
        if self.target < least:
            raise ValueError(
                f"invalid target {self.target!r}: below the smallest {self.kind} target, {shown}"
            )
        return self


class GoalInfo(Model):
    id: int | None = None
    name: str
    kind: GoalKindName
    target: float
    period: PeriodName
    description: str
    deadline: datetime | None = None
    status: str | None = Field(
        default=None,
        description="where it stands, in words: reached, ahead, on schedule, behind, no schedule, ...",
    )
    progress: float | None = None
    achieved: float | None = None
    expected: float | None = None
    gap: float | None = None
    current_value: float | None = None
    start_value: float | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None
    projected: datetime | None = None


class RiskFactorInfo(Model):
    value: float
    reasons: list[str]


class GoalsReport(Model):
    goals: list[GoalInfo]
    risk_factor: RiskFactorInfo


class ParityReport(Model):
    strategy_id: str
    book: str
    start: str | None = None
    end: str | None = None
    simulated: bool = Field(default=False, description="the prices compared are a simulated market's")
    identical: bool
    same: int
    different: list[dict[str, Any]] = Field(default_factory=list)
    only_backtest: list[dict[str, Any]] = Field(default_factory=list)
    only_paper: list[dict[str, Any]] = Field(default_factory=list)
    trades: list[dict[str, Any]] = Field(default_factory=list)
