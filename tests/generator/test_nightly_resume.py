"""A night cut short: the nightly run stores each series' run as it is searched and moves the passers to
paper once every series is done. A daemon killed (or stopped, restarted by a deploy) in between left
those passers passed for good: the next night papered its own runs only, and running the job again
searched anew (what was stored is skipped). The next night now puts them on paper first."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd

from mastertrade.engine.generator.nightly import nightly
from mastertrade.engine.generator.pipeline import GenerationRequest
from mastertrade.engine.generator.states import State
from mastertrade.engine.generator.store import StrategyStore
from mastertrade.engine.generator.universe import generate_universe
from tests.generator.helpers import LENIENT, settings_with, store_candles


async def test_the_passers_of_a_night_cut_short_go_on_paper_the_next_night(
    sqlite_db: Any, frame: pd.DataFrame
) -> None:
    from mastertrade.config import MarketSettings

    await store_candles(sqlite_db, frame)
    settings = settings_with(**LENIENT, count=20, population=16, generations=2, paper_per_run=2).model_copy(
        update={"market": MarketSettings(symbols=["BTC/USDT"], timeframe="1h")}
    )
    # the night that was cut short: its run stored, the daemon gone before the move to paper
    request = GenerationRequest(symbol="BTC/USDT", timeframe="1h", exchange="sim", trigger="nightly")
    _, [outcome] = await generate_universe(sqlite_db, settings, request, [("BTC/USDT", "1h")], seed=7)
    assert outcome.summary is not None
    cut_short = outcome.summary
    assert len(cut_short.passed) >= 2
    store = StrategyStore(sqlite_db)
    assert await store.list(states=[State.PAPER]) == []

    report = await nightly(sqlite_db, settings, exchange="sim", now=datetime(2025, 1, 3, 3, tzinfo=UTC))
    best = sorted(cut_short.passed, key=lambda s: -(s.deflated_sharpe or 0.0))
    on_paper = {s.id for s in await store.list(states=[State.PAPER])}
    assert {s.id for s in best[:2]} <= on_paper  # they stayed passed
    resumed = report["resumed"]
    assert [item["id"] for item in resumed] == [s.id for s in best[:2]]
    assert all(item["reason"].startswith(f"generation run {cut_short.run_id}: ") for item in resumed)

    # once moved, a later night leaves that run alone (its other passers stay passed, as a night's would)
    again = await nightly(sqlite_db, settings, exchange="sim", now=datetime(2025, 1, 4, 3, tzinfo=UTC))
    assert again["resumed"] == []
