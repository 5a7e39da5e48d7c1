"""The collector service: health transitions with events, backoff, timeouts, and that no source,
however broken, can make it raise."""

from __future__ import annotations

import asyncio
import random
import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from mastertrade.engine.collectors.base import Collector, FeaturePoint, get_json
from mastertrade.engine.collectors.events import SourceStateChanged
from mastertrade.engine.collectors.health import SourceState
from mastertrade.engine.collectors.service import CollectorService
from mastertrade.engine.collectors.store import FeatureStore
from mastertrade.engine.kernel.backoff import Backoff
from mastertrade.errors import AuthenticationFailed, VenueUnavailable
from tests.collectors.helpers import NOW, settings


class Clock:
    def __init__(self, start: int = NOW) -> None:
        self.now = start

    def __call__(self) -> int:
        return self.now


class Scripted(Collector):
    """A source whose next polls do what the test says: return points or raise."""

    name = "scripted"
    description = "test source"
    default_interval_s = 60.0
    default_timeout_s = 0.2

    def __init__(self, *outcomes: Any) -> None:
        super().__init__(settings(backoff_s=10, backoff_max_s=100))
        self.outcomes = list(outcomes)
        self.seen: list[str] = []

    async def collect(self, client: httpx.AsyncClient, now: int) -> list[FeaturePoint]:
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        if outcome == "hang":
            await asyncio.sleep(10)
        if outcome == "http":
            return [FeaturePoint("x", float(await get_json(client, "https://api.example/x")), now, now)]
        self.seen.append(f"item{len(self.seen)}")
        return [FeaturePoint("x", float(outcome), now, now)]

    def dump_state(self) -> dict[str, Any]:
        return {"seen": list(self.seen)}

    def load_state(self, state: dict[str, Any]) -> None:
        self.seen = list(state.get("seen", []))


def service(
    database: Any, collector: Collector, clock: Clock, events: list[SourceStateChanged], **kwargs: Any
) -> CollectorService:
    return CollectorService(
        database,
        collector.settings,
        collectors=[collector],
        clock=clock,
        on_event=events.append,
        rng=random.Random(1),
        **kwargs,
    )


async def test_health_goes_ok_stale_ok_with_an_event_at_each_change(database: Any) -> None:
    clock = Clock()
    events: list[SourceStateChanged] = []
    source = Scripted(1.0, VenueUnavailable("HTTP 503 from api.example/x"), VenueUnavailable("timeout"), 2.0)
    svc = service(database, source, clock, events)
    await svc.start()
    health = await svc.poll(source)
    assert health.state is SourceState.OK and health.last_success == NOW and health.failures == 0
    assert health.last_values[0]["value"] == 1.0
    assert events == []  # the first success of a fresh source is no news

    clock.now += 60_000
    health = await svc.poll(source)
    assert health.state is SourceState.STALE and health.reason == "HTTP 503 from api.example/x"
    assert health.since == clock.now and health.failures == 1 and health.last_success == NOW
    assert health.last_values[0]["value"] == 1.0  # the last good value stays visible
    stale_since = clock.now
    clock.now += 20_000
    health = await svc.poll(source)
    assert health.state is SourceState.STALE and health.since == stale_since and health.failures == 2

    clock.now += 40_000
    health = await svc.poll(source)
    assert health.state is SourceState.OK and health.failures == 0 and health.reason is None
    assert [(e.previous, e.state) for e in events] == [("ok", "stale"), ("stale", "ok")]
    assert (
        events[0].reason == "HTTP 503 from api.example/x"
        and events[0].degraded
        and events[0].type == "collector.state"
    )
    assert events[0].message() == "source scripted ok -> stale: HTTP 503 from api.example/x"
    stored = await FeatureStore(database).read("scripted", "x")
    assert stored.values.tolist() == [1.0, 2.0]


async def test_failures_back_off_exponentially_with_jitter_and_obey_retry_after(database: Any) -> None:
    from mastertrade.engine.collectors.base import SourceRateLimited

    clock = Clock()
    source = Scripted(*(VenueUnavailable("down") for _ in range(5)), SourceRateLimited("slow down", 900.0))
    svc = service(database, source, clock, [])
    delays = []
    for _ in range(6):
        health = await svc.poll(source)
        delays.append((health.next_poll or 0) - clock.now)
    base = [10_000, 20_000, 40_000, 80_000, 100_000]  # 10 s doubling, capped at backoff_max_s = 100 s
    for delay, expected in zip(delays, base, strict=False):
        assert 0.75 * expected <= delay <= min(1.25 * expected, 100_000)
    assert delays[5] == 900_000  # the server's Retry-After wins over our cap
    assert len(set(delays[:4])) == 4
    assert Backoff(base_s=1, max_s=8).delay(10) == 8


async def test_a_hanging_source_times_out_and_a_crashing_one_is_an_error(database: Any) -> None:
    clock = Clock()
    events: list[SourceStateChanged] = []
    source = Scripted("hang", KeyError("price"), 3.0)
    svc = service(database, source, clock, events)
    health = await svc.poll(source)
    assert health.state is SourceState.STALE and health.reason == "timed out after 0.2 s"
    health = await svc.poll(source)
    assert health.state is SourceState.ERROR and health.reason == "internal error: KeyError: 'price'"
    health = await svc.poll(source)
    assert health.state is SourceState.OK


