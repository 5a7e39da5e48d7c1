"""A position with no price yet (just after a daemon restart) is valued at cost in `mt positions`, marked
as such, as `mt balance` and the Orders cash line count it: before, `mt balance` said "positions 415.77"
while `mt positions` showed "–" for its value, without a word."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mastertrade.cli import orders
from mastertrade.engine.api.schemas_trading import BalanceInfo, PositionInfo
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


def test_the_unrealised_pnl_is_unknown_while_a_position_has_no_price() -> None:
    """Before: `mt balance` said "unrealised 0.00" (the position at cost against itself) while `mt
    positions` left the cell blank. Unknown, with the position named, until a price arrives."""
    ledger = unpriced_ledger()
    balance = balance_view(ledger, {}, "USDT", [])
    assert balance["unrealised_pnl"] is None
    assert balance["at_cost"] == [BTC]
    assert balance["equity"] == pytest.approx(10_000.0)  # counted at cost: cash + cost (fee included)
    priced = balance_view(ledger, {BTC: 900.0}, "USDT", [])
    assert priced["unrealised_pnl"] == pytest.approx(450.0 - 415.415)
    assert priced["at_cost"] == []
    ledger.deposit("ETH", 0.0)
    ledger.apply(Fill("ETH/USDT", "buy", 1.0, 50.0, fee=0.0, ts=2))
    # one priced, one not: the total is not known either (a part of it is not the unrealised P&L)
    mixed = balance_view(ledger, {BTC: 900.0}, "USDT", [])
    assert mixed["unrealised_pnl"] is None and mixed["at_cost"] == ["ETH/USDT"]


def test_mt_balance_and_mt_positions_both_say_unknown(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    ledger = unpriced_ledger()
    (row,) = positions_view(ledger, {})
    position = PositionInfo.model_validate({**row, "book": "paper"})
    view = BalanceInfo.model_validate(
        {**balance_view(ledger, {}, "USDT", []), "book": "paper", "mode": "paper"}
    )
    monkeypatch.setattr(orders, "with_client", lambda call: view)
    orders.balance(json_out=False)
    err = " ".join(capsys.readouterr().err.split())  # the console wraps at its width
    assert "unrealised unknown (no price yet for BTC/USDT: counted at cost)" in err, err
    assert "unrealised 0.00" not in err
    orders.balance(json_out=True)
    document = json.loads(capsys.readouterr().out)
    assert document["unrealised_pnl"] is None and document["at_cost"] == [BTC]

    monkeypatch.setattr(orders, "with_client", lambda call: [position])
    orders.positions(book=None, json_out=False)
    out = capsys.readouterr()
    (line,) = [text for text in out.out.splitlines() if BTC in text]
    assert "unknown" in line, line
    assert "unrealised P&L is unknown until one arrives" in " ".join(out.err.split())
