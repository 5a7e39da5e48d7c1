"""The trading service's strategy list (``ContextStrategies``) is read from the store only when a strategy
was stored or moved since the last read, by whichever process; a move still counts from the next closed
candle, and a ``StrategySource`` the daemon provides is asked every time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from mastertrade.engine.execution.strategies import StaticStrategies, StrategySource
from mastertrade.engine.generator.lifecycle import move_strategy
from mastertrade.engine.generator.states import State
from mastertrade.engine.generator.store import NewStrategy, StrategyStore
from mastertrade.engine.services.trading import ContextStrategies
from mastertrade.engine.signals.builtins import builtin
from tests.trading.test_service import strategy

PATH = (
    (State.GENERATED, "generated"),
    (State.BACKTESTED, "walk-forward"),
    (State.PASSED, "thresholds met"),
    (State.PAPER, "chosen"),
)


class Ctx:
    """The two things ``ContextStrategies`` reads of the engine context."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.provided: StrategySource | None = None

    def find(self, kind: type) -> Any:
        assert kind is StrategySource
        return self.provided


async def test_the_stored_list_is_read_again_only_after_a_strategy_was_stored_or_moved(database: Any) -> None:
    reads: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM strategies" in statement and "strategies.state IN" in statement:
            reads.append(statement)  # the traded list (a move reads the strategy by id too)

    event.listen(database.engine.sync_engine, "before_cursor_execute", count)
    try:
        source = ContextStrategies(Ctx(database))  # type: ignore[arg-type]
        assert await source.traded() == []
        # Another process (``mt strategy``, ``mt demo``, the nightly run) writes the same database.
        store = StrategyStore(database)
        sma = await store.add(NewStrategy(builtin("sma_cross", "BTC/USDT", "1h"), exchange="sim", path=PATH))
        assert [(item.id, item.stage) for item in await source.traded()] == [(sma.id, "paper")]
        before = len(reads)
        for _ in range(5):  # candle after candle, nothing changed: no list read
            assert [item.id for item in await source.traded()] == [sma.id]
        assert len(reads) == before

        await move_strategy(store, sma.id, State.ACTIVE, "by hand")
        assert [(item.id, item.stage) for item in await source.traded()] == [(sma.id, "active")]
        await move_strategy(store, sma.id, State.PAUSED, "by hand")
        assert await source.traded() == []
        ema = await store.add(NewStrategy(builtin("ema_cross", "ETH/USDT", "1h"), exchange="sim", path=PATH))
        assert [item.id for item in await source.traded()] == [ema.id]
        assert len(reads) == before + 3
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", count)


async def test_a_provided_source_is_asked_at_every_candle(database: Any) -> None:
    ctx = Ctx(database)
    provided = StaticStrategies()
    ctx.provided = provided
    source = ContextStrategies(ctx)  # type: ignore[arg-type]
    assert await source.traded() == []
    provided.strategies.append(strategy("paper", "one"))
    assert [item.id for item in await source.traded()] == ["one"]
