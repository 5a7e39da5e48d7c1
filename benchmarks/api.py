"""The daemon's API on its Unix socket, against a real daemon process streaming 20 simulated symbols:

- request round trip (GET /v1/status) p50/p99 on one kept-alive connection (target p99 < 5 ms),
  against the naive client that opens a new connection per request;
- event lag from the venue to an SSE client (the price tick's creation in the market feed to its
  arrival at the client) p50/p99 (target p99 < 20 ms), against polling /v1/status every 100 ms
  (how stale the polled price is when it arrives).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import threading
import time
from datetime import datetime
from pathlib import Path

import httpx

from benchmarks._util import mt_executable, report, scratch_home

SYMBOLS = [f"SYM{n}/USDT" for n in range(20)]
REQUESTS = 2000
EVENT_SECONDS = 8.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def start_daemon(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        MT_HOME=str(home),
        MT_MARKET__VENUE="sim",
        MT_MARKET__SYMBOLS=json.dumps(SYMBOLS),
        MT_MARKET__TIMEFRAME="1h",
        MT_MARKET__SPEED="7200",  # two bars a second per symbol
        MT_MARKET__TICKS_PER_BAR="12",
        MT_COLLECTORS__ENABLED="false",
    )
    subprocess.run([mt_executable(), "daemon", "start"], env=env, check=True, capture_output=True)
    return env


def socket_path(env: dict[str, str]) -> str:
    out = subprocess.run(
        [mt_executable(), "config", "path", "--json"], env=env, check=True, capture_output=True, text=True
    )
    return str(json.loads(out.stdout)["socket"])


def round_trips(path: str) -> tuple[list[float], list[float]]:
    kept: list[float] = []
    with httpx.Client(transport=httpx.HTTPTransport(uds=path), base_url="http://mt") as client:
        for _ in range(100):  # warm up
            client.get("/v1/status")
        for _ in range(REQUESTS):
            start = time.perf_counter()
            client.get("/v1/status").raise_for_status()
            kept.append(time.perf_counter() - start)
    fresh: list[float] = []
    for _ in range(REQUESTS // 4):
        start = time.perf_counter()
        with httpx.Client(transport=httpx.HTTPTransport(uds=path), base_url="http://mt") as client:
            client.get("/v1/status").raise_for_status()
        fresh.append(time.perf_counter() - start)
    return kept, fresh


def event_lags(path: str) -> tuple[list[float], int]:
    lags: list[float] = []
    symbols: set[str] = set()
    from httpx_sse import connect_sse

    deadline = time.monotonic() + EVENT_SECONDS
    timeout = httpx.Timeout(5.0, read=5.0)
    with httpx.Client(
        transport=httpx.HTTPTransport(uds=path), base_url="http://mt", timeout=timeout
    ) as client:
        with connect_sse(client, "GET", "/v1/events", params={"types": "price"}) as source:
            for message in source.iter_sse():
                if not message.data or message.event != "price.tick":
                    continue
                data = json.loads(message.data)
                sent = datetime.fromisoformat(data["at"].replace("Z", "+00:00")).timestamp()
                lags.append(time.time() - sent)
                symbols.add(data["symbol"])
                if time.monotonic() > deadline:
                    break
    return lags, len(symbols)


def polled_staleness(path: str, seconds: float) -> list[float]:
    staleness: list[float] = []
    deadline = time.monotonic() + seconds
    with httpx.Client(transport=httpx.HTTPTransport(uds=path), base_url="http://mt") as client:
        while time.monotonic() < deadline:
            status = client.get("/v1/status").json()
            now = time.time()
            for symbol in status["symbols"]:
                if symbol["price_at"]:
                    at = datetime.fromisoformat(symbol["price_at"].replace("Z", "+00:00")).timestamp()
                    staleness.append(now - at)
            time.sleep(0.1)
    return staleness


def main() -> None:
    with scratch_home() as home:
        env = start_daemon(home)
        try:
            path = socket_path(env)
            time.sleep(1.0)  # let the feed reach its steady state
            kept, fresh = round_trips(path)
            base99 = percentile(fresh, 0.99)
            report(
                "GET /v1/status, new connection each (baseline) p50", statistics.median(fresh) * 1000, "ms"
            )
            report("GET /v1/status, new connection each (baseline) p99", base99 * 1000, "ms")
            report("GET /v1/status, kept-alive connection p50", statistics.median(kept) * 1000, "ms")
            report(
                "GET /v1/status, kept-alive connection p99",
                percentile(kept, 0.99) * 1000,
                "ms",
                target="< 5 ms",
                baseline=base99 * 1000,
            )
            polled: list[float] = []
            poller = threading.Thread(target=lambda: polled.extend(polled_staleness(path, EVENT_SECONDS)))
            poller.start()
            lags, seen = event_lags(path)
            poller.join()
            print(f"{'events received over SSE':<52} {len(lags):>10} ({seen} symbols, {EVENT_SECONDS:g} s)")
            poll99 = percentile(polled, 0.99) * 1000 if polled else 0.0
            if polled:
                report(
                    "price staleness polling /v1/status at 10 Hz p50", statistics.median(polled) * 1000, "ms"
                )
                report("price staleness polling /v1/status at 10 Hz p99 (baseline)", poll99, "ms")
            report("event venue -> SSE client p50", statistics.median(lags) * 1000, "ms")
            report(
                "event venue -> SSE client p99",
                percentile(lags, 0.99) * 1000,
                "ms",
                target="< 20 ms",
                baseline=poll99 or None,
            )
        finally:
            subprocess.run([mt_executable(), "daemon", "stop"], env=env, check=False, capture_output=True)


if __name__ == "__main__":
    main()
