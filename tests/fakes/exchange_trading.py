"""The fake exchange with a spot trading desk: signed order, trade and account endpoints.

``TradingExchange`` extends ``FakeExchange`` (market data, faults, request log) with Binance's private
spot API as ccxt's binance client calls it:

- ``POST /api/v3/order`` (MARKET fills at once at ``last[symbol]``; LIMIT rests, or fills at once
  when marketable), ``GET /api/v3/order`` (by ``orderId`` or ``origClientOrderId``),
  ``DELETE /api/v3/order``, ``GET /api/v3/openOrders``, ``GET /api/v3/myTrades``, ``GET /api/v3/account``.
- Requests are checked like Binance checks them: the API key header, the HMAC-SHA256 ``signature``
  over the query or form body, and ``timestamp`` inside ``recvWindow`` of the fake's clock (-1021 when
  not, which ccxt raises as ``InvalidNonce``). A client order id still open is a duplicate (-2010).
- Balances are kept per asset (free and locked); a fee of ``fee`` x the traded value is charged in the
  quote asset. Not enough balance answers -2010 with Binance's exact insufficient-balance message.
- Faults *after* an order was accepted (``after_accept``): the order is booked, then the answer is
  lost (the connection dropped), replaced by a 5xx, or never sent (a hang until the client's timeout).
- ``placed`` lists every order the desk ever accepted, so a test can count orders per client id.
- **Stop orders** (``STOP_LOSS_LIMIT``, ``TAKE_PROFIT_LIMIT`` with ``stopPrice`` and a limit ``price``)
  rest untriggered, their quantity locked, until ``set_price`` crosses the trigger (a stop-loss sell at
  or below it, a take-profit sell at or above it; the reverse for buys); then they work as a limit order
  and fill at the new price when it is within the limit. Nobody has to be connected for that: a stop
  placed by a daemon that then stopped still triggers and fills here.
- **OCO order lists** (``POST /api/v3/orderList/oco``, Binance's current endpoint, as ccxt's
  ``private_post_orderlist_oco`` sends it): for a SELL, an ``above`` leg (``LIMIT_MAKER``, the
  take-profit) and a ``below`` leg (``STOP_LOSS_LIMIT``, the stop), each with its own client order id
  (``aboveClientOrderId``/``belowClientOrderId``), under one ``listClientOrderId``. The quantity is locked
  once for both. Prices must bracket the market (above > last > below's trigger) or the list is refused
  (-1013, Binance's message). When one leg fills or its stop triggers, the other expires (``EXPIRED``);
  cancelling either leg (``DELETE /api/v3/order``) or the list (``DELETE /api/v3/orderList``) cancels
  both. Each leg answers ``GET /api/v3/order`` by its client id, with its ``orderListId``; the list
  answers ``GET /api/v3/orderList`` (by ``orderListId`` or ``origClientOrderId``) with its status and its
  legs' ids, as Binance does (no leg's state: -2013 "Order list does not exist." for a list it does not
  know). ``fill_part`` fills part of a leg (Binance expires the other leg at the first fill, partial or
  not).
- ``cancel_by_hand`` cancels a working order as the trader does on the exchange's website (``CANCELED``,
  not ``EXPIRED``; the whole list for a leg of one).
- ``LIMIT_MAKER`` alone rests like a limit order and is refused (-2010) when it would match at once.
- ``GET /api/v3/myTrades`` answers in pages as Binance does (``_my_trades``): 500 trades unless ``limit``
  asks for up to 1000, the most recent unless ``fromId`` or ``startTime`` says where to start.
- **Other venues' habits**, each off by default: ``fee_asset`` charges the fee in another asset (the
  base asset, as Binance does on buys without BNB, or a third one such as BNB at ``fee_asset_price``
  quote units); ``trade_lag`` leaves each new trade out of its first N ``myTrades`` answers (the order
  already says it filled, its trades are not listed yet); ``pieces`` fills a marketable order in that
  many trades at rising prices; ``ack_only`` answers an order with its ids alone (no status, no fills),
  like ``newOrderRespType=ACK``; ``trades_only`` leaves the executed amounts out of every order it
  shows, so the fills are known only from ``myTrades``; ``trade_ids_per_symbol`` numbers each symbol's
  trades on their own, as Binance does (a BTC/USDT trade and an ETH/USDT trade can share an id).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from tests.fakes.exchange import FakeExchange, Recorded, Reply, _make_handler, binance_error, market_id

API_KEY = "fake-api-key-0123456789"
SECRET = "fake-secret-9876543210"
INSUFFICIENT = "Account has insufficient balance for requested action."
AFTER_HEADER = "X-Fake-After-Accept"

After = Literal["drop", "hang", "500", "503", "429"]
STOP_TYPES = ("STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")
PRICES_OUT_OF_ORDER = "The relationship of the prices for the orders is not correct."
WOULD_MATCH = "Order would immediately match and take."
DECIMAL_HAIR = 1e-12
"""The desk keeps balances in floats where Binance keeps decimals: a balance this close to an amount
covers it (0.1 - 0.08439 left free is 0.015609999999999999, which is 0.01561 at the exchange)."""
TRADES_PAGE = 500
TRADES_PAGE_MAX = 1000
"""Binance's ``myTrades`` page: 500 trades unless ``limit`` asks for more, 1000 at most."""


