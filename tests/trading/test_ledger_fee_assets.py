"""P&L and holdings when fees are paid in a third asset (BNB): counted at the price the broker had when
it booked the fill, or kept apart by asset and named when it had none; and BNB the book holds as a
position is spent by them, so the position never holds coins the exchange no longer has."""

from __future__ import annotations

import pytest

from mastertrade.engine.execution.fees import trade_fees
from mastertrade.engine.execution.ledger import Fill, Ledger
from mastertrade.engine.execution.portfolio import balance_view

BTC = "BTC/USDT"
BNB = "BNB/USDT"


def _trip(fee_quote: float | None) -> Ledger:
    ledger = Ledger()
    ledger.deposit("USDT", 1_000.0)
    ledger.deposit("BNB", 1.0)  # deposited, not bought: no position, no price of its own
    ledger.apply(Fill(BTC, "buy", 1.0, 100.0, fee=0.002, fee_asset="BNB", ts=1, fee_quote=fee_quote))
    ledger.apply(Fill(BTC, "sell", 1.0, 110.0, fee=0.002, fee_asset="BNB", ts=2, fee_quote=fee_quote))
    return ledger


def test_a_bnb_fee_with_a_price_is_part_of_the_trade_s_cost_and_p_and_l() -> None:
    ledger = _trip(fee_quote=1.0)  # 0.002 BNB at 500 USDT
    [trip] = ledger.round_trips
    assert trip.pnl == pytest.approx(10.0 - 2.0)  # was 10: the BNB fees left out of it
    assert trip.cost == pytest.approx(101.0) and not trip.unpriced_fees
    assert ledger.positions[BTC].fees == pytest.approx(2.0)
    assert ledger.balance("BNB") == pytest.approx(1.0 - 0.004)
    assert ledger.unpriced_fees() == {}


def test_a_bnb_fee_without_a_price_is_named_not_added_to_usdt() -> None:
    ledger = _trip(fee_quote=None)
    [trip] = ledger.round_trips
    assert trip.pnl == pytest.approx(10.0)
    assert trip.unpriced_fees == pytest.approx({"BNB": 0.004})
    assert trip.as_dict()["unpriced_fees"] == pytest.approx({"BNB": 0.004})
    assert ledger.unpriced_fees() == pytest.approx({"BNB": 0.004})
    view = balance_view(ledger, {}, "USDT", [])
    assert view["realised_pnl"] == pytest.approx(10.0)
    assert view["unpriced_fees"] == pytest.approx({"BNB": 0.004})


def test_bnb_held_as_a_position_is_spent_by_fees_and_the_p_and_l_adds_up_to_the_equity() -> None:
    ledger = Ledger()
    ledger.deposit("USDT", 10_000.0)
    ledger.apply(Fill(BNB, "buy", 1.0, 300.0, fee=0.3, fee_asset="USDT", ts=1))
    ledger.apply(Fill(BTC, "buy", 1.0, 100.0, fee=0.01, fee_asset="BNB", ts=2, fee_quote=3.5))  # BNB at 350
    held = ledger.positions[BNB]
    assert held.amount == pytest.approx(0.99) == ledger.balance("BNB")  # was 1.0: coins no longer there
    assert held.cost == pytest.approx(300.3 * 0.99)
    assert held.realised == pytest.approx(3.5 - 3.003)  # spent at 350 what cost 300.3
    assert ledger.positions[BTC].cost == pytest.approx(103.5)
    marks = {BNB: 350.0, BTC: 100.0}
    view = balance_view(ledger, marks, "USDT", [])
    assert view["equity"] - 10_000.0 == pytest.approx(view["realised_pnl"] + view["unrealised_pnl"])


def test_held_bnb_pays_a_fee_at_its_cost_when_there_is_no_price() -> None:
    ledger = Ledger()
    ledger.deposit("USDT", 10_000.0)
    ledger.apply(Fill(BNB, "buy", 1.0, 300.0, fee=0.0, fee_asset="USDT", ts=1))
    ledger.apply(Fill(BTC, "buy", 1.0, 100.0, fee=0.01, fee_asset="BNB", ts=2))
    assert ledger.positions[BNB].amount == pytest.approx(0.99)
    assert ledger.positions[BTC].cost == pytest.approx(103.0)  # 0.01 BNB at the 300 it cost
    assert ledger.positions[BNB].realised == pytest.approx(0.0)
    assert ledger.unpriced_fees() == {}


def test_a_trade_charged_in_two_assets_keeps_both() -> None:
    """ccxt lists every fee of a trade in ``fees`` (its ``fee`` is then empty): none is dropped."""
    two = {"fee": None, "fees": [{"cost": 0.5, "currency": "USDT"}, {"cost": 0.001, "currency": "BNB"}]}
    assert trade_fees(two, "USDT") == {"USDT": 0.5, "BNB": 0.001}
    assert trade_fees({"fee": {"cost": 0.1, "currency": None}}, "USDT") == {"USDT": 0.1}
    assert trade_fees({"fee": {"cost": None, "currency": "BNB"}}, "USDT") == {}  # no cost given: none known
    ledger = Ledger()
    ledger.deposit("USDT", 1_000.0)
    ledger.deposit("BNB", 1.0)
    ledger.apply(
        Fill(BTC, "buy", 1.0, 100.0, fee=0.5, fee_asset="USDT", more_fees={"BNB": 0.001}, fee_quote=1.0, ts=1)
    )
    assert ledger.balance("USDT") == pytest.approx(1_000.0 - 100.5)
    assert ledger.balance("BNB") == pytest.approx(0.999)
    assert ledger.positions[BTC].cost == pytest.approx(101.0)  # 0.5 USDT + 0.001 BNB worth 0.5
