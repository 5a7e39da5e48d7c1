"""Dashboard responsiveness under a 200-events-per-second feed (20 symbols), and its memory over time.

The app runs headless at 160x48 on the Market screen (watchlist, chart: the busiest screen) against the
fake daemon of the tests, fed 200 price ticks a second in bursts of ten every 50 ms. Measured:

- event loop lag: how late a 10 ms timer fires (what a key press waits before it is handled);
- tick-to-paint latency: from the first tick the screen has not shown to the end of the paint (the
  compositor's update) that shows it;
- frames (paints) and redraws (widget updates) per second, their times, and the share of a core the
  UI spends on them;
- memory: RSS, live Python objects and the traced heap after warm-up and each minute after.

The naive baseline is the same app without coalescing (every event posted at once, and messages never
replacing each other: one redraw per tick), run for a shorter time in the same process.

    python -m benchmarks.tui                  # 10 minutes, then a 1-minute baseline
    python -m benchmarks.tui --minutes 1 --baseline-seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks._util import report

RATE = 200  # events per second
BURST = 10  # events per burst
SYMBOLS = 20
SIZE = (160, 48)


@dataclass
class Probe:
    """What one run measured."""

    lags: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    redraw_times: list[float] = field(default_factory=list)
    frame_times: list[float] = field(default_factory=list)
    layout_times: list[float] = field(default_factory=list)
    pending_since: float | None = None  # the first tick the screen has not drawn yet
    drawn_since: float | None = None  # ... drawn into widgets, not yet painted
    sent: int = 0
    rate: float = 0.0  # events fed per second
    redraws_per_s: float = 0.0
    frames_per_s: float = 0.0
    ui_share: float = 0.0  # of one core: redraws, layouts and paints
    backlog: int = 0  # events still unread when the run ended
    memory: list[tuple[float, float, int, float]] = field(
        default_factory=list
    )  # (minute, rss MB, objects, heap MB)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def memory_point(minute: float) -> tuple[float, float, int, float]:
    """RSS, live (GC-tracked) objects and the traced heap less this benchmark's own measurement lists."""
    gc.collect()
    heap = float("nan")
    if tracemalloc.is_tracing():
        snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, __file__)])
        heap = sum(stat.size for stat in snapshot.statistics("filename")) / 2**20
        if minute > 0 and _first_snapshot:
            growth = snapshot.compare_to(_first_snapshot[0], "lineno")[:3]
            for stat in growth:
                print(f"   heap growth at {minute:.1f} min: {stat}")
        else:
            _first_snapshot[:] = [snapshot]
    return (minute, rss_mb(), len(gc.get_objects()), heap)


_first_snapshot: list[tracemalloc.Snapshot] = []


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@contextmanager
def without_coalescing() -> Iterator[None]:
    """The baseline: messages never replace queued ones (so every tick costs a redraw)."""
    from mastertrade.tui.messages import StateChanged

    original = StateChanged.can_replace
    StateChanged.can_replace = lambda self, message: False  # type: ignore[method-assign]
    try:
        yield
    finally:
        StateChanged.can_replace = original  # type: ignore[method-assign]


