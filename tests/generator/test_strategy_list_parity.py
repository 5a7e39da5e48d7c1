"""`mt strategy list` asks the parity monitor's store only about strategies that can have a paper book:
it asked once per stored strategy, a query each, and after a few nightly runs on PostgreSQL (3,700
strategies, nearly all failed) a listing took 31 s, 25 of them in those queries."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mastertrade.engine.generator.states import State
from mastertrade.engine.generator.store import NewStrategy, StrategyStore
from mastertrade.engine.signals.builtins import builtin
from tests.conftest import MT

GENERATED = (State.GENERATED, "test")
PATH = {
    State.FAILED: (GENERATED, (State.BACKTESTED, "test"), (State.FAILED, "test")),
    State.PASSED: (GENERATED, (State.BACKTESTED, "test"), (State.PASSED, "test")),
}


def test_list_reads_parity_only_for_strategies_that_may_have_a_paper_book(
    mt: MT, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mastertrade.config import load_settings
    from mastertrade.db.database import Database
    from mastertrade.engine.execution.parity_monitor import book_id
    from mastertrade.engine.risk.store import RiskStore

    genome = builtin("sma_cross", "BTC/USDT", "1h")
    variants = [genome.model_copy(update={"stop_loss": 0.01 * (i + 1)}) for i in range(8)]
    status = {"diverged": False, "identical": True, "same": 3, "mismatched": 0}

    async def setup() -> list[str]:
        db = await Database.open(load_settings())
        try:
            store = StrategyStore(db)
            states = [State.FAILED] * 5 + [State.PASSED] * 3
            stored = await store.add_many(
                NewStrategy(g, path=PATH[state]) for g, state in zip(variants, states, strict=True)
            )
            paper, retired = stored[5], stored[6]
            await store.transition(paper.id, State.PAPER, "test")
            await store.transition(retired.id, State.PAPER, "test")
            await store.transition(retired.id, State.RETIRED, "test")
            for strategy in (paper, retired):
                await RiskStore(db).save_snapshot("parity", book_id(strategy.id), status)
            return [paper.id, retired.id]
        finally:
            await db.close()

    booked = asyncio.run(setup())
    asked: list[str] = []
    latest = RiskStore.latest_snapshot

    async def counted(self: RiskStore, kind: str, book: str) -> Any:
        asked.append(book)
        return await latest(self, kind, book)

    monkeypatch.setattr(RiskStore, "latest_snapshot", counted)
    listed = {row["id"]: row for row in mt.json("strategy", "list")}
    assert len(listed) == 8
    assert sorted(asked) == sorted(book_id(ident) for ident in booked)  # not the 6 never traded
    assert all(listed[ident]["parity"] == status for ident in booked)
    assert [row["parity"] for ident, row in listed.items() if ident not in booked] == [None] * 6