async def test_a_refused_key_is_an_error(database: Any) -> None:
    source = Scripted(AuthenticationFailed("HTTP 403 from api.example/x: key missing, wrong or not allowed"))
    health = await service(database, source, Clock(), []).poll(source)
    assert health.state is SourceState.ERROR and health.failures == 1


async def test_state_is_rolled_back_when_a_poll_fails_and_persisted_when_it_succeeds(database: Any) -> None:
    clock = Clock()
    source = Scripted(1.0, 2.0)
    svc = service(database, source, clock, [])
    await svc.poll(source)
    assert source.seen == ["item0"]

    class FailingStore(FeatureStore):
        async def upsert(self, source: str, points: Any, **kwargs: Any) -> int:
            raise OSError("disk full")

    svc.store = FailingStore(database)
    health = await svc.poll(source)
    assert health.state is SourceState.STALE and health.reason == "cannot store values: OSError: disk full"
    assert source.seen == ["item0"]  # not marked seen: the next poll will store it

    restarted = Scripted(5.0)
    again = service(database, restarted, clock, [])
    await again.start()
    assert restarted.seen == ["item0"]  # the state of the last success came back
    assert again.health()[0].state is SourceState.STALE and again.health()[0].failures == 1


async def test_http_failures_of_every_kind_never_escape_the_service(database: Any) -> None:
    answers = iter(
        [
            httpx.Response(503),
            httpx.Response(
                429,
                headers={
                    "Retry-After": format_datetime(datetime.now(UTC) + timedelta(seconds=601), usegmt=True)
                },
            ),
            httpx.Response(200, text="not json"),
            httpx.Response(404),
            httpx.Response(200, json=7),
        ]
    )

    def handler(request: httpx.Request) -> httpx.Response:
        response = next(answers, None)
        if response is None:
            raise httpx.ConnectError("connection refused", request=request)
        return response

    source = Scripted(*["http"] * 6)
    svc = service(database, source, Clock(), [], transport=httpx.MockTransport(handler))
    reasons = [(await svc.poll(source)).reason for _ in range(6)]
    await svc.close()
    assert reasons[0] == "HTTP 503 from api.example/x"
    assert re.fullmatch(r"rate limited by api\.example/x \(retry after (599|600|601) s\)", reasons[1] or "")
    assert reasons[2] == "malformed JSON from api.example/x"
    assert reasons[3] == "HTTP 404 from api.example/x"
    assert reasons[4] is None
    assert reasons[5] == "cannot reach api.example/x: ConnectError"


async def test_the_run_loop_polls_on_schedule_survives_failures_and_stops_on_cancel(database: Any) -> None:
    class Fast(Scripted):
        default_interval_s = 0.01

        calls = 0

        async def collect(self, client: httpx.AsyncClient, now: int) -> list[FeaturePoint]:
            self.calls += 1
            if self.calls % 2:
                raise RuntimeError("flaky")
            return await super().collect(client, now)

    source = Fast(*[1.0] * 100)
    source.settings = settings(backoff_s=0.01, backoff_max_s=0.01)
    events: list[SourceStateChanged] = []
    svc = CollectorService(database, source.settings, collectors=[source], on_event=events.append)
    task = asyncio.create_task(svc.run())
    for _ in range(200):
        await asyncio.sleep(0.01)
        if len(events) >= 4:
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(events) >= 4
    assert {e.state for e in events} == {"error", "ok"}


async def test_disabled_sources_are_recorded_and_never_polled(database: Any) -> None:
    from mastertrade.engine.collectors.glassnode import GlassnodeCollector

    source = GlassnodeCollector(settings())
    transport = httpx.MockTransport(lambda request: pytest.fail("a disabled source must not send requests"))
    svc = CollectorService(database, source.settings, collectors=[source], transport=transport)
    await svc.start()
    assert svc.enabled() == []
    health = await svc.poll(source)
    assert health.state is SourceState.DISABLED and "glassnode_api_key" in (health.reason or "")
    persisted = await FeatureStore(database).load_health()
    assert persisted["glassnode"][0].state is SourceState.DISABLED


class Replaying(Collector):
    """A source that answers each poll with the points the test scripted, in any time order."""

    name = "replaying"
    description = "test source"

    def __init__(self, *batches: list[FeaturePoint]) -> None:
        super().__init__(settings())
        self.batches = list(batches)

    async def collect(self, client: httpx.AsyncClient, now: int) -> list[FeaturePoint]:
        return self.batches.pop(0)


async def test_an_out_of_order_answer_is_stored_but_the_last_value_does_not_step_back(database: Any) -> None:
    day = 86_400_000
    newer = [FeaturePoint("x", 52.0, NOW, NOW), FeaturePoint("y", 1.0, NOW - day, NOW - day)]
    older = [FeaturePoint("x", 40.0, NOW - day, NOW - day), FeaturePoint("y", 2.0, NOW, NOW)]
    collector = Replaying(newer, older)
    runner = service(database, collector, Clock(), [])

    await runner.poll(collector)
    health = await runner.poll(collector)

    assert health.state is SourceState.OK
    assert {item["name"]: (item["value"], item["ts"]) for item in health.last_values} == {
        "x": (52.0, NOW),  # the newest value stays, though the last answer carried an older one
        "y": (2.0, NOW),  # a newer value replaces it
    }
    stored = await FeatureStore(database).read("replaying", "x")
    assert stored.values.tolist() == [40.0, 52.0]  # the older point is stored all the same
