"""A second fake exchange for the live path, with real venues' legal quirks switched on one by one.

``tests/fakes/exchange_trading.py`` is the desk our code was written against; this one is the other
side of the table: a Binance-compatible spot API that behaves as real Binance (or a ccxt-unified venue)
may, and as our code may not expect. It reuses the desk's HTTP plumbing, signing, balances, orders, OCO
lists and trades (``TradingExchange``), and changes what ``Quirks`` turns on (each off by default):

- ``market_settles_s``: a MARKET order is answered ``NEW`` with ``executedQty`` 0 and no ``fills``;
  it fills that many seconds later, at the last price then, and its fills are known only through
  ``GET /api/v3/order`` and ``myTrades`` (the way a venue acknowledges first and matches after).
- ``fee_assets``: each trade of an order pays its fee in the next asset of this cycle (``"quote"``,
  ``"base"`` or an asset such as ``"BNB"``, priced at ``fee_asset_price`` quote units), and every trade
  of one match carries the same millisecond (``pieces`` trades per fill, as the desk's option says).
- ``unknown_for_s``: ``GET /api/v3/order`` answers -2013 "Order does not exist." for that long after an
  order was placed (eventual consistency), then finds it.
- ``clock_offset_ms``: the exchange's clock runs this far ahead of ours (behind when negative): its
  ``serverTime``, the ``recvWindow`` check, order and trade times, and the forming bar.
- ``lot_step``, ``tick``, ``min_notional`` (and ``min_qty``): the market's filters, served in
  ``exchangeInfo`` and enforced on every order and OCO list as Binance enforces them (-1013
  "Filter failure: LOT_SIZE" / "PRICE_FILTER" / "NOTIONAL"; -1111 for more decimals than the asset has).
- ``ban``: rate limiting as Binance does it, by time: ``rate_limit(retry_after_s, ban_s)`` answers the
  next request 429 with ``Retry-After``; a request before that wait is over is answered 418 (an IP ban)
  with ``Retry-After`` for ``ban_s``, and so is every request until the ban ends.

A market can be halted (``halt(symbol)``, Binance's trading status ``BREAK``, as during a delisting or a
trading halt): ``exchangeInfo`` shows its status, and every order or OCO list for it is refused with
-1013 "Market is closed." until ``resume(symbol)``.

A market can be delisted (``delist(symbol)``, as an exchange removes a market): it disappears from
``exchangeInfo``, and every request naming it (an order, its lookup or cancel, its trades) is answered
-1121 "Invalid symbol." (ccxt's ``BadSymbol``) until ``relist(symbol)``. Its orders stay as they were.

Two of its habits are switched on per order, by the test: ``archive(client_order_id)`` makes the
exchange forget an order (``GET /api/v3/order`` answers -2013 for it, by client id and by order id), as
Binance archives orders that ended unfilled and as venues whose order query sees recent orders only do;
``archive_list(list_client_id)`` does the same to an OCO order list (``GET /api/v3/orderList``).

The order POST that times out although the order was placed is the desk's ``after_accept("hang")``.
``placed`` still lists every order accepted, so a test counts orders per client id as with the desk.

    with QuirkyExchange(quirks=Quirks(market_settles_s=0.5, unknown_for_s=1.0)) as venue:
        ... point the daemon's [exchange] api_url at venue.base_url ...
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from tests.fakes.exchange import Fault, Handler, Recorded, Reply, binance_error, exchange_info, market_id
from tests.fakes.exchange_trading import INSUFFICIENT, DeskOrder, TradingExchange

DOES_NOT_EXIST = "Order does not exist."
MARKET_CLOSED = "Market is closed."


@dataclass
class Quirks:
    """What the quirky exchange does differently from our desk (see the module docstring)."""

    market_settles_s: float | None = None
    fee_assets: tuple[str, ...] = ()
    unknown_for_s: float = 0.0
    clock_offset_ms: int = 0
    lot_step: str | None = None
    min_qty: str | None = None
    tick: str | None = None
    min_notional: str | None = None


class QuirkyExchange(TradingExchange):
    """The desk with ``Quirks`` (see the module docstring)."""

    def __init__(
        self, symbols: Mapping[str, float] | None = None, *, quirks: Quirks | None = None, **kwargs: Any
    ) -> None:
        super().__init__(symbols, **kwargs)
        self.quirks = quirks or Quirks()
        self._placed_at: dict[int, float] = {}
        """Order id -> when it was placed (monotonic seconds), for ``unknown_for_s``."""
        self._settling: dict[int, float] = {}
        """MARKET orders answered NEW -> when they fill (monotonic seconds)."""
        self._fee_cycle = itertools.cycle(self.quirks.fee_assets) if self.quirks.fee_assets else None
        self._match_ms: int | None = None
        self._limits = threading.Lock()
        self._limited_until = 0.0
        self._retry_after_s = 0.0
        self._ban_s = 0.0
        self._banned_until = 0.0
        self.bans = 0
        """How many requests were answered 418 (a client that waits as asked gets none)."""
        self.archived: set[str] = set()
        """Client ids of orders, and of order lists, that queries no longer find (``archive``)."""
        self.halted: set[str] = set()
        """Symbols whose market is halted (``halt``)."""
        self.delisted: set[str] = set()
        """Symbols whose market the exchange no longer lists (``delist``)."""
        for key, handler in list(self._routes.items()):
            self._routes[key] = self._settling_first(self._listed_first(handler))
        self.route("GET", "/api/v3/exchangeInfo", self._settling_first(self._quirky_info))

    # --- the clock ------------------------------------------------------------------------------

    @property  # type: ignore[override]
    def now(self) -> int:
        if self._now is not None:
            return self._now
        return int(time.time() * 1000) + self.quirks.clock_offset_ms

    @now.setter
    def now(self, value: int | None) -> None:
        self._now = value

    # --- rate limits and bans -------------------------------------------------------------------

    def rate_limit(self, retry_after_s: float, ban_s: float) -> None:
        """Answer the next request 429 asking to wait ``retry_after_s``; one asked sooner is banned
        (418) for ``ban_s``, as is every request until the ban ends."""
        with self._limits:
            self._limited_until = -1.0  # armed: the next request starts the wait
            self._retry_after_s = retry_after_s
            self._ban_s = ban_s

    def _next_fault(self, path: str) -> Fault | None:
        clock = time.monotonic()
        with self._limits:
            if clock < self._banned_until:
                self.bans += 1
                left = max(1, round(self._banned_until - clock))
                return _status(418, "Way too many requests; IP banned.", left)
            if self._limited_until < 0:
                self._limited_until = clock + self._retry_after_s
                return _status(429, "Too many requests; current limit is exceeded.", self._retry_after_s)
            if clock < self._limited_until:
                self._banned_until = clock + self._ban_s
                self.bans += 1
                return _status(418, "Way too many requests; IP banned.", self._ban_s)
        return super()._next_fault(path)

    # --- halts ----------------------------------------------------------------------------------

    def halt(self, symbol: str) -> None:
        """Halt trading in ``symbol`` (status ``BREAK``; orders refused "Market is closed.")."""
        with self._desk:
            self.halted.add(symbol)

    def resume(self, symbol: str) -> None:
        with self._desk:
            self.halted.discard(symbol)

    def _closed(self, request: Recorded) -> Reply | None:
        symbol = self._symbol(request)
        with self._desk:
            if symbol in self.halted:
                return Reply(400, binance_error(-1013, MARKET_CLOSED))
        return None

    # --- delistings -----------------------------------------------------------------------------

    def delist(self, symbol: str) -> None:
        """Remove ``symbol``'s market (see the module docstring)."""
        with self._desk:
            self.delisted.add(symbol)

    def relist(self, symbol: str) -> None:
        with self._desk:
            self.delisted.discard(symbol)

    def _listed_first(self, handler: Handler) -> Handler:
        def serve(request: Recorded) -> Reply:
            with self._desk:
                gone = {market_id(symbol) for symbol in self.delisted}
            if request.params.get("symbol") in gone:
                return Reply(400, binance_error(-1121, "Invalid symbol."))
            return handler(request)

        return serve

    # --- filters --------------------------------------------------------------------------------

    def _quirky_info(self, request: Recorded) -> Reply:
        info = exchange_info(self.prices, self.now)
        q = self.quirks
        for market in info["symbols"]:
            for rule in market["filters"]:
                if rule["filterType"] == "LOT_SIZE":
                    rule["stepSize"] = q.lot_step or rule["stepSize"]
                    rule["minQty"] = q.min_qty or q.lot_step or rule["minQty"]
                elif rule["filterType"] == "PRICE_FILTER":
                    rule["tickSize"] = q.tick or rule["tickSize"]
                    rule["minPrice"] = q.tick or rule["minPrice"]
                elif rule["filterType"] == "NOTIONAL":
                    rule["minNotional"] = q.min_notional or rule["minNotional"]
        with self._desk:
            halted = {market_id(symbol) for symbol in self.halted}
            delisted = {market_id(symbol) for symbol in self.delisted}
        info["symbols"] = [market for market in info["symbols"] if market["symbol"] not in delisted]
        for market in info["symbols"]:
            if market["symbol"] in halted:
                market["status"] = "BREAK"
        return Reply(200, info)

    def _filter_failure(
        self, symbol: str, quantity: str, prices: list[str], worth: float | None
    ) -> Reply | None:
        """Binance's answer to an order its filters refuse, or None."""
        q = self.quirks
        for text in (quantity, *prices):
            if "." in text and len(text.split(".")[1].rstrip("0")) > 8:
                return Reply(400, binance_error(-1111, "Parameter 'quantity' has too much precision."))
        step = Decimal(q.lot_step or "0.00001")
        least = Decimal(q.min_qty or q.lot_step or "0.00001")
        if Decimal(quantity) % step != 0 or Decimal(quantity) < least:
            return Reply(400, binance_error(-1013, "Filter failure: LOT_SIZE"))
        tick = Decimal(q.tick or "0.01")
        if any(Decimal(price) % tick != 0 or Decimal(price) < tick for price in prices):
            return Reply(400, binance_error(-1013, "Filter failure: PRICE_FILTER"))
        if worth is not None and worth < float(q.min_notional or "5"):
            return Reply(400, binance_error(-1013, "Filter failure: NOTIONAL"))
        return None

    # --- orders ---------------------------------------------------------------------------------

    def _create(self, request: Recorded) -> Reply:
        refused = self._refuse(request) or self._closed(request)
        if refused is not None:
            return refused
        params = request.params
        symbol = self._symbol(request)
        if symbol is not None and "quantity" in params:
            quantity = params["quantity"]
            prices = [params[k] for k in ("price", "stopPrice") if k in params]
            limit = params.get("price")
            worth = float(quantity) * float(limit if limit is not None else self.last[symbol])
            failure = self._filter_failure(symbol, quantity, prices, worth)
            if failure is not None:
                return failure
        if params.get("type") == "MARKET" and self.quirks.market_settles_s is not None and symbol is not None:
            return self._after_reply(self._acknowledge(symbol, params))
        reply = super()._create(request)
        self._note_placed()
        return reply

    def _create_oco(self, request: Recorded) -> Reply:
        refused = self._refuse(request) or self._closed(request)
        if refused is not None:
            return refused
        params = request.params
        if "quantity" in params and all(k in params for k in ("abovePrice", "belowStopPrice", "belowPrice")):
            quantity = params["quantity"]
            prices = [params["abovePrice"], params["belowStopPrice"], params["belowPrice"]]
            # each leg must pass NOTIONAL on its own: the stop's limit is the lower value
            worth = float(quantity) * min(float(params["abovePrice"]), float(params["belowPrice"]))
            failure = self._filter_failure(params.get("symbol", ""), quantity, prices, worth)
            if failure is not None:
                return failure
        reply = super()._create_oco(request)
        self._note_placed()
        return reply

    def _note_placed(self) -> None:
        clock = time.monotonic()
        with self._desk:
            for order in self.placed:
                self._placed_at.setdefault(order.order_id, clock)

    def _acknowledge(self, symbol: str, params: dict[str, str]) -> Reply:
        """A MARKET order taken as NEW, no fills: it matches ``market_settles_s`` later."""
        assert self.quirks.market_settles_s is not None
        base, quote = symbol.split("/")
        side = params.get("side", "")
        quantity = float(params.get("quantity", "0"))
        client_id = params.get("newClientOrderId") or f"x-{next(self._ids)}"
        with self._desk:
            if any(
                o.client_order_id == client_id and o.status in ("NEW", "PARTIALLY_FILLED")
                for o in self.orders.values()
            ):
                return Reply(400, binance_error(-2010, "Duplicate order sent."))
            last = self.last[symbol]
            if side == "BUY" and self.free.get(quote, 0.0) < quantity * last * (1 + self.fee):
                return Reply(400, binance_error(-2010, INSUFFICIENT))
            if side == "SELL" and self.free.get(base, 0.0) < quantity - 1e-12:
                return Reply(400, binance_error(-2010, INSUFFICIENT))
            order = DeskOrder(
                next(self._ids), client_id, symbol, side, "MARKET", quantity, None, time=self.now
            )
            self.orders[order.order_id] = order
            self.placed.append(order)
            clock = time.monotonic()
            self._placed_at[order.order_id] = clock
            self._settling[order.order_id] = clock + self.quirks.market_settles_s
            body = self._order_json(order)
            body["fills"] = []
        return Reply(200, body)

    def settle(self) -> None:
        """Fill the MARKET orders whose time has come (each request does this first)."""
        clock = time.monotonic()
        with self._desk:
            for order_id, due in list(self._settling.items()):
                if clock < due:
                    continue
                del self._settling[order_id]
                order = self.orders[order_id]
                if order.status != "NEW":
                    continue
                last = self.last[order.symbol]
                self._match_ms = self.now
                for piece in range(self.pieces):
                    step = 1 + 0.0001 * piece * (1 if order.side == "BUY" else -1)
                    self._fill(order, order.quantity / self.pieces, last * step, locked=False)
                self._match_ms = None

    def settling(self) -> int:
        """MARKET orders answered NEW and not matched yet."""
        with self._desk:
            return len(self._settling)

    def accept(self, *args: Any, **kwargs: Any) -> Reply:
        with self._desk:
            self._match_ms = self.now  # every trade of one match carries the same millisecond
            try:
                return super().accept(*args, **kwargs)
            finally:
                self._match_ms = None

    def _fill(self, order: DeskOrder, qty: float, price: float, *, locked: bool) -> None:
        # A real venue's trades are decimals that add up to the order's executed amount exactly: a
        # piece is cut to 8 decimals, the last piece takes the rest.
        rest = Decimal(f"{order.quantity:.8f}") - Decimal(f"{order.executed:.8f}")
        piece = Decimal(f"{qty:.12f}").quantize(Decimal("0.00000001"), rounding=ROUND_DOWN)
        qty = float(rest if rest - piece < piece / 2 else piece)
        if self._fee_cycle is None:
            super()._fill(order, qty, price, locked=locked)
        else:
            base, quote = order.symbol.split("/")
            chosen = next(self._fee_cycle)
            saved = self.fee_asset
            self.fee_asset = {"quote": quote, "base": base}.get(chosen, chosen)
            try:
                super()._fill(order, qty, price, locked=locked)
            finally:
                self.fee_asset = saved
        if self._match_ms is not None:
            order.trades[-1]["time"] = self._match_ms

    def archive(self, client_order_id: str) -> None:
        """Queries for this order answer -2013 from now on (see the module docstring)."""
        with self._desk:
            self.archived.add(client_order_id)

    def archive_list(self, list_client_id: str) -> None:
        """Queries for this order list answer -2013 from now on (see the module docstring)."""
        with self._desk:
            self.archived.add(list_client_id)

    def _find_list(self, request: Recorded) -> int | None:
        list_id = super()._find_list(request)
        with self._desk:
            if list_id is not None and self.lists[list_id][0] in self.archived:
                return None
        return list_id

    def _find(self, request: Recorded) -> DeskOrder | None:
        order = super()._find(request)
        if order is not None and request.method == "GET":
            with self._desk:
                if order.client_order_id in self.archived:
                    return None
        if order is None or request.method != "GET" or self.quirks.unknown_for_s <= 0:
            return order
        with self._desk:
            placed = self._placed_at.get(order.order_id)
        if placed is not None and time.monotonic() - placed < self.quirks.unknown_for_s:
            return None  # not visible to queries yet
        return order

    def _settling_first(self, handler: Handler) -> Handler:
        def serve(request: Recorded) -> Reply:
            self.settle()
            return handler(request)

        return serve


def _status(status: int, message: str, retry_after_s: float) -> Fault:
    return Fault(
        "status",
        status,
        binance_error(-1003, message),
        {"Retry-After": f"{retry_after_s:g}"},
        times=1,
    )
