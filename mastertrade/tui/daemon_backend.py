"""``DaemonBackend``: the dashboard's ``Backend`` over ``DaemonClient`` (the daemon's socket API).

Most calls are the client's methods as they are. Endpoints an older daemon may lack are used when the
daemon's OpenAPI document lists them, and raise ``Unavailable`` naming the endpoint otherwise (so the
screen says what is missing instead of pretending): the equity history (``GET /v1/equity``), the
strategy pipeline (``GET /v1/strategies``, ``GET /v1/strategies/{id}``,
``POST /v1/strategies/{id}/{activate|pause|retire}``) and the daemon's log (``GET /v1/logs``). The
strategy rows are parsed leniently into the dashboard's own models (``tui/models.py``).

The order ticket's preview asks ``POST /v1/orders/check`` (``DaemonClient.check_order``: the daemon's
own dry run of placing the order) when the daemon has it; otherwise it runs the engine's pre-trade check
(``mastertrade.engine.risk.check.check_order``, a pure function) on the account as the API reports it,
so the preview applies the same rules the daemon applies on send, before fees. The daemon checks every
order again when it is placed.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
from pydantic import TypeAdapter

from mastertrade import errors
from mastertrade.client import DaemonClient
from mastertrade.engine.api.schemas import AlertInfo, CandlesResponse, JobRunInfo, StatusReport, StopResponse
from mastertrade.engine.api.schemas_logs import LogRecord
from mastertrade.engine.api.schemas_trading import (
    BalanceInfo,
    Finding,
    GoalsReport,
    OrderCreate,
    OrderInfo,
    PlaceResult,
    PositionInfo,
    RiskDecision,
    RiskStatus,
)
from mastertrade.engine.events import Event
from mastertrade.tui.backend import GENERATION_JOB, Unavailable
from mastertrade.tui.models import EquityPoint, StrategyAction, StrategyDetail, StrategyInfo

OPEN_STATES = frozenset({"open", "partially_filled", "sent", "unknown", "intent"})


class DaemonBackend:
    def __init__(self, client: DaemonClient) -> None:
        self.client = client
        self._paths: frozenset[str] | None = None

    # --- which endpoints this daemon serves ------------------------------------------------------------

    async def _serves(self, path: str) -> bool:
        if self._paths is None:
            document: dict[str, Any] = await self._call(self.client.openapi())
            self._paths = frozenset(document.get("paths", {}))
        return path in self._paths

    async def _require(self, method: str, path: str) -> None:
        if not await self._serves(path):
            raise Unavailable(f"this daemon does not serve {method} {path} yet")

    async def _call[T](self, pending: Any) -> T:
        """Await a client call; a lost daemon also forgets its endpoint list (a new one may differ)."""
        try:
            result: T = await pending
        except errors.DaemonNotRunning:
            self._paths = None
            raise
        return result

    async def _get[T](self, model: Any, path: str, **params: Any) -> T:
        response: httpx.Response = await self._call(self.client.request("GET", path, params=params))
        result: T = TypeAdapter(model).validate_python(response.json())
        return result

    # --- the daemon and the market -------------------------------------------------------------------

    async def status(self) -> StatusReport:
        report: StatusReport = await self._call(self.client.status())
        return report

    async def candles(
        self, symbol: str, *, timeframe: str | None = None, limit: int = 100
    ) -> CandlesResponse:
        response: CandlesResponse = await self._call(
            self.client.candles(symbol, timeframe=timeframe, limit=limit)
        )
        return response

    def events(
        self, types: Sequence[str] | None = None, *, connection_events: bool = False
    ) -> AsyncIterator[Event]:
        return self.client.events(types, connection_events=connection_events)

    async def stop_daemon(self) -> StopResponse:
        response: StopResponse = await self._call(self.client.stop_daemon())
        return response

    async def aclose(self) -> None:
        await self.client.aclose()

    # --- the account ---------------------------------------------------------------------------------

    async def balance(self) -> BalanceInfo:
        balance: BalanceInfo = await self._call(self.client.balance())
        return balance

    async def equity_history(self, *, limit: int = 500) -> list[EquityPoint]:
        await self._require("GET", "/v1/equity")
        points: list[EquityPoint] = await self._get(list[EquityPoint], "/v1/equity", limit=limit)
        return points

    async def positions(self) -> list[PositionInfo]:
        positions: list[PositionInfo] = await self._call(self.client.positions())
        return positions

    async def orders(self, *, open_only: bool = False, limit: int = 50) -> list[OrderInfo]:
        orders: list[OrderInfo] = await self._call(self.client.orders(open_only=open_only, limit=limit))
        return orders

    async def place_order(self, order: OrderCreate) -> PlaceResult:
        result: PlaceResult = await self._call(self.client.place_order(order))
        return result

    async def cancel_order(self, order_id: int) -> OrderInfo:
        order: OrderInfo = await self._call(self.client.cancel_order(order_id))
        return order

    async def preview_order(self, order: OrderCreate, *, last_price: float | None) -> RiskDecision:
        if await self._serves("/v1/orders/check"):
            checked: RiskDecision = await self._call(self.client.check_order(order))
            return checked
        balance = await self.balance()
        positions = await self.positions()
        working = await self.orders(open_only=True, limit=500)
        risk = await self.risk_status()
        return local_check(order, last_price, balance, positions, working, risk)

    # --- risk, goals, alerts -------------------------------------------------------------------------

    async def risk_status(self) -> RiskStatus:
        status: RiskStatus = await self._call(self.client.risk_status())
        return status

    async def risk_halt(self, reason: str = "") -> RiskStatus:
        status: RiskStatus = await self._call(self.client.risk_halt(reason))
        return status

    async def risk_resume(self, breaker: str | None = None) -> RiskStatus:
        status: RiskStatus = await self._call(self.client.risk_resume(breaker))
        return status

    async def goals(self) -> GoalsReport:
        report: GoalsReport = await self._call(self.client.goals())
        return report

    async def alert_history(self, *, limit: int = 50) -> list[AlertInfo]:
        alerts: list[AlertInfo] = await self._call(self.client.alert_history(limit=limit))
        return alerts

    async def daemon_log(self, *, limit: int = 200) -> list[LogRecord]:
        await self._require("GET", "/v1/logs")
        records: list[LogRecord] = await self._call(self.client.logs(limit=limit))
        return records

    # --- strategies ----------------------------------------------------------------------------------

    async def strategies(self) -> list[StrategyInfo]:
        await self._require("GET", "/v1/strategies")
        rows: list[StrategyInfo] = await self._get(list[StrategyInfo], "/v1/strategies")
        return rows

    async def strategy(self, strategy_id: str) -> StrategyDetail:
        await self._require("GET", "/v1/strategies/{strategy_id}")
        detail: StrategyDetail = await self._get(StrategyDetail, f"/v1/strategies/{strategy_id}")
        return detail

    async def change_strategy(self, strategy_id: str, action: StrategyAction) -> StrategyInfo:
        await self._require("POST", f"/v1/strategies/{{strategy_id}}/{action}")
        response: httpx.Response = await self._call(
            self.client.request("POST", f"/v1/strategies/{strategy_id}/{action}")
        )
        return StrategyInfo.model_validate(response.json())

    async def start_generation(self) -> JobRunInfo:
        run: JobRunInfo = await self._call(self.client.run_job(GENERATION_JOB))
        return run


def local_check(
    order: OrderCreate,
    last_price: float | None,
    balance: BalanceInfo,
    positions: Sequence[PositionInfo],
    working: Sequence[OrderInfo],
    risk: RiskStatus,
) -> RiskDecision:
    """The engine's pre-trade check on the account as the API shows it (fees left out)."""
    from mastertrade.engine.risk.check import Controls, Holding, PortfolioSnapshot, ProposedOrder, RiskLimits
    from mastertrade.engine.risk.check import check_order as engine_check

    price = order.price if order.type == "limit" and order.price else last_price
    if price is None or not math.isfinite(price) or price <= 0:
        return RiskDecision(
            verdict="reject",
            symbol=order.symbol,
            side=order.side,
            requested=order.amount,
            amount=0.0,
            price=0.0,
            reason=f"no price known for {order.symbol} yet",
            findings=[Finding(code="no_price", message=f"no price known for {order.symbol} yet")],
        )
    marks = {item.symbol: item.mark or item.average_price or 0.0 for item in positions}
    reserved_sells: dict[str, float] = {}
    open_buys: dict[str, float] = {}
    for item in working:
        if item.state not in OPEN_STATES or item.amount is None:
            continue
        left = max(0.0, item.amount - item.filled)
        if item.side == "sell":
            reserved_sells[item.symbol] = reserved_sells.get(item.symbol, 0.0) + left
        else:
            at = item.price or marks.get(item.symbol) or (price if item.symbol == order.symbol else 0.0)
            open_buys[item.symbol] = open_buys.get(item.symbol, 0.0) + left * at
    holdings = {
        item.symbol: Holding(item.amount, marks[item.symbol], reserved_sells.get(item.symbol, 0.0))
        for item in positions
        if item.amount > 0
    }
    day_start = risk.equity / (1 - risk.daily_loss) if 0 < risk.daily_loss < 1 else risk.equity
    snapshot = PortfolioSnapshot(
        cash=balance.cash,
        holdings=holdings,
        open_buys=open_buys,
        peak_equity=risk.peak_equity,
        day_start_equity=day_start,
    )
    limits = RiskLimits(
        max_position=risk.limits.get("max_position", RiskLimits.max_position),
        max_exposure=risk.limits.get("max_exposure", RiskLimits.max_exposure),
        max_open_positions=int(risk.limits.get("max_open_positions", RiskLimits.max_open_positions)),
        min_notional=risk.limits.get("min_notional", RiskLimits.min_notional),
        daily_loss_limit=risk.limits.get("daily_loss_limit", RiskLimits.daily_loss_limit),
        max_drawdown=risk.limits.get("max_drawdown", RiskLimits.max_drawdown),
    )
    controls = Controls(
        halted=risk.halted,
        halt_reason=risk.halt_reason,
        tripped=tuple(
            (item.name, item.reason or "tripped")
            for item in risk.breakers
            if item.tripped and item.name != "kill_switch"
        ),
    )
    decision = engine_check(
        ProposedOrder(order.symbol, order.side, order.amount, price), snapshot, limits, controls
    )
    return RiskDecision.model_validate(decision.as_dict())
