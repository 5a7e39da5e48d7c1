"""What every broker (paper or live) offers the trading service, and the live-mode gate.

A broker trades one book. ``start`` brings the book up to date (paper: loads its working orders;
live: reconciles with the exchange; crash recovery and a normal start are the same path), ``submit``
journals an order intent and sends it, ``cancel`` cancels, ``on_bar`` gives it each price update of a
symbol (paper orders fill on them; the live broker uses them to mark positions), ``poll`` asks for
what ``on_bar`` cannot see (live fills), ``cancel_exits`` drops a position's resting exits before an
exit signal, ``ledger`` is the book's balances and positions (always the replay of its fills).

**Live mode** needs two switches: ``mode = "live"`` in the config (``MT_MODE=live``) *and* ``--live`` on
the command line of ``mt daemon start`` / ``mt trade``. ``require_live`` is the single place that checks
them; the live broker refuses to be built without its token, so no code path reaches a real exchange
with only one of the two.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from mastertrade.errors import UserInputError

if TYPE_CHECKING:
    from mastertrade.db.models.trading import FillRecord, OrderRecord
    from mastertrade.engine.candle import Bar
    from mastertrade.engine.events import Event
    from mastertrade.engine.execution.bracket_sell import Plan
    from mastertrade.engine.execution.ledger import Ledger, RoundTrip
    from mastertrade.engine.orders import OrderRequest

Publish = Callable[["Event"], object]


@dataclass(frozen=True)
class LiveConsent:
    """Proof that both live switches were on (only ``require_live`` makes one)."""

    config_mode: str
    command_line: bool


def require_live(config_mode: str, command_line_live: bool) -> LiveConsent:
    """The token the live broker needs, or a one-line error saying which switch is missing."""
    if config_mode != "live" and not command_line_live:
        raise UserInputError('live trading is off: set mode = "live" in the config and pass --live')
    if config_mode != "live":
        raise UserInputError(
            '--live given but the config says mode = "paper": set mode = "live" (MT_MODE=live) too'
        )
    if not command_line_live:
        raise UserInputError(
            'the config says mode = "live" but --live was not given: pass --live to trade live'
        )
    return LiveConsent(config_mode, command_line_live)


def trading_mode(config_mode: str, command_line_live: bool) -> str:
    """ "live" only when both switches are on, "paper" when neither is; one without the other is an error."""
    if config_mode != "live" and not command_line_live:
        return "paper"
    require_live(config_mode, command_line_live)
    return "live"


@dataclass
class BarOutcome:
    """What one price update did to a book."""

    fills: list[FillRecord] = field(default_factory=list)
    orders: list[OrderRecord] = field(default_factory=list)
    round_trips: list[RoundTrip] = field(default_factory=list)


class Broker(Protocol):
    book: str
    mode: str

    @property
    def buy_fee_reserve(self) -> float:
        """The fee rate held back beside a resting buy's value until it fills: the paper broker keeps
        the fee aside (``PaperBroker.reserved_cash``); Binance holds back the value only (0)."""
        ...

    async def start(self) -> None: ...

    async def submit(self, request: OrderRequest, *, placed_ts: int) -> OrderRecord: ...

    async def fit_to_market(self, request: OrderRequest, *, allow_resize: bool) -> OrderRequest:
        """A human's order as the venue takes it, never moved on their behalf: ``UserInputError`` for an
        amount between two lot steps (cut down to the step with ``allow_resize``) or a price between two
        ticks (live: ``venue_steps``); a paper book takes any amount and price."""
        ...

    async def cancel(self, order_id: int, reason: str = "cancelled by hand") -> OrderRecord: ...

    async def sell_replacing(
        self, request: OrderRequest, *, placed_ts: int, plan: Plan
    ) -> tuple[OrderRecord, str | None]:
        """A sell by hand of a position its bracket exits hold (``bracket_sell``): the exits replaced for
        what it leaves; returns the sell and what was done to the exits."""
        ...

    async def on_bar(self, symbol: str, bar: Bar) -> BarOutcome: ...

    async def poll(self) -> BarOutcome:
        """What happened to the working orders since the last poll, for a broker that must ask (live:
        the exchange's fills); a paper broker learns everything from ``on_bar`` and has nothing."""
        ...

    async def cancel_exits(self, symbol: str, reason: str, *, strategy_id: str | None) -> None:
        """Cancel the resting protective exits of strategy ``strategy_id``'s position in ``symbol`` before
        its exit signal sells it (paper: its brackets' child orders, never another owner's, whose positions
        they keep protecting; live: a strategy's exits are the daemon's, and the stops of manual buys that
        rest at the exchange are left to protect those positions)."""
        ...

    async def ledger(self) -> Ledger: ...

    async def working_orders(self) -> list[OrderRecord]:
        """The book's orders still working, as its ledger stands: the risk check reads the two together,
        so an order whose fill is journaled but not yet booked must still be here (the paper broker's
        own working set, updated with its ledger; live: the journal, whose fills it books at once)."""
        ...

    def marks(self) -> dict[str, float]: ...

    async def close(self) -> None: ...
