"""The socket API: the JSON error contract (never a traceback), status, candles, OpenAPI and
metrics through httpx's ASGI transport; then the real Unix socket (permissions, curl, SSE with
filters, heartbeats and resumption), the TCP listener's bearer token, and the client's errors."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import stat
import subprocess
from typing import Any

import httpx
import pytest

from mastertrade.client import DaemonClient
from mastertrade.config import Settings
from mastertrade.engine.api.app import create_app
from mastertrade.engine.candle import Candle
from mastertrade.engine.events import (
    CandleClosed,
    ConnectionChanged,
    Heartbeat,
    OrderFilled,
    PriceTick,
    StreamGap,
)
from mastertrade.errors import DaemonNotRunning, NotFound, UserInputError
from mastertrade.locations import locations
from tests.daemon.conftest import Engine, configure, core_daemon
from tests.daemon.fakes import HOUR, T0, closed_ts, wait_for


@pytest.fixture
def settings(sqlite_settings: Settings) -> Settings:
    return sqlite_settings


def asgi(engine: Engine) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(engine.ctx)), base_url="http://mt")


def fill(n: int) -> OrderFilled:
    return OrderFilled(
        order_id=f"o{n}", client_order_id=f"c{n}", symbol="BTC/USDT", side="buy", amount=1, price=n
    )


async def test_status_reports_services_venue_symbols_and_lag(engine: Engine) -> None:
    engine.venue.bar("BTC/USDT", T0, 100.0, closed=True)
    await wait_for(lambda: closed_ts(engine.ctx, "BTC/USDT") == T0)
    async with asgi(engine) as http:
        response = await http.get("/v1/status")
    assert response.status_code == 200
    body = response.json()
    assert body["mode"] == "paper" and body["venue"] == {
        "id": "fake",
        "kind": "sim",
        "simulated": True,
        "ended": None,
    }
    assert {s["name"]: s["state"] for s in body["services"]} == {
        "alerts": "running",
        "market-feed": "running",
        "scheduler": "running",
    }
    btc = next(s for s in body["symbols"] if s["symbol"] == "BTC/USDT")
    assert btc["last_closed"] == "2026-01-01T00:00:00Z" and btc["price"] == 100.0
    assert body["events"]["published"] >= 2 and "p99_ms" in body["events"]["lag"]
    assert body["started_at"].endswith("Z") and body["uptime_s"] >= 0


async def test_status_says_when_a_replay_has_run_out_of_stored_bars(engine: Engine) -> None:
    engine.venue.ended = "replay ended: every stored csv 1h bar has been served"  # type: ignore[attr-defined]
    async with asgi(engine) as http:
        body = (await http.get("/v1/status")).json()
    assert body["venue"]["ended"] == "replay ended: every stored csv 1h bar has been served"


async def test_status_reports_the_socket_it_is_served_on(engine: Engine) -> None:
    async with asgi(engine) as http:
        first = (await http.get("/v1/status")).json()
        second = (await http.get("/v1/status")).json()
    assert first["socket"] == second["socket"] == str(locations().socket_file)
    assert second["uptime_s"] >= first["uptime_s"]


async def test_health_answers_without_asking_any_service(engine: Engine) -> None:
    async with asgi(engine) as http:
        assert (await http.get("/v1/health")).json() == {"ok": True, "pid": engine.ctx.state.pid}
        engine.ctx.request_stop("test")
        assert (await http.get("/v1/health")).json() == {"ok": False, "pid": engine.ctx.state.pid}


def test_no_route_or_dependency_runs_in_the_thread_pool() -> None:
    """FastAPI runs a plain ``def`` endpoint or dependency in its thread pool: a thread hop per request
    that cost more than the handlers themselves. Every one of ours is a coroutine function."""
    import inspect

    from fastapi.routing import APIRoute

    from mastertrade.engine.api.app import ROUTERS

    def calls(dependant: Any) -> list[Any]:
        found = [dependant.call] if dependant.call is not None else []
        for sub in dependant.dependencies:
            found += calls(sub)
        return found

    routes = [route for router in ROUTERS for route in router.routes if isinstance(route, APIRoute)]
    assert len(routes) > 30
    blocking = [
        f"{route.path}: {call.__qualname__}"
        for route in routes
        for call in calls(route.dependant)
        if not inspect.iscoroutinefunction(call)
    ]
    assert blocking == []


async def test_candles_endpoint_returns_the_newest_stored_bars(engine: Engine) -> None:
    for n in range(5):
        engine.venue.bar("ETH/USDT", T0 + n * HOUR, 10.0 + n, closed=True)
    await wait_for(lambda: closed_ts(engine.ctx, "ETH/USDT") == T0 + 4 * HOUR)
    client = engine.client()
    candles = await client.candles("ETH/USDT", limit=3)
    assert [c.close for c in candles.candles] == [12.0, 13.0, 14.0]
    assert candles.candles[-1].ts == T0 + 4 * HOUR and candles.simulated
    with pytest.raises(NotFound, match="no candles stored for fake:DOGE/USDT:1h"):
        await client.candles("DOGE/USDT")
    await client.aclose()


async def test_indicators_are_the_engines_lines_over_the_stored_bars(engine: Engine) -> None:
    for n in range(6):
        engine.venue.bar("ETH/USDT", T0 + n * HOUR, 10.0 + n, closed=True)
    await wait_for(lambda: closed_ts(engine.ctx, "ETH/USDT") == T0 + 5 * HOUR)
    client = engine.client()
    answer = await client.indicators(
        "ETH/USDT", ["sma(length=3)", "bbands(length=3, std=2.0).upper"], limit=4
    )
    assert answer.ts == [T0 + n * HOUR for n in range(2, 6)]
    sma, upper = answer.lines
    assert sma.spec == "sma(length=3)" and sma.values == pytest.approx([11.0, 12.0, 13.0, 14.0])
    spread = (2 / 3) ** 0.5  # population deviation of three consecutive closes
    assert upper.values == pytest.approx(
        [11.0 + 2 * spread, 12.0 + 2 * spread, 13 + 2 * spread, 14 + 2 * spread]
    )
    warm = await client.indicators("ETH/USDT", ["sma(length=3)"], limit=6)
    assert warm.lines[0].values[:2] == [None, None]  # warming up: no value yet, not a made-up one
    with pytest.raises(UserInputError, match="unknown indicator 'smaa'"):
        await client.indicators("ETH/USDT", ["smaa(length=3)"])
    with pytest.raises(UserInputError, match="invalid line 'sma length'"):
        await client.indicators("ETH/USDT", ["sma length"])
    with pytest.raises(NotFound, match="no candles stored for fake:DOGE/USDT:1h"):
        await client.indicators("DOGE/USDT", ["sma(length=3)"])
    await client.aclose()


HUGE = "9" * 20


@pytest.mark.parametrize(
    ("method", "path", "content", "status", "code", "message"),
    [
        ("GET", "/v1/nothing-here", None, 404, "not_found", "no such endpoint: GET /v1/nothing-here"),
        ("GET", "/v1/daemon/stop", None, 405, "method_not_allowed", "method GET is not allowed"),
        ("GET", "/v1/candles", None, 422, "invalid_request", "query parameter 'symbol' is required"),
        ("GET", "/v1/candles?symbol=X&limit=lots", None, 422, "invalid_request", "'limit'"),
        ("GET", "/v1/strategies?limit=1001", None, 422, "invalid_request", "less than or equal to 1000"),
        ("GET", "/v1/candles?symbol=X&timeframe=7x", None, 400, "user_input_error", "invalid timeframe '7x'"),
        # a second spelling of 1h would read (or, for a rule, watch) a series of another name
        ("GET", "/v1/strategies?timeframe=7x", None, 400, "user_input_error", "invalid timeframe '7x'"),
        ("GET", "/v1/strategies?timeframe=60m", None, 400, "user_input_error", "60m: write it as 1h"),
        ("GET", "/v1/candles?symbol=X&timeframe=60m", None, 400, "user_input_error", "60m: write it as 1h"),
        (
            "POST",
            "/v1/alerts/rules",
            b'{"kind": "signal", "when": {"<": [{"feature": "fear_greed"}, 20]}, "timeframe": "01h"}',
            422,
            "invalid_request",
            "timeframe 01h: write it as 1h",
        ),
        # epoch milliseconds past any date the database can hold: named, not a 500 (OverflowError)
        (
            "GET",
            f"/v1/candles?symbol=X&since={HUGE}",
            None,
            400,
            "user_input_error",
            f"invalid since '{HUGE}'",
        ),
        (
            "GET",
            f"/v1/candles?symbol=X&until={HUGE}",
            None,
            400,
            "user_input_error",
            f"invalid until '{HUGE}'",
        ),
        ("GET", f"/v1/features/x?since={HUGE}", None, 400, "user_input_error", "past the year 9999"),
        ("POST", "/v1/alerts/rules", b'{"kind": "price_cross",', 400, "malformed_json", "not valid JSON"),
        (
            "POST",
            "/v1/alerts/rules",
            b'{"kind": "price_cross", "colour": 1}',
            422,
            "invalid_request",
            "colour",
        ),
        ("POST", "/v1/alerts/rules", b'{"kind": "nope"}', 400, "user_input_error", "unknown alert rule kind"),
        ("POST", "/v1/alerts/rules", b"[1, 2]", 422, "invalid_request", "body"),
        ("DELETE", "/v1/alerts/rules/0", None, 422, "invalid_request", "rule_id"),
        ("GET", "/v1/events?types=nonsense", None, 400, "user_input_error", "unknown event type 'nonsense'"),
        ("POST", "/v1/jobs/nope/run", None, 404, "not_found", "no job 'nope'"),
    ],
)
async def test_bad_requests_get_json_errors(
    engine: Engine, method: str, path: str, content: bytes | None, status: int, code: str, message: str
) -> None:
    async with asgi(engine) as http:
        response = await http.request(
            method, path, content=content, headers={"content-type": "application/json"} if content else {}
        )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    assert message in body["error"]["message"]


async def test_an_exception_in_a_handler_is_a_500_json_error_without_traceback(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("internal detail that must not leak")

    monkeypatch.setattr(engine.ctx.candles, "info", broken)
    async with asgi(engine) as http:
        response = await http.get("/v1/candles", params={"symbol": "BTC/USDT"})
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal_error", "message": "internal error (RuntimeError); see the daemon log"}
    }
    assert "Traceback" in caplog.text and "internal detail" in caplog.text  # in the log, not the response
    async with asgi(engine) as http:
        assert (await http.get("/v1/status")).status_code == 200  # and the API goes on


async def test_openapi_documents_every_route_and_the_error_shape(engine: Engine) -> None:
    async with asgi(engine) as http:
        document = (await http.get("/openapi.json")).json()
    paths = set(document["paths"])
    assert {
        "/v1/status",
        "/v1/candles",
        "/v1/jobs",
        "/v1/jobs/{name}/run",
        "/v1/alerts",
        "/v1/alerts/test",
        "/v1/alerts/rules",
        "/v1/events",
        "/v1/daemon/stop",
        "/v1/health",
    } <= paths
    assert "ErrorBody" in document["components"]["schemas"]
    assert "StatusReport" in document["components"]["schemas"]


async def test_metrics_expose_latency_event_lag_orders_and_services(engine: Engine) -> None:
    engine.ctx.bus.publish(fill(1))
    async with asgi(engine) as http:
        await http.get("/v1/status")
        await http.get("/v1/nothing")
        text = (await http.get("/metrics")).text
    assert 'mt_api_request_seconds_count{method="GET",route="/v1/status"} 1.0' in text
    assert 'mt_api_errors_total{status="404"} 1.0' in text
    assert 'mt_orders_total{event="filled"} 1.0' in text
    assert "mt_event_lag_seconds_bucket" in text
    assert 'mt_service_up{service="market-feed"} 1.0' in text
    assert "mt_uptime_seconds" in text


# --- the real Unix socket ---------------------------------------------------------------------


async def test_the_socket_is_private_and_answers_curl(served: Engine) -> None:
    path = locations().socket_file
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    process = await asyncio.create_subprocess_exec(
        "curl", "-s", "--unix-socket", str(path), "http://mt/v1/status", stdout=subprocess.PIPE
    )
    out, _ = await process.communicate()
    assert json.loads(out)["venue"]["id"] == "fake"


EVENTS_S = 30.0
"""How long a test waits for the events it expects on the stream: it returns once they came, so only a
broken stream waits this long (it was 5 s, which a loaded machine could outlast)."""


async def collect(client: DaemonClient, count: int, **options: Any) -> list[Any]:
    got = []
    async for event in client.events(**options):
        got.append(event)
        if len(got) == count:
            break
    return got


async def test_sse_delivers_filtered_events_in_order(served: Engine) -> None:
    async with DaemonClient() as client:
        reader = asyncio.create_task(collect(client, 3, types=["order", "candle.closed"], reconnect=False))
        await wait_for(lambda: sum(s.name == "sse" for s in served.ctx.bus.subscriptions) == 1)
        served.venue.bar("BTC/USDT", T0, 100.0)  # a tick: filtered out
        served.ctx.bus.publish(fill(1))
        served.venue.bar("BTC/USDT", T0, 101.0, closed=True)
        await wait_for(lambda: closed_ts(served.ctx, "BTC/USDT") == T0)
        served.ctx.bus.publish(fill(2))
        events = await asyncio.wait_for(reader, EVENTS_S)
    assert [type(e) for e in events] == [OrderFilled, CandleClosed, OrderFilled]
    assert isinstance(events[1], CandleClosed) and events[1].close == 101.0 and events[1].ts == T0


async def test_sse_sends_heartbeats_when_idle(settings: Settings) -> None:
    settings = configure(api={"heartbeat_s": 0.1})
    daemon = core_daemon(settings)
    await daemon.start()
    try:
        async with DaemonClient() as client:
            await wait_for(lambda: locations().socket_file.exists())
            events = await asyncio.wait_for(collect(client, 2, types=["order"]), EVENTS_S)
        assert all(isinstance(e, Heartbeat) for e in events)
    finally:
        await daemon.stop()


async def test_sse_resumes_after_the_last_event_id_or_reports_a_gap(served: Engine) -> None:
    bus = served.ctx.bus
    first = bus.publish(fill(1))
    bus.publish(fill(2))
    bus.publish(PriceTick(venue="fake", symbol="X", timeframe="1h", candle=Candle(0, 1, 1, 1, 1, 1)))
    bus.publish(fill(3))
    async with DaemonClient() as client:
        resumed = await asyncio.wait_for(collect(client, 2, types=["order"], last_event_id=first), EVENTS_S)
        assert [e.order_id for e in resumed if isinstance(e, OrderFilled)] == ["o2", "o3"]
        for n in range(bus._history.maxlen or 0):
            bus.publish(fill(n))
        gap = await asyncio.wait_for(collect(client, 1, types=["order"], last_event_id=first), EVENTS_S)
        assert isinstance(gap[0], StreamGap)


async def test_the_client_reconnects_to_a_restarted_daemon(settings: Settings) -> None:
    first = core_daemon(settings)
    ctx = await first.start()
    await wait_for(lambda: locations().socket_file.exists())
    received: list[Any] = []

    async def read() -> None:
        async with DaemonClient() as client:
            async for event in client.events(["order"], retry_s=0.05, connection_events=True):
                received.append(event)
                if isinstance(event, OrderFilled) and event.order_id == "o2":
                    return

    reader = asyncio.create_task(read())
    await wait_for(lambda: any(s.name == "sse" for s in ctx.bus.subscriptions))
    ctx.bus.publish(fill(1))
    await wait_for(lambda: received)
    await first.stop()
    second = core_daemon(settings)
    ctx = await second.start()
    try:
        await wait_for(lambda: any(s.name == "sse" for s in ctx.bus.subscriptions), timeout=10)
        ctx.bus.publish(fill(2))
        await asyncio.wait_for(reader, EVENTS_S)
    finally:
        await second.stop()
    kinds = [(type(e).__name__, getattr(e, "state", None)) for e in received]
    assert kinds[0] == ("OrderFilled", None) and kinds[-1] == ("OrderFilled", None)
    assert ("ConnectionChanged", "disconnected") in kinds and ("ConnectionChanged", "connected") in kinds
    assert isinstance(received[1], ConnectionChanged)


async def test_stop_through_the_api(served: Engine) -> None:
    async with DaemonClient() as client:
        answer = await client.stop_daemon()
    assert answer.stopping and served.ctx.stopping.is_set()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_the_tcp_listener_requires_the_bearer_token(settings: Settings) -> None:
    port = free_port()
    settings = configure(api={"tcp_port": port})
    daemon = core_daemon(settings)
    ctx = await daemon.start()
    try:
        await wait_for(lambda: ctx.state.services["api-tcp"].state == "running")
        from mastertrade.engine.api.auth import read_token, token_file

        token = read_token(settings)
        assert token and stat.S_IMODE(token_file().stat().st_mode) == 0o600
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base) as http:
            for _ in range(100):
                try:
                    response = await http.get("/v1/status")
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.02)
            assert response.status_code == 401
            assert response.json()["error"]["code"] == "unauthorized"
            wrong = await http.get("/v1/status", headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401
            # Prometheus scrapes /metrics over TCP with the token (no trading service here: mt_trading_up 0)
            assert (await http.get("/metrics")).status_code == 401
            scraped = await http.get("/metrics", headers={"Authorization": f"Bearer {token}"})
            assert scraped.status_code == 200 and 'mt_trading_up{mode="off"} 0.0' in scraped.text
        async with DaemonClient(base_url=base, token=token) as client:
            assert (await client.status()).tcp_port == port
        async with DaemonClient(base_url=base, token="wrong") as client:
            from mastertrade.errors import AuthenticationFailed

            with pytest.raises(AuthenticationFailed, match="bearer token"):
                await client.status()
        assert token not in locations().log_file.read_text() if locations().log_file.exists() else True
    finally:
        await daemon.stop()


async def test_no_daemon_means_daemon_not_running(mt_home: Any) -> None:
    path = locations().socket_file
    async with DaemonClient() as client:
        with pytest.raises(DaemonNotRunning, match="start it with `mt daemon start`"):
            await client.status()
    # A socket file left by a crash: nothing listens on it.
    path.parent.mkdir(parents=True, exist_ok=True)
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))
    stale.close()
    async with DaemonClient() as client:
        with pytest.raises(DaemonNotRunning):
            await client.status()
        with pytest.raises(DaemonNotRunning):
            async for _ in client.events(reconnect=False):
                pass


async def test_api_errors_become_the_matching_exceptions(engine: Engine) -> None:
    client = engine.client()
    with pytest.raises(UserInputError, match="unknown alert rule kind 'nope'"):
        await client.add_alert_rule("nope")
    with pytest.raises(NotFound):
        await client.job_runs("nope")
    await client.aclose()
