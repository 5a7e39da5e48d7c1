"""``Backend``: every call the dashboard makes on the daemon, as a protocol.

The app never touches ``DaemonClient`` directly: it is handed something with these methods.
``DaemonBackend`` is the real one (over the socket); tests and the benchmark hand in a fake that serves
fixed data and streams events on demand. Methods raise the ``mastertrade.errors`` classes the client
raises (``DaemonNotRunning`` when nothing answers, ``RiskRejected`` for a refused order, ``NotFound``
...) and ``Unavailable`` for something this daemon does not serve.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol, cast

from mastertrade.engine.api.schemas import AlertInfo, CandlesResponse, JobRunInfo, StatusReport, StopResponse
from mastertrade.engine.api.schemas_logs import LogRecord
from mastertrade.engine.api.schemas_trading import (
    BalanceInfo,
    GoalsReport,
    OrderCreate,
    OrderInfo,
    PlaceResult,
    PositionInfo,
    RiskDecision,
    RiskStatus,
)
from mastertrade.engine.events import Event
from mastertrade.errors import OperationFailed
from mastertrade.tui.models import EquityPoint, StrategyAction, StrategyDetail, StrategyInfo

GENERATION_JOB = "nightly_generation"


class Unavailable(OperationFailed):
    """The daemon does not serve this (an older daemon, or an endpoint not built yet)."""


class Backend(Protocol):
    # --- the daemon and the market -------------------------------------------------------------------
    async def status(self) -> StatusReport: ...

    async def candles(
        self, symbol: str, *, timeframe: str | None = None, limit: int = 100
    ) -> CandlesResponse: ...

    def events(
        self, types: Sequence[str] | None = None, *, connection_events: bool = False
    ) -> AsyncIterator[Event]:
        """Live events forever; with ``connection_events`` a ``ConnectionChanged`` marks each loss of
        the stream ("disconnected") and each recovery after one ("connected")."""
        ...

    async def stop_daemon(self) -> StopResponse: ...

    async def aclose(self) -> None: ...

    # --- the account ---------------------------------------------------------------------------------
    async def balance(self) -> BalanceInfo: ...

    async def equity_history(self, *, limit: int = 500) -> list[EquityPoint]: ...

    async def positions(self) -> list[PositionInfo]: ...

    async def orders(self, *, open_only: bool = False, limit: int = 50) -> list[OrderInfo]: ...

    async def preview_order(self, order: OrderCreate, *, last_price: float | None) -> RiskDecision:
        """What the risk check would decide for ``order`` now (size and reasons), without sending it."""
        ...

    async def place_order(self, order: OrderCreate) -> PlaceResult: ...

    async def cancel_order(self, order_id: int) -> OrderInfo: ...

    # --- risk, goals, alerts -------------------------------------------------------------------------
    async def risk_status(self) -> RiskStatus: ...

    async def risk_halt(self, reason: str = "") -> RiskStatus: ...

    async def risk_resume(self, breaker: str | None = None) -> RiskStatus: ...

    async def goals(self) -> GoalsReport: ...

    async def alert_history(self, *, limit: int = 50) -> list[AlertInfo]: ...

    async def daemon_log(self, *, limit: int = 200) -> list[LogRecord]:
        """The newest records of the daemon's own log file, oldest first."""
        ...

    # --- strategies ----------------------------------------------------------------------------------
    async def strategies(self) -> list[StrategyInfo]: ...

    async def strategy(self, strategy_id: str) -> StrategyDetail: ...

    async def change_strategy(self, strategy_id: str, action: StrategyAction) -> StrategyInfo: ...

    async def start_generation(self) -> JobRunInfo: ...


def backend_of(app: object) -> Backend:
    """The ``Backend`` of the running dashboard app (screens reach it through ``self.app``)."""
    backend = getattr(app, "backend", None)
    if backend is None:
        raise TypeError(f"{type(app).__name__} carries no backend")
    return cast(Backend, backend)
