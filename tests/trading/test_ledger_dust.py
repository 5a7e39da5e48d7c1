"""The ledger's round trip at a live sell leaving dust (``dust.py``): a position its last fill leaves under
the least the exchange takes in one order (the fill's ``minimum``) is closed; the remainder's cost goes into
the trip's P&L, and the coins stay held at no cost until the next buy takes them in. Without a minimum (paper,
a sell's earlier fills, a journal from before it was kept) or a hair under it (a float sum), the position
stays open, as before."""

from __future__ import annotations

import pytest

from mastertrade.engine.execution.ledger import Fill, Ledger

BTC = "BTC/USDT"
STEP = 0.00001


def _entered() -> Ledger:
    """0.125 BTC bought at 40,000, its fee taken in BTC: 0.124875 held, at a cost of 5,000 USDT."""
    ledger = Ledger()
    ledger.deposit("USDT", 10_000.0)
    ledger.apply(Fill(BTC, "buy", 0.125, 40_000.0, fee=0.000125, fee_asset="BTC", ts=1))
    assert ledger.open_amount(BTC) == pytest.approx(0.124875)
    return ledger


def test_a_sell_leaving_less_than_the_exchanges_minimum_closes_the_round_trip() -> None:
    ledger = _entered()
    trip = ledger.apply(Fill(BTC, "sell", 0.12487, 40_000.0, ts=2, minimum=STEP))

    assert trip is not None and ledger.round_trips == [trip]
    assert trip.pnl == pytest.approx(0.12487 * 40_000.0 - 5_000.0)  # the dust's cost is the trip's
    position = ledger.positions[BTC]
    assert ledger.held(BTC) == pytest.approx(0.000005) and ledger.open_amount(BTC) == 0.0
    assert position.cost == 0.0 and ledger.open_positions() == []
    assert ledger.equity("USDT", {BTC: 40_000.0}) == pytest.approx(
        ledger.balance("USDT") + 0.000005 * 40_000.0
    )  # still counted in the equity at its price

    ledger.apply(Fill(BTC, "buy", 0.1, 41_000.0, ts=3))  # the next position takes it in, at no cost
    assert ledger.open_amount(BTC) == pytest.approx(0.100005)
    assert ledger.positions[BTC].cost == pytest.approx(4_100.0)
    assert ledger.positions[BTC].opened_ts == 3


@pytest.mark.parametrize(
    ("minimum", "left"),
    [(None, 0.000005), (0.0000049999999999, 0.000005), (STEP, STEP * (1 - 1e-12))],
    ids=["no minimum", "over the minimum", "a hair under it"],
)
def test_a_remainder_not_under_the_minimum_stays_open(minimum: float | None, left: float) -> None:
    ledger = _entered()
    assert ledger.apply(Fill(BTC, "sell", 0.124875 - left, 40_000.0, ts=2, minimum=minimum)) is None
    assert ledger.open_amount(BTC) == pytest.approx(left) and ledger.round_trips == []
