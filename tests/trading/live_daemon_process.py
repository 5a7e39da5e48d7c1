"""A live trading daemon as its own process, for the kill -9 tests (``test_live_kill.py``).

``python -m tests.trading.live_daemon_process MODE N`` runs the real ``Daemon`` (trading service, live
broker, socket API) in live mode on the settings of its environment (``MT_*``: the test's home and
database, ``mode = "live"``, the fake exchange's desk as its exchange) and a feed whose one price the
process pushes itself (40,000 for BTC/USDT). It prints "ready" once it trades, then serves until it is
stopped or killed.

MODE ``journal``: a fault injected into the daemon's send path: every order's intent is journaled as
usual, then its send waits forever; when the N-th intent is committed the process kills itself with
SIGKILL, so N orders die between the journal and the send. Any other MODE runs the daemon unchanged.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

BTC = "BTC/USDT"
T0 = 1_767_225_600_000


async def main(mode: str, n: int) -> None:
    from mastertrade.config import load_settings
    from mastertrade.engine.daemon import Daemon
    from mastertrade.engine.execution.broker import require_live
    from mastertrade.engine.execution.live import LiveBroker
    from mastertrade.engine.execution.trader import Trader
    from mastertrade.engine.market.venue import CandleUpdate
    from tests.daemon.fakes import FakeVenue, RecordingNotifier

    if mode == "journal":
        journaled = 0
        never = asyncio.Event()

        async def journaled_then_killed(self: LiveBroker, order_id: int) -> object:
            nonlocal journaled
            journaled += 1  # the intent is committed (create_order returned before this task started)
            if journaled >= n:
                os.kill(os.getpid(), signal.SIGKILL)
            await never.wait()
            return None

        LiveBroker._send_alone = journaled_then_killed  # type: ignore[method-assign, assignment]

    settings = load_settings()
    venue = FakeVenue("binance", simulated=False)
    daemon = Daemon(
        settings, venue=venue, notifier=RecordingNotifier(), components=(require_live("live", True),)
    )
    ctx = await daemon.start()
    try:
        venue.push(CandleUpdate(BTC, "1h", T0, 40_000, 40_000, 40_000, 40_000, 1.0, False))
        while True:
            trader = ctx.find(Trader)
            if trader is not None and trader.account.last.get(BTC) is not None:
                break
            await asyncio.sleep(0.01)
        print("ready", flush=True)
        await ctx.stopping.wait()
    finally:
        await daemon.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
