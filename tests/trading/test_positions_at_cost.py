"""A position with no price yet (just after a daemon restart) is valued at cost in `mt positions`, marked
as such, as `mt balance` and the Orders cash line count it: before, `mt balance` said "positions 415.77"
while `mt positions` showed "–" for its value, without a word."""

from __future__ import annotations

from typing import Any

import pytest

from mastertrade.cli import orders
from mastertrade.engine.api.schemas_trading import PositionInfo
from mastertrade.engine.execution.ledger import Fill, Ledger
from mastertrade.engine.execution.portfolio import balance_view, positions_view
from tests.trading.test_cli import BTC


def unpriced_ledger() -> Ledger:
    ledger = Ledger()
    ledger.deposit("USDT", 10_000.0)
    ledger.apply(Fill(BTC, "buy", 0.5, 830.0, fee=0.415, ts=1))
    return ledger


def test_a_position_without_a_price_is_valued_at_cost_as_the_balance_counts_it() -> None:
    ledger = unpriced_ledger()
    (row,) = positions_view(ledger, {})
    balance = balance_view(ledger, {}, "USDT", [])
    assert row["mark"] is None
    assert row["value_at_cost"] is True
    assert row["value"] == pytest.approx(balance["positions_value"])
    assert row["value"] == pytest.approx(0.5 * 830.0 + 0.415)
    (priced,) = positions_view(ledger, {BTC: 900.0})
    assert priced["value_at_cost"] is False and priced["value"] == pytest.approx(450.0)


def test_mt_positions_says_the_value_is_at_cost(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    (row,) = positions_view(unpriced_ledger(), {})
    info = PositionInfo.model_validate({**row, "book": "paper"})
    monkeypatch.setattr(orders, "with_client", lambda call: [info])
    orders.positions(book=None, json_out=False)
    out = capsys.readouterr()
    assert f"{info.value:,.2f} at cost, no price yet" in out.out, out.out
    orders.positions(book=None, json_out=True)
    assert '"value_at_cost": true' in capsys.readouterr().out
