"""The one door for moving a strategy (``generator.lifecycle.move_strategy``): compare-and-set, events;
and ``mt strategy`` going through a running daemon (which publishes the move) instead of the database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from mastertrade.engine import events
from mastertrade.engine.generator.lifecycle import action_target, move_strategy
from mastertrade.engine.generator.states import State
from mastertrade.engine.generator.store import IllegalTransition, NewStrategy, StrategyStore
from mastertrade.engine.signals.builtins import builtin
from mastertrade.errors import UserInputError
from tests.conftest import MT
from tests.trading.conftest import ThreadedTrading, trading_settings

PASSED_PATH = ((State.GENERATED, "generated"), (State.BACKTESTED, "scored"), (State.PASSED, "passed"))


def passed(name: str = "sma_cross") -> NewStrategy:
    return NewStrategy(builtin(name, "BTC/USDT", "1h"), exchange="sim", path=PASSED_PATH)


async def test_a_move_publishes_and_is_refused_from_a_state_nobody_saw(database: Any) -> None:
    store = StrategyStore(database)
    stored = await store.add(passed())
    seen: list[events.Event] = []
    move = await move_strategy(store, stored.id[:6], State.PAPER, "by hand", publish=seen.append)
    assert move.as_dict() == {
        "id": stored.id,
        "name": stored.name,
        "from": "passed",
        "to": "paper",
        "reason": "by hand",
    }
    [promoted] = seen
    assert isinstance(promoted, events.StrategyPromoted)
    assert (promoted.stage_from, promoted.stage_to, promoted.reason) == ("passed", "paper", "by hand")
    # the caller saw it passed; it is paper by now: the move is refused, nothing changes or is published
    with pytest.raises(IllegalTransition, match="is paper, not passed"):
        await move_strategy(store, stored.id, State.ACTIVE, "late", expect=State.PASSED, publish=seen.append)
    assert (await store.get(stored.id)).state is State.PAPER and len(seen) == 1
    await move_strategy(store, stored.id, State.PAUSED, "quiet", publish=seen.append)
    assert len(seen) == 1  # a pause is no promotion nor retirement
    await move_strategy(store, stored.id, State.RETIRED, "done", publish=seen.append)
    assert isinstance(seen[-1], events.StrategyRetired) and seen[-1].reason == "done"


def test_actions_name_their_states() -> None:
    assert [action_target(a) for a in ("activate", "pause", "retire", "paper")] == [
        State.ACTIVE,
        State.PAUSED,
        State.RETIRED,
        State.PAPER,
    ]
    with pytest.raises(UserInputError, match="'promote'"):
        action_target("promote")


@pytest.fixture
def daemon(db_url: str) -> Iterator[ThreadedTrading]:
    threaded = ThreadedTrading(trading_settings()).start()
    try:
        yield threaded
    finally:
        threaded.stop()


def test_mt_strategy_moves_through_the_running_daemon(mt: MT, daemon: ThreadedTrading) -> None:
    assert daemon.ctx is not None and daemon.loop is not None
    ctx, loop = daemon.ctx, daemon.loop
    stored = asyncio.run_coroutine_threadsafe(StrategyStore(ctx.db).add(passed("ema_cross")), loop).result(10)
    subscription = asyncio.run_coroutine_threadsafe(_subscribe(ctx), loop).result(10)

    moved = mt.json("strategy", "paper", stored.id, "--reason", "try it")
    assert moved == {"id": stored.id, "from": "passed", "to": "paper", "reason": "try it"}
    event = asyncio.run_coroutine_threadsafe(subscription.get(wait_s=10), loop).result(15)
    assert isinstance(event, events.StrategyPromoted) and event.strategy_id == stored.id
    assert event.reason == "try it"
    again = mt("strategy", "retire", stored.id[:8])
    assert again.exit_code == 0 and again.stdout.endswith(": paper -> retired\n")
    refused = mt("strategy", "activate", stored.id)
    assert refused.exit_code == 2 and "retired is final" in refused.stderr


async def _subscribe(ctx: Any) -> Any:
    return ctx.bus.subscribe({"strategy"}, name="test")
