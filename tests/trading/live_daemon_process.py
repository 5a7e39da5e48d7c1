"""Live trading daemons as their own processes, for the kill -9 tests (``test_live_kill.py``).

``python -m tests.trading.live_daemon_process`` is a **zygote**: it imports the daemon's modules once,
then forks one process per daemon run on request, so each run starts in a fraction of a second instead
of paying the imports again (a forked child shares them). Each child is a real, separate process: the
test kills it with SIGKILL by its pid, and the zygote reaps it, so its pid is dead for the next daemon's
lock takeover. Commands on stdin, one JSON object per line; answers on stdout, one line each:

- ``{"spawn": MODE, "n": N, "env": {...}}`` -> ``child PID``, then ``ready PID`` once that daemon trades
  (or ``failed PID`` when it could not start);
- ``{"reap": PID}`` -> ``reaped PID CODE`` once the child has ended (``CODE`` -9 for SIGKILL).

A child runs the real ``Daemon`` (trading service, live broker, socket API) in live mode on the settings
of its environment (``MT_*``: the test's home and database, ``mode = "live"``, the fake exchange's desk
as its exchange) and a feed whose one price it pushes itself (40,000 for BTC/USDT).

MODE ``journal``: a fault injected into the daemon's send path: every order's intent is journaled as
usual, then its send waits forever; when the N-th intent is committed the process kills itself with
SIGKILL, so N orders die between the journal and the send. Any other MODE runs the daemon unchanged.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import traceback

import mastertrade.engine.api.app
import mastertrade.engine.daemon
import mastertrade.engine.execution.live
import mastertrade.engine.execution.trader
import mastertrade.engine.services  # noqa: F401 - warm: the children share these imports
from tests.daemon.fakes import FakeVenue, RecordingNotifier

BTC = "BTC/USDT"
T0 = 1_767_225_600_000


async def run(mode: str, n: int) -> None:
    from mastertrade.config import load_settings
    from mastertrade.engine.candle import Candle
    from mastertrade.engine.daemon import Daemon
    from mastertrade.engine.execution.broker import require_live
    from mastertrade.engine.execution.live import LiveBroker
    from mastertrade.engine.execution.trader import Trader
    from mastertrade.engine.market.venue import CandleUpdate

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
    consent = require_live("live", True)
    daemon = Daemon(settings, venue=venue, notifier=RecordingNotifier(), components=(consent,))
    ctx = await daemon.start()
    try:
        venue.push(CandleUpdate(BTC, "1h", Candle(T0, 40_000, 40_000, 40_000, 40_000, 1.0), False))
        while True:
            trader = ctx.find(Trader)
            if trader is not None and trader.account.last.get(BTC) is not None:
                break
            await asyncio.sleep(0.01)
        print(f"ready {os.getpid()}", flush=True)
        await ctx.stopping.wait()
    finally:
        await daemon.stop()


def child(command: dict[str, object]) -> None:
    """The forked daemon: its own environment, its own event loop; never returns to the zygote."""
    code = 0
    try:
        os.environ.update({str(k): str(v) for k, v in dict(command["env"]).items()})  # type: ignore[call-overload]
        asyncio.run(run(str(command["spawn"]), int(command["n"])))  # type: ignore[call-overload]
    except BaseException:  # noqa: BLE001 - reported to the test, then the child ends
        traceback.print_exc()
        print(f"failed {os.getpid()}", flush=True)
        code = 1
    finally:
        os._exit(code)


def main() -> None:
    print("warm", flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        if "spawn" in command:
            pid = os.fork()
            if pid == 0:
                child(command)
            print(f"child {pid}", flush=True)
        elif "reap" in command:
            pid = int(command["reap"])
            _, status = os.waitpid(pid, 0)
            print(f"reaped {pid} {os.waitstatus_to_exitcode(status)}", flush=True)


if __name__ == "__main__":
    main()