@dataclass
class DeskOrder:
    order_id: int
    client_order_id: str
    symbol: str
    side: str
    type: str
    quantity: float
    price: float | None
    status: str = "NEW"
    executed: float = 0.0
    quote: float = 0.0
    time: int = 0
    trades: list[dict[str, Any]] = field(default_factory=list)
    stop_price: float | None = None
    triggered: bool = False
    list_id: int = -1
    """The order list (OCO) it is a leg of, or -1."""


class TradingExchange(FakeExchange):
    """A fake Binance spot exchange that trades (see the module docstring)."""

    def __init__(
        self,
        symbols: Mapping[str, float] | None = None,
        *,
        balances: Mapping[str, float] | None = None,
        fee: float = 0.001,
        api_key: str = API_KEY,
        secret: str = SECRET,
        fee_asset: str | None = None,
        fee_asset_price: float = 500.0,
        trade_lag: int = 0,
        pieces: int = 1,
        ack_only: bool = False,
        trades_only: bool = False,
        trade_ids_per_symbol: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(symbols, **kwargs)
        self.last = dict(self.prices)
        self.fee = fee
        self.fee_asset = fee_asset
        self.fee_asset_price = fee_asset_price
        self.trade_lag = trade_lag
        self.pieces = pieces
        self.ack_only = ack_only
        self.trades_only = trades_only
        self._hidden: dict[int, int] = {}
        """Trade id -> how many more myTrades answers leave it out (``trade_lag``)."""
        self.api_key = api_key
        self.secret = secret
        self.free: dict[str, float] = dict(balances or {"USDT": 10_000.0})
        self.locked: dict[str, float] = {}
        self.orders: dict[int, DeskOrder] = {}
        self.placed: list[DeskOrder] = []
        self._ids = itertools.count(1001)
        self._trade_ids = itertools.count(50001)
        self._symbol_trade_ids: dict[str, itertools.count[int]] | None = {} if trade_ids_per_symbol else None
        """Each symbol's own trade numbering (``trade_ids_per_symbol``), or None for one numbering."""
        self._list_ids = itertools.count(7001)
        self.lists: dict[int, tuple[str, list[int]]] = {}
        """OCO order lists: id -> (list client id, the legs' order ids)."""
        self._after: list[After] = []
        self._desk = threading.RLock()
        self.route("POST", "/api/v3/order", self._create)
        self.route("GET", "/api/v3/order", self._query)
        self.route("DELETE", "/api/v3/order", self._cancel)
        self.route("GET", "/api/v3/openOrders", self._open_orders)
        self.route("GET", "/api/v3/myTrades", self._my_trades)
        self.route("GET", "/api/v3/account", self._account)
        self.route("POST", "/api/v3/orderList/oco", self._create_oco)
        self.route("DELETE", "/api/v3/orderList", self._cancel_list)
        self.route("GET", "/api/v3/orderList", self._query_list)

    # --- the server, with the after-accept faults -----------------------------------------------------

    def start(self) -> TradingExchange:
        from http.server import ThreadingHTTPServer

        base = _make_handler(self)
        fake = self

        class Handler(base):  # type: ignore[misc, valid-type]
            def _send(self, reply: Reply) -> None:
                after = reply.headers.get(AFTER_HEADER)
                if after == "drop":
                    self._drop()
                    return
                if after == "hang":
                    fake._release.wait(fake.hang_s)
                    self._drop()
                    return
                super()._send(reply)

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        self._release.clear()
        # A short poll interval: stop() waits for serve_forever to notice, up to one interval.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-exchange", daemon=True
        )
        self._thread.start()
        return self

    def after_accept(self, kind: After, times: int = 1) -> None:
        """The next ``times`` accepted orders lose their answer this way (they stay booked)."""
        with self._desk:
            self._after.extend([kind] * times)

    def _after_reply(self, reply: Reply) -> Reply:
        with self._desk:
            kind = self._after.pop(0) if self._after else None
        if kind is None:
            return reply
        if kind in ("drop", "hang"):
            return Reply(200, {}, {AFTER_HEADER: kind})
        if kind == "429":  # booked, yet answered as rate-limited (a gateway's answer): a retry resends it
            return Reply(429, binance_error(-1003, "Too many requests."), {"Retry-After": "0"})
        return Reply(int(kind), binance_error(-1001, "Internal error; unable to process your request."))

    # --- authentication ---------------------------------------------------------------------------

    def _refuse(self, request: Recorded) -> Reply | None:
        if request.header("X-MBX-APIKEY") != self.api_key:
            return Reply(401, binance_error(-2015, "Invalid API-key, IP, or permissions for action."))
        payload = request.body if request.method == "POST" else _query_of(request)
        signed, _, signature = payload.rpartition("&signature=")
        expected = hmac.new(self.secret.encode(), signed.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(signature, expected):
            return Reply(400, binance_error(-1022, "Signature for this request is not valid."))
        timestamp = int(request.params.get("timestamp", "0"))
        window = int(request.params.get("recvWindow", "5000"))
        if timestamp >= self.now + 1000 or self.now - timestamp > window:
            return Reply(
                400, binance_error(-1021, "Timestamp for this request is outside of the recvWindow.")
            )
        return None

    # --- the desk -----------------------------------------------------------------------------------

    def _symbol(self, request: Recorded) -> str | None:
        return self._symbol_of(request.params.get("symbol", ""))

    def set_price(self, symbol: str, price: float) -> None:
        """Move the last price; resting limit orders it crosses fill at their limit."""
        with self._desk:
            self.last[symbol] = price
            for order in list(self.orders.values()):
                if order.symbol != symbol or order.status not in ("NEW", "PARTIALLY_FILLED"):
                    continue
                assert order.price is not None
                if order.stop_price is not None:
                    if not order.triggered:
                        falling = (order.type == "STOP_LOSS_LIMIT") == (order.side == "SELL")
                        hit = price <= order.stop_price if falling else price >= order.stop_price
                        if not hit:
                            continue
                        order.triggered = True
                        self._expire_siblings(order)
                    # A triggered stop is a limit order; it fills at the price now, if within its limit.
                    if (order.side == "SELL" and price >= order.price) or (
                        order.side == "BUY" and price <= order.price
                    ):
                        self._fill(order, order.quantity - order.executed, price, locked=True)
                    continue
                if (order.side == "BUY" and price <= order.price) or (
                    order.side == "SELL" and price >= order.price
                ):
                    self._expire_siblings(order)
                    self._fill(order, order.quantity - order.executed, order.price, locked=True)

    def fill_part(self, client_order_id: str, quantity: float) -> DeskOrder:
        """Part of a resting limit order (an OCO's take-profit leg) fills at its price: a buyer took
        ``quantity`` of it without moving the last price. Binance expires the other legs of its order list
        at the first fill, partial or not; the rest of this one keeps resting."""
        with self._desk:
            [order] = [
                o
                for o in self.orders.values()
                if o.client_order_id == client_order_id and o.status in ("NEW", "PARTIALLY_FILLED")
            ]
            assert order.price is not None and order.stop_price is None and quantity < order.quantity
            self._expire_siblings(order)
            self._fill(order, quantity, order.price, locked=True)
            return order

    def cancel_by_hand(self, client_order_id: str) -> DeskOrder:
        """The trader cancels a working order on the exchange's website, not through the API client
        (Binance reports it ``CANCELED``; a leg of an OCO list cancels the whole list)."""
        with self._desk:
            [order] = [
                o
                for o in self.orders.values()
                if o.client_order_id == client_order_id and o.status in ("NEW", "PARTIALLY_FILLED")
            ]
            self._cancel_order(order)
            return order

    def _expire_siblings(self, order: DeskOrder) -> None:
        """One leg of an OCO list triggered or filled: the others expire (the lock stays with it)."""
        if order.list_id < 0:
            return
        for other_id in self.lists[order.list_id][1]:
            other = self.orders[other_id]
            if other is not order and other.status in ("NEW", "PARTIALLY_FILLED"):
                other.status = "EXPIRED"

    def _fill(self, order: DeskOrder, qty: float, price: float, *, locked: bool) -> None:
        base, quote = order.symbol.split("/")
        value = qty * price
        fee_asset = self.fee_asset or quote
        fee = {quote: value * self.fee, base: qty * self.fee}.get(fee_asset)
        if fee is None:
            fee = value * self.fee / self.fee_asset_price
        source = self.locked if locked else self.free
        if order.side == "BUY":
            source[quote] = source.get(quote, 0.0) - value
            self.free[base] = self.free.get(base, 0.0) + qty
        else:
            source[base] = source.get(base, 0.0) - qty
            self.free[quote] = self.free.get(quote, 0.0) + value
        self.free[fee_asset] = self.free.get(fee_asset, 0.0) - fee
        order.executed += qty
        order.quote += value
        order.status = "FILLED" if order.executed >= order.quantity - 1e-12 else "PARTIALLY_FILLED"
        numbering = self._trade_ids
        if self._symbol_trade_ids is not None:
            numbering = self._symbol_trade_ids.setdefault(order.symbol, itertools.count(50001))
        trade_id = next(numbering)
        if self.trade_lag:
            self._hidden[trade_id] = self.trade_lag
        order.trades.append(
            {
                "symbol": market_id(order.symbol),
                "id": trade_id,
                "orderId": order.order_id,
                "orderListId": order.list_id,
                "price": f"{price:.8f}",
                "qty": f"{qty:.8f}",
                "quoteQty": f"{value:.8f}",
                "commission": f"{fee:.8f}",
                "commissionAsset": fee_asset,
                "time": self.now,
                "isBuyer": order.side == "BUY",
                "isMaker": order.type == "LIMIT",
                "isBestMatch": True,
            }
        )

    def _create(self, request: Recorded) -> Reply:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        params = request.params
        symbol = self._symbol(request)
        if symbol is None:
            return Reply(400, binance_error(-1121, "Invalid symbol."))
        side, kind = params.get("side", ""), params.get("type", "")
        if side not in ("BUY", "SELL") or kind not in ("MARKET", "LIMIT", "LIMIT_MAKER", *STOP_TYPES):
            return Reply(400, binance_error(-1116, "Invalid orderType."))
        quantity = float(params.get("quantity", "0"))
        price = float(params["price"]) if "price" in params else None
        stop = float(params["stopPrice"]) if "stopPrice" in params else None
        if kind in STOP_TYPES and (stop is None or price is None):
            return Reply(400, binance_error(-1102, "Mandatory parameter 'stopPrice' was not sent."))
        client_id = params.get("newClientOrderId") or f"x-{next(self._ids)}"
        return self._after_reply(self.accept(symbol, side, kind, quantity, price, client_id, stop))

    def accept(
        self,
        symbol: str,
        side: str,
        kind: str,
        quantity: float,
        price: float | None,
        client_id: str,
        stop: float | None = None,
    ) -> Reply:
        """Book an order as if its request arrived now (also for a test's request that "arrives late")."""
        base, quote = symbol.split("/")
        with self._desk:
            if any(
                o.client_order_id == client_id and o.status in ("NEW", "PARTIALLY_FILLED")
                for o in self.orders.values()
            ):
                return Reply(400, binance_error(-2010, "Duplicate order sent."))
            last = self.last[symbol]
            if (
                kind == "LIMIT_MAKER"
                and price is not None
                and ((side == "BUY" and price >= last) or (side == "SELL" and price <= last))
            ):
                return Reply(400, binance_error(-2010, WOULD_MATCH))
            marketable = kind == "MARKET" or (
                stop is None
                and price is not None
                and ((side == "BUY" and price >= last) or (side == "SELL" and price <= last))
            )
            fill_price = last if marketable else price
            assert fill_price is not None
            if side == "BUY":
                need = quantity * fill_price * (1 + self.fee) if marketable else quantity * fill_price
                if self.free.get(quote, 0.0) < need - DECIMAL_HAIR:
                    return Reply(400, binance_error(-2010, INSUFFICIENT))
            elif self.free.get(base, 0.0) < quantity - DECIMAL_HAIR:
                return Reply(400, binance_error(-2010, INSUFFICIENT))
            order = DeskOrder(
                next(self._ids),
                client_id,
                symbol,
                side,
                kind,
                quantity,
                price,
                time=self.now,
                stop_price=stop,
            )
            self.orders[order.order_id] = order
            self.placed.append(order)
            if marketable:
                for piece in range(self.pieces):  # a thin book: each piece a little dearer (or cheaper)
                    step = 1 + 0.0001 * piece * (1 if side == "BUY" else -1)
                    self._fill(order, quantity / self.pieces, fill_price * step, locked=False)
            else:
                asset, amount = (quote, quantity * fill_price) if side == "BUY" else (base, quantity)
                self.free[asset] -= amount
                self.locked[asset] = self.locked.get(asset, 0.0) + amount
            body = self._order_json(order)
            body["fills"] = [
                {
                    "price": t["price"],
                    "qty": t["qty"],
                    "commission": t["commission"],
                    "commissionAsset": t["commissionAsset"],
                    "tradeId": t["id"],
                }
                for t in order.trades
            ]
            if self.ack_only:
                body = {k: body[k] for k in ("symbol", "orderId", "orderListId", "clientOrderId")}
                body["transactTime"] = order.time
        return Reply(200, body)

    def _find(self, request: Recorded) -> DeskOrder | None:
        params = request.params
        with self._desk:
            if "orderId" in params:
                return self.orders.get(int(params["orderId"]))
            wanted = params.get("origClientOrderId")
            found = [o for o in self.orders.values() if o.client_order_id == wanted]
            return found[-1] if found else None

    def _query(self, request: Recorded) -> Reply:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        order = self._find(request)
        if order is None:
            return Reply(400, binance_error(-2013, "Order does not exist."))
        with self._desk:
            return Reply(200, self._order_json(order))

    def _cancel(self, request: Recorded) -> Reply:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        order = self._find(request)
        with self._desk:
            if order is None or order.status not in ("NEW", "PARTIALLY_FILLED"):
                return Reply(400, binance_error(-2011, "Unknown order sent."))
            self._cancel_order(order)
            return Reply(200, self._order_json(order))

    def _cancel_order(self, order: DeskOrder) -> None:
        """Cancel a working order and unlock what it held; a leg of an OCO list cancels the whole list
        (its quantity was locked once)."""
        legs = [self.orders[i] for i in self.lists[order.list_id][1]] if order.list_id >= 0 else [order]
        base, quote = order.symbol.split("/")
        rest = order.quantity - order.executed
        asset, amount = (quote, rest * (order.price or 0.0)) if order.side == "BUY" else (base, rest)
        self.locked[asset] = self.locked.get(asset, 0.0) - amount
        self.free[asset] = self.free.get(asset, 0.0) + amount
        for leg in legs:
            if leg.status in ("NEW", "PARTIALLY_FILLED"):
                leg.status = "CANCELED"

    def _create_oco(self, request: Recorded) -> Reply:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        params = request.params
        symbol = self._symbol(request)
        if symbol is None:
            return Reply(400, binance_error(-1121, "Invalid symbol."))
        side = params.get("side", "")
        if side != "SELL" or params.get("aboveType") != "LIMIT_MAKER":
            return Reply(400, binance_error(-1116, "Invalid orderType."))  # the fake sells only
        if params.get("belowType") != "STOP_LOSS_LIMIT":
            return Reply(400, binance_error(-1116, "Invalid orderType."))
        for name in ("quantity", "abovePrice", "belowStopPrice", "belowPrice", "belowTimeInForce"):
            if name not in params:
                return Reply(400, binance_error(-1102, f"Mandatory parameter '{name}' was not sent."))
        quantity = float(params["quantity"])
        above, stop, below = (float(params[k]) for k in ("abovePrice", "belowStopPrice", "belowPrice"))
        base = symbol.split("/")[0]
        with self._desk:
            last = self.last[symbol]
            if not above > last > stop:
                return Reply(400, binance_error(-1013, PRICES_OUT_OF_ORDER))
            ids = (params.get("aboveClientOrderId"), params.get("belowClientOrderId"))
            if any(
                o.client_order_id in ids and o.status in ("NEW", "PARTIALLY_FILLED")
                for o in self.orders.values()
            ):
                return Reply(400, binance_error(-2010, "Duplicate order sent."))
            if self.free.get(base, 0.0) < quantity - DECIMAL_HAIR:
                return Reply(400, binance_error(-2010, INSUFFICIENT))
            list_id = next(self._list_ids)
            below_id = params.get("belowClientOrderId") or f"x-{next(self._ids)}"
            above_id = params.get("aboveClientOrderId") or f"x-{next(self._ids)}"
            stop_leg = DeskOrder(
                next(self._ids), below_id, symbol, side, "STOP_LOSS_LIMIT", quantity, below,
                time=self.now, stop_price=stop, list_id=list_id,
            )  # fmt: skip
            take_leg = DeskOrder(
                next(self._ids), above_id, symbol, side, "LIMIT_MAKER", quantity, above,
                time=self.now, list_id=list_id,
            )  # fmt: skip
            legs = [stop_leg, take_leg]
            list_client = params.get("listClientOrderId") or f"list-{list_id}"
            self.lists[list_id] = (list_client, [leg.order_id for leg in legs])
            for leg in legs:
                self.orders[leg.order_id] = leg
                self.placed.append(leg)
            self.free[base] -= quantity
            self.locked[base] = self.locked.get(base, 0.0) + quantity
            body = self._list_json(list_id)
        return self._after_reply(Reply(200, body))

    def _cancel_list(self, request: Recorded) -> Reply:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        params = request.params
        with self._desk:
            found = [
                list_id
                for list_id, (client, _) in self.lists.items()
                if str(list_id) == params.get("orderListId") or client == params.get("listClientOrderId")
            ]
            legs = [self.orders[i] for i in self.lists[found[0]][1]] if found else []
            working = [leg for leg in legs if leg.status in ("NEW", "PARTIALLY_FILLED")]
            if not working:
                return Reply(400, binance_error(-2011, "Unknown order sent."))
            self._cancel_order(working[0])
            return Reply(200, self._list_json(found[0]))

    def _find_list(self, request: Recorded) -> int | None:
        params = request.params
        with self._desk:
            for list_id, (client, _) in self.lists.items():
                if str(list_id) == params.get("orderListId") or client == params.get("origClientOrderId"):
                    return list_id
        return None

    def _query_list(self, request: Recorded) -> Reply:
        """Binance's ``GET /api/v3/orderList``: the list's status and its legs' ids (not their states)."""
        refused = self._refuse(request)
        if refused is not None:
            return refused
        list_id = self._find_list(request)
        if list_id is None:
            return Reply(400, binance_error(-2013, "Order list does not exist."))
        with self._desk:
            body = self._list_json(list_id)
        del body["orderReports"]
        return Reply(200, body)

    def _list_json(self, list_id: int) -> dict[str, Any]:
        client, order_ids = self.lists[list_id]
        legs = [self.orders[i] for i in order_ids]
        done = all(leg.status not in ("NEW", "PARTIALLY_FILLED") for leg in legs)
        return {
            "orderListId": list_id,
            "contingencyType": "OCO",
            "listStatusType": "ALL_DONE" if done else "EXEC_STARTED",
            "listOrderStatus": "ALL_DONE" if done else "EXECUTING",
            "listClientOrderId": client,
            "transactionTime": self.now,
            "symbol": market_id(legs[0].symbol),
            "orders": [
                {
                    "symbol": market_id(leg.symbol),
                    "orderId": leg.order_id,
                    "clientOrderId": leg.client_order_id,
                }
                for leg in legs
            ],
            "orderReports": [self._order_json(leg) for leg in legs],
        }

    def _open_orders(self, request: Recorded) -> Reply:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        symbol = self._symbol(request)
        with self._desk:
            found = [
                self._order_json(o)
                for o in self.orders.values()
                if o.status in ("NEW", "PARTIALLY_FILLED") and (symbol is None or o.symbol == symbol)
            ]
        return Reply(200, found)

    def _my_trades(self, request: Recorded) -> Reply:
        """Binance's ``GET /api/v3/myTrades``: at most ``limit`` trades (500 unless asked, 1000 at most),
        oldest first. With ``fromId`` the first of those with an id from it on; with ``startTime`` (ccxt's
        ``since``) the first from that time on; otherwise the most recent. Binance takes ``orderId`` alone
        or with ``fromId`` only: with a time range, or ``fromId`` with one, it refuses the combination."""
        refused = self._refuse(request)
        if refused is not None:
            return refused
        params = request.params
        symbol = self._symbol(request)
        order_id = params.get("orderId")
        timed = "startTime" in params or "endTime" in params
        if timed and (order_id is not None or "fromId" in params):
            return Reply(400, binance_error(-1128, "Combination of optional parameters invalid."))
        limit = int(params.get("limit", TRADES_PAGE))
        if not 1 <= limit <= TRADES_PAGE_MAX:
            return Reply(400, binance_error(-1130, "Data sent for parameter 'limit' is not valid."))
        start = int(params.get("startTime", 0))
        end = int(params.get("endTime", 2**63))
        from_id = int(params.get("fromId", 0))
        with self._desk:
            trades = sorted(
                (
                    trade
                    for order in self.orders.values()
                    if order.symbol == symbol and (order_id is None or order.order_id == int(order_id))
                    for trade in order.trades
                    if start <= trade["time"] <= end and trade["id"] >= from_id
                ),
                key=lambda t: t["id"],
            )
            page = trades[:limit] if "fromId" in params or "startTime" in params else trades[-limit:]
            shown = []
            for trade in page:
                hidden = self._hidden.get(trade["id"], 0)
                if hidden > 0:
                    self._hidden[trade["id"]] = hidden - 1
                else:
                    shown.append(trade)
        return Reply(200, shown)

    def _account(self, request: Recorded) -> Reply:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        with self._desk:
            assets = sorted(set(self.free) | set(self.locked))
            balances = [
                {
                    "asset": a,
                    "free": f"{self.free.get(a, 0.0):.8f}",
                    "locked": f"{self.locked.get(a, 0.0):.8f}",
                }
                for a in assets
            ]
        return Reply(
            200,
            {
                "makerCommission": 10,
                "takerCommission": 10,
                "canTrade": True,
                "accountType": "SPOT",
                "balances": balances,
                "permissions": ["SPOT"],
            },
        )

    def _order_json(self, order: DeskOrder) -> dict[str, Any]:
        shown = self._order_fields(order)
        if self.trades_only:
            del shown["executedQty"], shown["cummulativeQuoteQty"]
        return shown

    def _order_fields(self, order: DeskOrder) -> dict[str, Any]:
        return {
            "symbol": market_id(order.symbol),
            "orderId": order.order_id,
            "orderListId": order.list_id,
            "clientOrderId": order.client_order_id,
            "transactTime": order.time,
            "time": order.time,
            "updateTime": self.now,
            "price": f"{order.price or 0.0:.8f}",
            "origQty": f"{order.quantity:.8f}",
            "executedQty": f"{order.executed:.8f}",
            "cummulativeQuoteQty": f"{order.quote:.8f}",
            "status": order.status,
            "timeInForce": "GTC",
            "type": order.type,
            "side": order.side,
            **({"stopPrice": f"{order.stop_price:.8f}"} if order.stop_price is not None else {}),
            "workingTime": order.time,
            "selfTradePreventionMode": "EXPIRE_MAKER",
        }

    def orders_for(self, client_order_id: str) -> list[DeskOrder]:
        """Every order the desk accepted with this client id (exactly one per intent is the rule)."""
        with self._desk:
            return [order for order in self.placed if order.client_order_id == client_order_id]

    def balance(self, asset: str) -> float:
        with self._desk:
            return self.free.get(asset, 0.0) + self.locked.get(asset, 0.0)


def _query_of(request: Recorded) -> str:
    """The query string of a GET/DELETE as ccxt signed it: the parameters in the order they came (the
    values ccxt sends here, ids, numbers and symbols, need no percent-encoding)."""
    return "&".join(f"{key}={value}" for key, value in request.params.items())
