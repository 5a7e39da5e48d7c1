"""The parity monitor in a daemon trading the strategy store: a stored paper strategy's book is checked
as bars close; when the book drifts from its backtest (here: cash slipped into the book behind the
broker's back, so its next entry is bigger than the backtest's), the monitor raises a critical alert,
pauses the strategy through the life-cycle door and `mt strategy list` says so."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from mastertrade.engine import events
from mastertrade.engine.generator.states import State
from mastertrade.engine.generator.store import NewStrategy, StrategyStore
from mastertrade.engine.signals.genome import parse_genome
from tests.conftest import MT
from tests.generator.test_daemon_trades_stored import daemon_without_source  # noqa: F401 (fixture)
from tests.trading.conftest import TradingEngine
from tests.trading.test_service import BARS, BTC, UP_DOWN


async def test_a_drifting_book_is_alerted_and_paused(
    daemon_without_source: TradingEngine,  # noqa: F811
    mt: MT,
) -> None:
    engine = daemon_without_source
    published: list[Any] = []
    subscription = engine.ctx.bus.subscribe(["risk.breached", "strategy"], name="test")
    store = StrategyStore(engine.ctx.db)
    new = NewStrategy(
        parse_genome(UP_DOWN),
        exchange="fake",
        path=((State.GENERATED, "t"), (State.BACKTESTED, "t"), (State.PASSED, "t"), (State.PAPER, "t")),
    )
    await store.add(new)
    for i, (o, h, low, c) in enumerate(BARS[:6]):
        await engine.bar(BTC, i, o, h, low, c)
    trader = engine.trader
    status = trader.parity.statuses[new.id]
    assert status.identical and not status.diverged and status.same >= 1

    book = trader.account.books[new.id]
    book._ledger.deposit("USDT", 5_000.0)  # a drift the journal never saw: the next entry is bigger
    for i, (o, h, low, c) in enumerate(BARS[6:], start=6):
        await engine.bar(BTC, i, o, h, low, c)
    status = trader.parity.statuses[new.id]
    assert status.diverged and status.paused, status
    assert (await store.get(new.id)).state is State.PAUSED
    while (event := subscription.get_nowait()) is not None:
        published.append(event)
    breached = [e for e in published if isinstance(e, events.RiskBreached) and e.limit == "parity"]
    assert len(breached) == 1 and breached[0].severity == "critical"

    listed = await asyncio.to_thread(mt, "strategy", "list", "--json")
    [row] = json.loads(listed.stdout)
    assert row["state"] == "paused" and row["parity"]["diverged"] is True
    table = await asyncio.to_thread(mt, "strategy", "list")
    assert "DIVERGED" in table.stdout
