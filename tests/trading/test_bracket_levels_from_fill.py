"""A bracket's exits take their levels from the entry's fill, as the backtest's stops do (rule 5): the
paper broker set them from the close the entry was decided on (its reference price), so when the next
bar opened away from that close (any real market; the simulator never gaps) a strategy's paper book
stopped out at other prices than its backtest, and a manual bracket with slippage sat off its fill."""

from __future__ import annotations

import numpy as np
import pytest

from mastertrade.engine.backtest.fast import run_fast
from mastertrade.engine.execution.paper import PaperBroker
from mastertrade.engine.execution.parity import backtest_trades, compare, paper_replay
from mastertrade.engine.market.sim import simulate
from mastertrade.engine.orders import OrderRequest, Side
from tests.trading.test_paper import PARAMS, SYMBOL, T0, H, bar, open_journal


@pytest.mark.parametrize("case", range(len(PARAMS)))
async def test_paper_trades_match_the_backtest_when_the_market_gaps(db_url: str, case: int) -> None:
    params = PARAMS[case]
    frame = simulate(SYMBOL, "1h", 400, seed=11 + case)
    rng = np.random.default_rng(100 + case)
    frame["open"] = frame["open"] * (1 + rng.normal(0, 0.004, len(frame)))  # opens away from the close
    frame["high"] = frame[["open", "high"]].max(axis=1)
    frame["low"] = frame[["open", "low"]].min(axis=1)
    entries = rng.random(len(frame)) < 0.1
    exits = rng.random(len(frame)) < 0.06
    expected = run_fast(frame, entries, exits, params, cash=10_000.0, fee=0.001)
    db, journal = await open_journal()
    try:
        _, trades = await paper_replay(
            journal, f"gaps-{case}", SYMBOL, frame, entries, exits, params, cash=10_000.0, fee=0.001
        )
        assert len(expected.trade_list()) >= 5
        report = compare(backtest_trades(expected), trades)
        assert report.identical, report.as_dict()
    finally:
        await db.close()


async def test_a_manual_brackets_levels_are_from_its_fill(db_url: str) -> None:
    db, journal = await open_journal()
    try:
        broker = PaperBroker(journal, "paper", fee=0.001, slippage=0.001, starting_cash=10_000.0)
        await broker.start()
        await broker.on_bar(SYMBOL, bar(0, 100, 101, 99, 100))
        entry = await broker.submit(
            OrderRequest(SYMBOL, Side.BUY, amount=10, reference_price=100, stop_loss=0.05, take_profit=0.1),
            placed_ts=T0 + H,
        )
        out = await broker.on_bar(SYMBOL, bar(1, 102, 102, 102, 102, closed=False))
        (fill,) = out.fills
        assert fill.price == pytest.approx(102 * 1.001)
        exits = {row.role: row for row in await journal.orders(book="paper") if row.parent_id == entry.id}
        assert exits["stop_loss"].stop_price == pytest.approx(fill.price * 0.95)
        assert exits["take_profit"].price == pytest.approx(fill.price * 1.1)
        assert f"filled at {fill.price:.8g}" in (exits["stop_loss"].reason or "")
        # what the broker works with is what it journaled
        working = {row.role: row for row in broker.working(SYMBOL)}
        assert working["take_profit"].price == pytest.approx(fill.price * 1.1)
    finally:
        await db.close()
