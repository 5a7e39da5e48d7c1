"""``Backend``: every call the dashboard makes on the daemon, as a protocol: the methods of
``mastertrade.client.DaemonClient`` it uses, with their signatures and the API's schemas.

The app is handed a ``DaemonClient`` (``mt tui``) or, in tests and the benchmark, a fake with the same
methods that serves fixed data and streams events on demand. ``tests/tui/test_backend.py`` checks that
the client satisfies it. Methods raise the ``mastertrade.errors``
classes the client raises (``DaemonNotRunning`` when nothing answers, ``RiskRejected`` for a refused
order, ``NotFound`` ...).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol, cast

from mastertrade.engine.api.schemas import (
    AlertInfo,
    CandlesResponse,
    IndicatorsResponse,
    JobRunInfo,
    StatusReport,
    StopResponse,
)
from mastertrade.engine.api.schemas_logs import LogRecord
from mastertrade.engine.api.schemas_strategies import StrategyDetail, StrategySummary
from mastertrade.engine.api.schemas_trading import (
    BalanceInfo,
    EquityPointInfo,
    GoalsReport,
    OrderCheck,
    OrderCreate,
    OrderInfo,
    PlaceResult,
    PositionInfo,
    RiskStatus,
)
from mastertrade.engine.events import Event

GENERATION_JOB = "nightly_generation"


class Backend(Protocol):
    # --- the daemon and the market -------------------------------------------------------------------
    async def status(self) -> StatusReport: ...

    async def candles(
        self, symbol: str, *, timeframe: str | None = None, limit: int = 100
    ) -> CandlesResponse: ...

    async def indicators(
        self, symbol: str, lines: Sequence[str], *, timeframe: str | None = None, limit: int = 100
    ) -> IndicatorsResponse:
        """The engine's indicator lines (``signals.lines`` specs) over the newest stored candles."""
        ...

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

    async def equity_history(self, *, limit: int = 500) -> list[EquityPointInfo]: ...

    async def positions(self, *, book: str | None = None) -> list[PositionInfo]:
        """The open positions of ``book``: the account's (None) or a strategy's paper book
        (``strategy:<id>``; ``NotFound`` when it has none)."""
        ...

    async def orders(
        self, *, open_only: bool = False, limit: int = 50, book: str | None = None
    ) -> list[OrderInfo]:
        """The newest orders of ``book`` (as for ``positions``)."""
        ...

    async def check_order(self, order: OrderCreate) -> OrderCheck:
        """What the risk check would decide for ``order`` now (size and reasons), without sending it."""
        ...

    async def place_order(self, order: OrderCreate) -> PlaceResult: ...

    async def cancel_order(self, order_id: int, *, unprotect: bool = False) -> OrderInfo:
        """Cancel an order; the stop protecting an open position only with ``unprotect`` (else
        ``StopProtectsPosition``, naming the position)."""
        ...

    # --- risk, goals, alerts -------------------------------------------------------------------------
    async def risk_status(self) -> RiskStatus: ...

    async def risk_halt(self, reason: str = "") -> RiskStatus: ...

    async def risk_resume(self, breaker: str | None = None) -> RiskStatus: ...

    async def goals(self) -> GoalsReport: ...

    async def alert_history(self, *, limit: int = 50) -> list[AlertInfo]: ...

    async def logs(self, *, limit: int = 100) -> list[LogRecord]:
        """The newest records of the daemon's own log file, oldest first."""
        ...

    # --- strategies and jobs -------------------------------------------------------------------------
    async def strategies(self) -> list[StrategySummary]: ...

    async def strategy(self, strategy_id: str) -> StrategyDetail: ...

    async def change_strategy(self, strategy_id: str, action: str) -> StrategySummary: ...

    async def run_job(self, name: str) -> JobRunInfo: ...


def backend_of(app: object) -> Backend:
    """The ``Backend`` of the running dashboard app (screens reach it through ``self.app``)."""
    backend = getattr(app, "backend", None)
    if backend is None:
        raise TypeError(f"{type(app).__name__} carries no backend")
    return cast(Backend, backend)
