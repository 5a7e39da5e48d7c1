"""The daemon's API on its Unix socket, against a real daemon process streaming 20 simulated symbols
(two bars a second per symbol, 12 ticks each: 480 price ticks a second) with a few open positions,
measured once every symbol streams:

- request round trips on one kept-alive connection (the CLI's and the TUI's client, httpx), p50/p99 of
  ``GET /v1/status`` and ``GET /v1/positions`` (target p99 < 5 ms) against ``GET /v1/health`` (the
  baseline: the same socket, loop, HTTP stack and client, and no work), interleaved request by request
  so that all three meet the same load;
- event lag from the venue to an SSE client (the price tick's creation in the market feed to its
  arrival at the client), p50/p99 (target p99 < 10 ms), against polling ``/v1/status`` at 10 Hz (how
  stale the polled price is when it arrives) measured at the same time;
- the daemon's CPU share and the machine's load average, because on a loaded machine every figure
  here (the baseline's too) grows: compare the endpoints with the baseline of the same run.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import httpx

from benchmarks._util import mt_executable, scratch_home

SYMBOLS = [f"SYM{n}/USDT" for n in range(20)]
ROUNDS = 1500  # of (health, status, positions)
EVENT_SECONDS = 8.0
POSITIONS = 5
STEADY_TIMEOUT_S = 180.0


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


def connect(path: str, **options: object) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(uds=path), base_url="http://mt", **options)  # type: ignore[arg-type]


def wait_until_streaming(client: httpx.Client) -> float:
    """Seconds until every symbol has a price (the simulated venue first generates each symbol's
    history up to now, off the event loop)."""
    started = time.monotonic()
    while time.monotonic() - started < STEADY_TIMEOUT_S:
        symbols = client.get("/v1/status").json()["symbols"]
        if all(symbol["price"] for symbol in symbols):
            return time.monotonic() - started
        time.sleep(0.25)
    raise SystemExit(f"the feed did not stream every symbol within {STEADY_TIMEOUT_S:g} s")


def open_positions(client: httpx.Client) -> int:
    """Buy about 50 USDT of the first few symbols (paper), so /v1/positions has rows to show."""
    prices = {item["symbol"]: item["price"] for item in client.get("/v1/status").json()["symbols"]}
    for symbol in SYMBOLS[:POSITIONS]:
        body = {"symbol": symbol, "side": "buy", "amount": 50.0 / prices[symbol]}
        client.post("/v1/orders", json=body).raise_for_status()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        held = len(client.get("/v1/positions").json())
        if held >= POSITIONS:
            return held
        time.sleep(0.1)
    return len(client.get("/v1/positions").json())


def round_trips(client: httpx.Client, paths: list[str]) -> dict[str, list[float]]:
    for _ in range(100):  # warm up
        for path in paths:
            client.get(path)
    times: dict[str, list[float]] = {path: [] for path in paths}
    clock = time.perf_counter
    for _ in range(ROUNDS):
        for path in paths:
            start = clock()
            client.get(path).raise_for_status()
            times[path].append(clock() - start)
    return times


def event_lags(path: str) -> tuple[list[float], int]:
    from httpx_sse import connect_sse

    lags: list[float] = []
    symbols: set[str] = set()
    deadline = time.monotonic() + EVENT_SECONDS
    with connect(path, timeout=httpx.Timeout(5.0, read=5.0)) as client:
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
    with connect(path) as client:
        while time.monotonic() < deadline:
            status = client.get("/v1/status").json()
            now = time.time()
            for symbol in status["symbols"]:
                if symbol["price_at"]:
                    at = datetime.fromisoformat(symbol["price_at"].replace("Z", "+00:00")).timestamp()
                    staleness.append(now - at)
            time.sleep(0.1)
    return staleness


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured[T](pid: int, work: Callable[[], T]) -> tuple[T, float]:
    """``work()``'s result and the daemon's CPU share (of one core) while it ran."""
    cpu, wall = cpu_seconds(pid), time.monotonic()
    result = work()
    return result, (cpu_seconds(pid) - cpu) / (time.monotonic() - wall)


def line(name: str, p50: float, p99: float, note: str = "", target: str = "") -> None:
    goal = f"  [target p99 {target}]" if target else ""
    print(f"{name:<44} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms{note}{goal}", flush=True)


def main() -> None:
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    with scratch_home() as home:
        env = start_daemon(home)
        try:
            path = socket_path(env)
            pid = int((home / "run" / "daemon.pid").read_text())
            with connect(path) as client:
                print(f"{'every symbol streaming after':<44} {wait_until_streaming(client):7.1f} s")
                print(f"{'open positions':<44} {open_positions(client):7d}")
                paths = ["/v1/health", "/v1/status", "/v1/positions"]
                times, share = measured(pid, lambda: round_trips(client, paths))
            ms = {path: [t * 1000 for t in values] for path, values in times.items()}
            base = (statistics.median(ms["/v1/health"]), percentile(ms["/v1/health"], 0.99))
            print(f"kept-alive round trips, {ROUNDS} each, interleaved (daemon CPU {share:.0%} of a core):")
            line("GET /v1/health (baseline)", *base)
            for name in ("/v1/status", "/v1/positions"):
                p50, p99 = statistics.median(ms[name]), percentile(ms[name], 0.99)
                note = f"  ({p50 / base[0]:.2f}x / {p99 / base[1]:.2f}x the baseline's)"
                line(f"GET {name}", p50, p99, note, "< 5 ms")

            polled: list[float] = []
            poller = threading.Thread(target=lambda: polled.extend(polled_staleness(path, EVENT_SECONDS)))
            poller.start()
            (lags, seen), share = measured(pid, lambda: event_lags(path))
            poller.join()
            print(
                f"SSE price ticks: {len(lags)} from {seen} symbols in {EVENT_SECONDS:g} s"
                f" (daemon CPU {share:.0%} of a core):"
            )
            lag_ms = [lag * 1000 for lag in lags]
            polled_ms = [value * 1000 for value in polled]
            stale = (statistics.median(polled_ms), percentile(polled_ms, 0.99))
            line("price staleness polling /v1/status at 10 Hz", *stale)
            p50, p99 = statistics.median(lag_ms), percentile(lag_ms, 0.99)
            note = f"  (p99 {stale[1] / p99:.0f}x fresher than polling)"
            line("event venue -> SSE client", p50, p99, note, "< 10 ms")
        finally:
            subprocess.run([mt_executable(), "daemon", "stop"], env=env, check=False, capture_output=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
