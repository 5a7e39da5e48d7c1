"""The daemon client: typed async methods over the daemon's HTTP API, used by the CLI and the TUI.

It talks HTTP/1.1 over the Unix socket (``locations().socket_file``) by default, or over TCP with a
bearer token (``DaemonClient(base_url="http://127.0.0.1:8765", token=...)``, for an SSH tunnel).
Nothing answering on the socket raises ``DaemonNotRunning``; an API error raises the
``mastertrade.errors`` class named by its code (``not_found`` -> ``NotFound``) with the daemon's
message, so callers handle remote and local failures alike.

    async with DaemonClient() as client:
        status = await client.status()
        async for event in client.events(["price", "order"]):
            ...

``events`` yields typed events (``mastertrade.engine.events``) and reconnects by itself, resuming
after the last event id it saw (the daemon replays what it still has, or sends ``stream.gap``).
Another area adds a method per endpoint, returning its schema model through ``self._get``/``_post``.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter

from mastertrade import errors
from mastertrade.engine.api import schemas_strategies
from mastertrade.engine.api import schemas_trading as trading
from mastertrade.engine.api.schemas import (
    AlertInfo,
    AlertRuleInfo,
    AlertsOverview,
    CandlesResponse,
    FeatureListing,
    FeatureSeriesInfo,
    IndicatorsResponse,
    JobInfo,
    JobRunInfo,
    StatusReport,
    StopResponse,
)
from mastertrade.engine.api.schemas_logs import LogRecord
from mastertrade.engine.events import ConnectionChanged, Event, parse_event
from mastertrade.utc import iso

NOT_RUNNING = "the daemon is not running: start it with `mt daemon start`"
M = TypeVar("M")


def _segment(value: object) -> str:
    """``value`` as one segment of a request's path, percent-encoded. A name or id typed by the user
    (``mt daemon run ../daemon/stop?``) stays the value it names: unencoded, its ``/``, ``?`` and ``..``
    made the path another endpoint's, and the command stopped the daemon. An empty one is refused."""
    text = quote(str(value), safe="")
    if not str(value).strip():
        # an empty segment made the path another endpoint's too (`mt daemon run ''` asked for
        # POST /v1/jobs//run and was answered "no such endpoint")
        raise errors.UserInputError(f"invalid {str(value)!r}: an empty name or id")
    return {".": "%2E", "..": "%2E%2E"}.get(text, text)


class DaemonTimeout(errors.OperationFailed):
    """The daemon did not answer in time (what it was asked may still be under way)."""


class DaemonConnectionLost(errors.OperationFailed):
    """The connection broke after the request went out, before the answer came back (the daemon stopped
    or crashed meanwhile): what it was asked may have been done."""


_GENERIC_CODES: dict[str, type[errors.MasterTradeError]] = {
    "bad_request": errors.UserInputError,
    "invalid_request": errors.UserInputError,
    "malformed_json": errors.UserInputError,
    "method_not_allowed": errors.UserInputError,
    "unsupported_media_type": errors.UserInputError,
    "payload_too_large": errors.UserInputError,
    "unauthorized": errors.AuthenticationFailed,
    "forbidden": errors.AuthenticationFailed,
    "internal_error": errors.OperationFailed,
}


def _error_classes() -> dict[str, type[errors.MasterTradeError]]:
    found = dict(_GENERIC_CODES)
    for value in vars(errors).values():
        if isinstance(value, type) and issubclass(value, errors.MasterTradeError):
            found[re.sub(r"(?<!^)(?=[A-Z])", "_", value.__name__).lower()] = value
    return found


ERROR_CLASSES = _error_classes()


def error_from_response(response: httpx.Response) -> errors.MasterTradeError:
    """The ``mastertrade.errors`` exception an API error response stands for."""
    code, message = "", ""
    try:
        body = response.json()
        code, message = str(body["error"]["code"]), str(body["error"]["message"])
    except (ValueError, KeyError, TypeError):
        message = f"the daemon answered {response.status_code} {response.reason_phrase}"
    kind = ERROR_CLASSES.get(code)
    if kind is None:
        kind = errors.UserInputError if response.status_code < 500 else errors.OperationFailed
    return kind(message)


