"""Prometheus metrics at ``/metrics``: API latency and errors, event-bus traffic and lag, services,
orders and alerts, and the trading figures (``trading_metrics.py``).

The engine's own numbers (bus, services, uptime) are read when Prometheus scrapes, by a custom
collector over ``ctx`` — nothing on the publishing path pays for metrics. Each daemon has its own
registry, so several engines in one process (tests) never collide.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mastertrade.engine.api.trading_metrics import TradingCollector

if TYPE_CHECKING:
    from mastertrade.engine.kernel.context import EngineContext

_LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)
_ORDER_EVENTS = ("order.placed", "order.filled", "order.cancelled", "order.rejected")


class EngineCollector(Collector):
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[Metric]:
        ctx = self.ctx
        stats = ctx.bus.stats
        published = CounterMetricFamily("mt_events_published", "Events published on the bus", labels=["type"])
        for kind, count in sorted(stats.published.items()):
            published.add_metric([kind], count)
        yield published
        dropped = CounterMetricFamily(
            "mt_events_dropped",
            "Events dropped for slow subscribers (never orders or fills)",
            labels=["type"],
        )
        for kind, count in sorted(stats.dropped.items()):
            dropped.add_metric([kind], count)
        yield dropped
        yield CounterMetricFamily(
            "mt_events_coalesced",
            "Queued events replaced by a newer one (price ticks)",
            value=stats.coalesced,
        )
        yield CounterMetricFamily(
            "mt_event_subscriber_overflows",
            "Subscribers cut off for falling too far behind",
            value=stats.overflows,
        )
        depth = max((subscription.depth for subscription in ctx.bus.subscriptions), default=0)
        yield GaugeMetricFamily("mt_event_queue_depth", "Deepest subscriber queue now", value=depth)
        lag = stats.lag
        cumulative, buckets = 0, []
        for bound, count in zip([*lag.buckets, float("inf")], lag.counts, strict=True):
            cumulative += count
            buckets.append(("+Inf" if bound == float("inf") else repr(bound), cumulative))
        histogram = HistogramMetricFamily("mt_event_lag_seconds", "Time from publish to delivery of an event")
        histogram.add_metric([], buckets, lag.total_s)
        yield histogram
        orders = CounterMetricFamily(
            "mt_orders", "Order events (placed, filled, cancelled, rejected)", labels=["event"]
        )
        for kind in _ORDER_EVENTS:
            orders.add_metric([kind.split(".")[1]], stats.published.get(kind, 0))
        yield orders
        yield CounterMetricFamily("mt_alerts", "Alerts raised", value=stats.published.get("alert.raised", 0))
        up = GaugeMetricFamily("mt_service_up", "1 when the service is running", labels=["service"])
        restarts = CounterMetricFamily("mt_service_restarts", "Restarts after a crash", labels=["service"])
        for name, status in sorted(ctx.state.services.items()):
            up.add_metric([name], 1.0 if status.state == "running" else 0.0)
            restarts.add_metric([name], status.restarts)
        yield up
        yield restarts
        yield GaugeMetricFamily(
            "mt_uptime_seconds", "Seconds since the daemon started", value=ctx.state.uptime_s
        )


class ApiMetrics:
    """One registry per daemon: request latency and errors, plus the engine collector."""

    def __init__(self, ctx: EngineContext) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.latency = Histogram(
            "mt_api_request_seconds",
            "API request time to the response headers",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter("mt_api_errors", "API error responses", ["status"], registry=self.registry)
        self.registry.register(EngineCollector(ctx))
        self.ctx = ctx
        self.trading = TradingCollector()
        self.registry.register(self.trading)

    async def refresh(self) -> None:
        """Read the trading figures for this scrape (``trading_metrics.py``)."""
        from mastertrade.engine.execution.account import Account
        from mastertrade.engine.execution.goals_desk import GoalsDesk

        await self.trading.refresh(self.ctx.find(Account), self.ctx.find(GoalsDesk))

    def render(self) -> bytes:
        from prometheus_client import generate_latest

        return generate_latest(self.registry)


class MetricsMiddleware:
    """Times each request to its response headers (an event stream counts until it opens)."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                route = scope.get("route")
                path = getattr(route, "path", "unmatched")
                self.metrics.latency.labels(scope["method"], path).observe(time.perf_counter() - started)
                if message["status"] >= 400:
                    self.metrics.errors.labels(str(message["status"])).inc()
            await send(message)

        await self.app(scope, receive, timed_send)