async def run(seconds: float, *, coalesce: bool, checkpoints_s: float = 60.0) -> Probe:
    from mastertrade.tui.app import MasterTradeApp
    from mastertrade.tui.screens.market import MarketScreen
    from tests.tui.fakes import FakeBackend, TickSource, symbols

    names = symbols(SYMBOLS)
    backend = FakeBackend(symbols=names)
    source = TickSource(names)
    probe = Probe()

    class Measured(MasterTradeApp):
        def _changed(self, topics: set[Any]) -> None:
            if "prices" in topics and probe.pending_since is None:
                probe.pending_since = time.perf_counter()
            super()._changed(topics)

    app = Measured(
        backend,
        flush_s=0.1 if coalesce else 0.0,
        # the account and risk polls of a real session, every 2 s and 15 s
        feed_options={"poll_s": 2.0, "slow_poll_s": 15.0},
    )

    async def produce() -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        burst = 0
        while True:
            for _ in range(BURST):
                backend.push(source.next(names[probe.sent % SYMBOLS], time.time()))
                probe.sent += 1
            burst += 1
            await asyncio.sleep(max(0.0, start + burst * BURST / RATE - loop.time()))

    async def lag_probe() -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.01)
            probe.lags.append(time.perf_counter() - started - 0.01)

    async with app.run_test(size=SIZE) as pilot:
        while not (app.state.connected and app.state.tickers and app.state.risk.value is not None):
            await pilot.pause(0.05)
        await pilot.press("2")
        await pilot.pause(0.2)
        screen = app.screen
        assert isinstance(screen, MarketScreen)
        original = screen.redraw

        def timed_redraw(topics: set[Any]) -> None:
            started = time.perf_counter()
            original(topics)
            probe.redraw_times.append(time.perf_counter() - started)
            if "prices" in topics and probe.pending_since is not None:
                if probe.drawn_since is None:
                    probe.drawn_since = probe.pending_since
                probe.pending_since = None

        paint = screen._compositor_refresh
        layout = screen._refresh_layout

        def timed_paint() -> None:
            started = time.perf_counter()
            paint()
            done = time.perf_counter()
            probe.frame_times.append(done - started)
            if probe.drawn_since is not None:
                probe.latencies.append(done - probe.drawn_since)
                probe.drawn_since = None

        def timed_layout(*args: Any, **kwargs: Any) -> None:
            started = time.perf_counter()
            layout(*args, **kwargs)
            probe.layout_times.append(time.perf_counter() - started)

        screen.redraw = timed_redraw  # type: ignore[method-assign]
        screen._compositor_refresh = timed_paint  # type: ignore[method-assign]
        screen._refresh_layout = timed_layout  # type: ignore[method-assign]
        tasks = [asyncio.create_task(produce()), asyncio.create_task(lag_probe())]
        await asyncio.sleep(5.0)  # warm-up: caches, first chart, the first polls
        for values in (
            probe.lags,
            probe.latencies,
            probe.redraw_times,
            probe.frame_times,
            probe.layout_times,
        ):
            values.clear()
        sent_at_start = probe.sent
        probe.memory.append(memory_point(0.0))
        started = time.perf_counter()
        next_point = checkpoints_s
        while (elapsed := time.perf_counter() - started) < seconds:
            await asyncio.sleep(min(1.0, seconds - elapsed))
            if time.perf_counter() - started >= next_point:
                probe.memory.append(memory_point(next_point / 60))
                next_point += checkpoints_s
        if probe.memory[-1][0] < seconds / 60:
            probe.memory.append(memory_point(seconds / 60))
        probe.sent -= sent_at_start
        for task in tasks:
            task.cancel()
        probe.redraws_per_s = len(probe.redraw_times) / seconds
        probe.frames_per_s = len(probe.frame_times) / seconds
        probe.ui_share = sum(probe.redraw_times + probe.frame_times + probe.layout_times) / seconds
        probe.rate = probe.sent / seconds
        probe.backlog = backend.queue.qsize()
    return probe


def show(name: str, probe: Probe, baseline: Probe | None = None) -> None:
    def ms(which: str, share: float, of: Probe | None) -> float | None:
        return None if of is None else percentile(getattr(of, which), share) * 1000

    print(f"-- {name}: {probe.rate:.0f} events/s fed, {probe.backlog} left unread at the end")
    for label, which, share, target in (
        ("event loop lag p50", "lags", 0.5, ""),
        ("event loop lag p99", "lags", 0.99, "< 50 ms"),
        ("tick-to-paint latency p50", "latencies", 0.5, ""),
        ("tick-to-paint latency p99", "latencies", 0.99, "< 250 ms"),
        ("frame (paint) time p50", "frame_times", 0.5, ""),
        ("frame (paint) time p99", "frame_times", 0.99, ""),
        ("redraw (widget update) time p99", "redraw_times", 0.99, ""),
    ):
        value = ms(which, share, probe)
        assert value is not None
        report(f"{name}: {label}", value, "ms", target=target, baseline=ms(which, share, baseline))
    report(f"{name}: redraws per second", probe.redraws_per_s, "/s")
    report(f"{name}: frames per second", probe.frames_per_s, "/s")
    ui_base = baseline.ui_share * 100 if baseline else None
    report(f"{name}: UI work, share of a core", probe.ui_share * 100, "%", baseline=ui_base)
    for minute, rss, objects, heap in probe.memory:
        heap_text = f", traced heap {heap:.1f} MB" if heap == heap else ""
        print(f"   memory at {minute:5.1f} min: RSS {rss:.1f} MB, {objects:,} live objects{heap_text}")
    first, last = probe.memory[0], probe.memory[-1]
    print(
        f"   growth over {last[0] - first[0]:.1f} min: RSS {last[1] - first[1]:+.1f} MB, "
        f"{last[2] - first[2]:+,} objects"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.tui", description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the measured run (default 10)")
    parser.add_argument(
        "--baseline-seconds", type=float, default=60.0, help="length of the naive baseline run"
    )
    parser.add_argument("--tracemalloc", action="store_true", help="also trace the Python heap (slower)")
    args, _ = parser.parse_known_args(argv)
    if args.tracemalloc:
        tracemalloc.start()
    print(f"dashboard under {RATE} events/s across {SYMBOLS} symbols, {SIZE[0]}x{SIZE[1]}, Market screen")
    coalesced = asyncio.run(run(args.minutes * 60, coalesce=True))
    with without_coalescing():
        naive = asyncio.run(run(args.baseline_seconds, coalesce=False, checkpoints_s=args.baseline_seconds))
    show("naive (one redraw per event)", naive)
    show("coalesced (flush every 100 ms)", coalesced, naive)


if __name__ == "__main__":
    main()