class DaemonClient:
    def __init__(
        self,
        *,
        socket_path: Path | str | None = None,
        base_url: str | None = None,
        token: str | None = None,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if transport is None and base_url is None:
            if socket_path is None:
                from mastertrade.locations import locations

                socket_path = locations().socket_file
            transport = httpx.AsyncHTTPTransport(uds=str(socket_path))
        self.socket_path = Path(socket_path) if socket_path is not None else None
        self.timeout = timeout
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.AsyncClient(
            transport=transport, base_url=base_url or "http://mt", timeout=timeout, headers=headers
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> DaemonClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- plumbing ----------------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        timeout_s: float | None = None,
    ) -> httpx.Response:
        """One request; API errors and an absent daemon become ``mastertrade.errors`` exceptions."""
        try:
            response = await self._http.request(
                method,
                path,
                params={key: value for key, value in (params or {}).items() if value is not None},
                json=json_body,
                timeout=timeout_s if timeout_s is not None else self.timeout,
            )
        except httpx.ConnectError:
            raise errors.DaemonNotRunning(NOT_RUNNING) from None
        except httpx.TimeoutException:
            raise DaemonTimeout(
                f"the daemon did not answer {method} {path} within {timeout_s or self.timeout:g} s"
            ) from None
        except httpx.TransportError as exc:
            detail = str(exc) or type(exc).__name__  # "Server disconnected ..." or the bare class
            raise DaemonConnectionLost(f"the connection to the daemon broke: {detail}") from None
        if response.status_code >= 400:
            raise error_from_response(response)
        return response

    async def _get(self, model: Any, path: str, **params: Any) -> Any:
        return TypeAdapter(model).validate_python((await self.request("GET", path, params=params)).json())

    async def _post(self, model: Any, path: str, body: BaseModel | dict[str, Any] | None = None) -> Any:
        # Only what the caller set: the daemon's model has the same defaults, and a default sent as if
        # chosen can contradict what was set (a value goal's default period "month" was refused).
        payload = (
            body.model_dump(exclude_none=True, exclude_unset=True) if isinstance(body, BaseModel) else body
        )
        response = await self.request("POST", path, json_body=payload)
        return TypeAdapter(model).validate_python(response.json())

    # --- endpoints ---------------------------------------------------------------------------------

    async def status(self) -> StatusReport:
        result: StatusReport = await self._get(StatusReport, "/v1/status")
        return result

    async def candles(
        self,
        symbol: str,
        *,
        timeframe: str | None = None,
        exchange: str | None = None,
        limit: int = 100,
        since: str | None = None,
        until: str | None = None,
    ) -> CandlesResponse:
        result: CandlesResponse = await self._get(
            CandlesResponse,
            "/v1/candles",
            symbol=symbol,
            timeframe=timeframe,
            exchange=exchange,
            limit=limit,
            since=since,
            until=until,
        )
        return result

    async def features(self, *, source: str | None = None) -> list[FeatureListing]:
        result: list[FeatureListing] = await self._get(list[FeatureListing], "/v1/features", source=source)
        return result

    async def feature(
        self,
        name: str,
        *,
        symbol: str = "",
        source: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int = 1000,
    ) -> FeatureSeriesInfo:
        result: FeatureSeriesInfo = await self._get(
            FeatureSeriesInfo,
            f"/v1/features/{_segment(name)}",
            symbol=symbol,
            source=source,
            since=since,
            until=until,
            limit=limit,
        )
        return result

    async def indicators(
        self, symbol: str, lines: Sequence[str], *, timeframe: str | None = None, limit: int = 100
    ) -> IndicatorsResponse:
        """The engine's indicator lines (``signals.lines`` specs) over the newest stored candles."""
        result: IndicatorsResponse = await self._get(
            IndicatorsResponse,
            "/v1/indicators",
            symbol=symbol,
            line=list(lines),
            timeframe=timeframe,
            limit=limit,
        )
        return result

    async def jobs(self) -> list[JobInfo]:
        result: list[JobInfo] = await self._get(list[JobInfo], "/v1/jobs")
        return result

    async def job_runs(self, name: str, *, limit: int = 20) -> list[JobRunInfo]:
        result: list[JobRunInfo] = await self._get(
            list[JobRunInfo], f"/v1/jobs/{_segment(name)}/runs", limit=limit
        )
        return result

    async def run_job(self, name: str) -> JobRunInfo:
        result: JobRunInfo = await self._post(JobRunInfo, f"/v1/jobs/{_segment(name)}/run")
        return result

    async def alerts(self, *, limit: int = 20) -> AlertsOverview:
        result: AlertsOverview = await self._get(AlertsOverview, "/v1/alerts", limit=limit)
        return result

    async def alert_rules(self) -> list[AlertRuleInfo]:
        result: list[AlertRuleInfo] = await self._get(list[AlertRuleInfo], "/v1/alerts/rules")
        return result

    async def add_alert_rule(
        self, kind: str, *, name: str | None = None, severity: str | None = None, **params: Any
    ) -> AlertRuleInfo:
        """Add a rule, e.g. ``add_alert_rule("price_cross", symbol="BTC/USDT", level=70000)``."""
        body = {"kind": kind, "name": name, "severity": severity, **params}
        result: AlertRuleInfo = await self._post(
            AlertRuleInfo,
            "/v1/alerts/rules",
            {key: value for key, value in body.items() if value is not None},
        )
        return result

    async def remove_alert_rule(self, rule_id: int) -> None:
        await self.request("DELETE", f"/v1/alerts/rules/{_segment(rule_id)}")

    async def alert_history(self, *, limit: int = 50) -> list[AlertInfo]:
        result: list[AlertInfo] = await self._get(list[AlertInfo], "/v1/alerts/history", limit=limit)
        return result

    async def test_alert(self, message: str | None = None) -> AlertInfo:
        """Send a test alert to every target; waits for the delivery result (up to a minute)."""
        response = await self.request(
            "POST", "/v1/alerts/test", json_body={"message": message} if message else {}, timeout_s=60.0
        )
        return AlertInfo.model_validate(response.json())

    async def send_report(self, title: str, message: str) -> AlertInfo:
        """Send a report to every alert target; waits for the delivery result (up to a minute)."""
        response = await self.request(
            "POST", "/v1/alerts/report", json_body={"title": title, "message": message}, timeout_s=60.0
        )
        return AlertInfo.model_validate(response.json())

    async def stop_daemon(self) -> StopResponse:
        result: StopResponse = await self._post(StopResponse, "/v1/daemon/stop")
        return result

    async def metrics(self) -> str:
        return (await self.request("GET", "/metrics")).text

    async def openapi(self) -> dict[str, Any]:
        document: dict[str, Any] = (await self.request("GET", "/openapi.json")).json()
        return document

    async def logs(self, *, limit: int = 100, level: str | None = None) -> list[LogRecord]:
        """The newest records of the daemon's log, oldest first (``level``: that level and above)."""
        result: list[LogRecord] = await self._get(list[LogRecord], "/v1/logs", limit=limit, level=level)
        return result

    # --- trading (orders, positions, balance, risk, goals) -------------------------------------------

    async def place_order(self, order: trading.OrderCreate) -> trading.PlaceResult:
        """Place a risk-checked order; a refusal raises ``RiskRejected`` with the reason."""
        result: trading.PlaceResult = await self._post(trading.PlaceResult, "/v1/orders", order)
        return result

    async def order(self, order_id: int) -> trading.OrderInfo:
        result: trading.OrderInfo = await self._get(trading.OrderInfo, f"/v1/orders/{_segment(order_id)}")
        return result

    async def order_by_client_id(self, client_order_id: str) -> trading.OrderInfo:
        result: trading.OrderInfo = await self._get(
            trading.OrderInfo, f"/v1/orders/by-client-id/{_segment(client_order_id)}"
        )
        return result

    async def check_order(self, order: trading.OrderCreate) -> trading.OrderCheck:
        """The risk decision placing ``order`` would get now; nothing is journaled or sent."""
        result: trading.OrderCheck = await self._post(trading.OrderCheck, "/v1/orders/check", order)
        return result

    async def orders(
        self, *, open_only: bool = False, limit: int = 50, book: str | None = None
    ) -> list[trading.OrderInfo]:
        result: list[trading.OrderInfo] = await self._get(
            list[trading.OrderInfo], "/v1/orders", open="true" if open_only else None, limit=limit, book=book
        )
        return result

    async def cancel_order(self, order_id: int, *, unprotect: bool = False) -> trading.OrderInfo:
        """Cancel an order; the stop protecting an open position only with ``unprotect`` (else the
        daemon refuses with ``StopProtectsPosition`` naming the position)."""
        body = trading.CancelRequest(unprotect=True) if unprotect else None
        result: trading.OrderInfo = await self._post(
            trading.OrderInfo, f"/v1/orders/{_segment(order_id)}/cancel", body
        )
        return result

    async def positions(self, *, book: str | None = None) -> list[trading.PositionInfo]:
        result: list[trading.PositionInfo] = await self._get(
            list[trading.PositionInfo], "/v1/positions", book=book
        )
        return result

    async def fills(self, *, since: datetime, limit: int = 1000) -> list[trading.FillInfo]:
        """The account's fills booked since ``since`` (wall clock), the newest ``limit``, oldest first."""
        result: list[trading.FillInfo] = await self._get(
            list[trading.FillInfo], "/v1/fills", since=iso(since), limit=limit
        )
        return result

    async def balance(self) -> trading.BalanceInfo:
        result: trading.BalanceInfo = await self._get(trading.BalanceInfo, "/v1/balance")
        return result

    async def equity_history(
        self, *, limit: int = 500, book: str | None = None
    ) -> list[trading.EquityPointInfo]:
        """The newest ``limit`` equity marks of ``book`` (the account's by default), oldest first."""
        result: list[trading.EquityPointInfo] = await self._get(
            list[trading.EquityPointInfo], "/v1/equity", limit=limit, book=book
        )
        return result

    async def risk_status(self) -> trading.RiskStatus:
        result: trading.RiskStatus = await self._get(trading.RiskStatus, "/v1/risk")
        return result

    async def risk_halt(self, reason: str = "") -> trading.RiskStatus:
        result: trading.RiskStatus = await self._post(trading.RiskStatus, "/v1/risk/halt", {"reason": reason})
        return result

    async def risk_resume(self, breaker: str | None = None) -> trading.RiskStatus:
        body = {"breaker": breaker} if breaker else {}
        result: trading.RiskStatus = await self._post(trading.RiskStatus, "/v1/risk/resume", body)
        return result

    async def risk_audit(self, *, limit: int = 50) -> list[trading.AuditInfo]:
        result: list[trading.AuditInfo] = await self._get(
            list[trading.AuditInfo], "/v1/risk/audit", limit=limit
        )
        return result

    async def goals(self) -> trading.GoalsReport:
        result: trading.GoalsReport = await self._get(trading.GoalsReport, "/v1/goals")
        return result

    async def add_goal(self, goal: trading.GoalCreate) -> trading.GoalInfo:
        result: trading.GoalInfo = await self._post(trading.GoalInfo, "/v1/goals", goal)
        return result

    async def strategy_parity(self, strategy_id: str) -> trading.ParityReport:
        result: trading.ParityReport = await self._get(
            trading.ParityReport, f"/v1/strategies/{_segment(strategy_id)}/parity"
        )
        return result

    async def remove_goal(self, goal_id: int) -> trading.GoalInfo:
        response = await self.request("DELETE", f"/v1/goals/{_segment(goal_id)}")
        return trading.GoalInfo.model_validate(response.json())

    # --- stored strategies ---------------------------------------------------------------------------

    async def strategies(
        self,
        *,
        states: Sequence[str] | None = None,
        symbol: str | None = None,
        timeframe: str | None = None,
        limit: int | None = None,
    ) -> list[schemas_strategies.StrategySummary]:
        """Stored strategies, newest first, optionally only some states or one market."""
        result: list[schemas_strategies.StrategySummary] = await self._get(
            list[schemas_strategies.StrategySummary],
            "/v1/strategies",
            state=",".join(states) if states else None,
            symbol=symbol,
            timeframe=timeframe,
            limit=limit,
        )
        return result

    async def strategy(self, strategy_id: str) -> schemas_strategies.StrategyDetail:
        """One stored strategy in full (id or unique prefix); ``NotFound`` when there is none."""
        # the detail runs a backtest over the stored candles: allow it more than the usual timeout
        response = await self.request("GET", f"/v1/strategies/{_segment(strategy_id)}", timeout_s=60.0)
        return schemas_strategies.StrategyDetail.model_validate(response.json())

    async def change_strategy(
        self, strategy_id: str, action: str, *, reason: str | None = None, expect: str | None = None
    ) -> schemas_strategies.StrategySummary:
        """Move a stored strategy: ``action`` is activate, pause, retire or paper; with ``expect``, only
        from that state. An illegal move raises ``UserInputError`` naming the allowed ones."""
        if action not in ("activate", "pause", "retire", "paper"):
            raise errors.UserInputError(
                f"invalid strategy action {action!r}: choose activate, pause, retire or paper"
            )
        body = {key: value for key, value in (("reason", reason), ("expect", expect)) if value}
        result: schemas_strategies.StrategySummary = await self._post(
            schemas_strategies.StrategySummary,
            f"/v1/strategies/{_segment(strategy_id)}/{action}",
            body or None,
        )
        return result

    # --- the event stream --------------------------------------------------------------------------

    async def events(
        self,
        types: Sequence[str] | None = None,
        *,
        last_event_id: int | None = None,
        reconnect: bool = True,
        retry_s: float = 0.25,
        max_retry_s: float = 5.0,
        read_timeout_s: float = 60.0,
        connection_events: bool = False,
    ) -> AsyncIterator[Event]:
        """Live events (optionally only ``types``: areas like "order" or exact types), forever.

        With ``reconnect`` a lost stream (daemon restart, dropped connection, no byte for
        ``read_timeout_s`` while heartbeats should arrive) is re-opened with growing delays, resuming
        after the last event id; ``connection_events`` adds ``ConnectionChanged`` events around it.
        Without ``reconnect``, a lost stream ends the iteration (or raises ``DaemonNotRunning`` when
        the first connection fails).
        """
        from httpx_sse import aconnect_sse

        last = last_event_id
        delay = retry_s
        params = {"types": ",".join(types)} if types else {}
        stream_timeout = httpx.Timeout(self.timeout, read=read_timeout_s)
        connected_once = False
        while True:
            reason: str | None = None
            headers = {"Last-Event-ID": str(last)} if last is not None else {}
            try:
                async with aconnect_sse(
                    self._http, "GET", "/v1/events", params=params, headers=headers, timeout=stream_timeout
                ) as source:
                    if source.response.status_code >= 400:
                        await source.response.aread()
                        raise error_from_response(source.response)
                    delay = retry_s
                    if connection_events and connected_once:
                        yield ConnectionChanged(state="connected")
                    connected_once = True
                    async for message in source.aiter_sse():
                        if not message.data:
                            continue  # a "retry:" line alone
                        if message.id:
                            last = int(message.id)
                        yield parse_event(json.loads(message.data))
                reason = "the daemon ended the stream"
            except httpx.ConnectError:
                if not reconnect:
                    if connected_once:
                        return
                    raise errors.DaemonNotRunning(NOT_RUNNING) from None
                reason = NOT_RUNNING
            except (httpx.TransportError, httpx.StreamError) as exc:
                if not reconnect:
                    return
                reason = f"the stream broke: {type(exc).__name__}"
            if not reconnect:
                return
            if connection_events:
                yield ConnectionChanged(state="disconnected", reason=reason)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_retry_s)


async def daemon_running(socket_path: Path | None = None) -> bool:
    """Whether a daemon answers on the socket."""
    async with DaemonClient(socket_path=socket_path, timeout=2.0) as client:
        try:
            await client.status()
        except errors.DaemonNotRunning:
            return False
        return True
