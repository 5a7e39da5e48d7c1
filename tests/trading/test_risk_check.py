"""The pre-trade check: nothing it approves breaks a limit (property test), and each rule says why."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from mastertrade.config import RiskSettings
from mastertrade.engine.risk.check import (
    Controls,
    Holding,
    PortfolioSnapshot,
    ProposedOrder,
    Reason,
    Verdict,
    check_order,
)

SYMBOLS = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT", "ADA/USDT", "DOT/USDT", "LTC/USDT"]
money = st.floats(min_value=0.0, max_value=1e7, allow_nan=False, allow_infinity=False)
price = st.floats(min_value=1e-4, max_value=1e5, allow_nan=False, allow_infinity=False)
fraction = st.floats(min_value=0.01, max_value=1.0)


@st.composite
def portfolios(draw: st.DrawFn) -> PortfolioSnapshot:
    held = draw(st.lists(st.sampled_from(SYMBOLS), unique=True, max_size=6))
    holdings = {}
    for symbol in held:
        amount = draw(st.floats(min_value=0.0, max_value=1e4))
        holdings[symbol] = Holding(
            amount, draw(price), draw(st.floats(min_value=0.0, max_value=1.0)) * amount
        )
    buys = draw(st.lists(st.sampled_from(SYMBOLS), unique=True, max_size=3))
    open_buys = {symbol: draw(st.floats(min_value=0.0, max_value=1e5)) for symbol in buys}
    cash = draw(money)
    equity = cash + math.fsum(h.value for h in holdings.values())
    peak = draw(st.one_of(st.none(), st.floats(min_value=0.0, max_value=2.0).map(lambda k: equity * k)))
    day = draw(st.one_of(st.none(), st.floats(min_value=0.0, max_value=2.0).map(lambda k: equity * k)))
    return PortfolioSnapshot(cash, holdings, open_buys, peak, day)


limits_strategy = st.builds(
    RiskSettings,
    max_position=fraction,
    max_exposure=fraction,
    max_open_positions=st.integers(min_value=1, max_value=8),
    min_notional=st.floats(min_value=0.0, max_value=1000.0),
    daily_loss_limit=fraction,
    max_drawdown=st.floats(min_value=0.01, max_value=0.99),
    resize=st.booleans(),
)
orders = st.builds(
    ProposedOrder,
    symbol=st.sampled_from(SYMBOLS),
    side=st.sampled_from(["buy", "sell"]),
    amount=st.floats(min_value=1e-8, max_value=1e5),
    price=price,
    fee=st.sampled_from([0.0, 0.001, 0.0075]),
)
controls = st.builds(
    Controls,
    halted=st.booleans(),
    tripped=st.lists(st.tuples(st.sampled_from(["price_move", "stale_data"]), st.just("test")), max_size=1),
)


@settings(max_examples=300, deadline=None)
@given(order=orders, portfolio=portfolios(), limits=limits_strategy, ctl=controls)
def test_nothing_approved_breaks_a_limit(
    order: ProposedOrder, portfolio: PortfolioSnapshot, limits: RiskSettings, ctl: Controls
) -> None:
    decision = check_order(order, portfolio, limits, ctl)
    if decision.verdict is Verdict.REJECT:
        assert decision.amount == 0
        assert decision.findings and all(f.message for f in decision.findings)  # a reason, always
        return
    amount = decision.amount
    assert 0 < amount <= order.amount
    if decision.verdict is Verdict.RESIZE:
        assert amount < order.amount and decision.findings
    else:
        assert amount == order.amount
    if order.side == "sell":
        holding = portfolio.holdings[order.symbol]
        assert amount <= holding.amount - holding.reserved
        return
    # An approved entry: every control off and every limit kept after the fill, checked the plain way.
    equity = portfolio.equity
    value = amount * order.price
    assert not ctl.halted and not ctl.tripped
    assert equity > 0
    if portfolio.peak_equity:
        assert (portfolio.peak_equity - equity) / portfolio.peak_equity < limits.max_drawdown
    if portfolio.day_start_equity:
        assert (portfolio.day_start_equity - equity) / portfolio.day_start_equity < limits.daily_loss_limit
    held_value = portfolio.holdings[order.symbol].value if order.symbol in portfolio.holdings else 0.0
    assert held_value + portfolio.open_buys.get(order.symbol, 0.0) + value <= limits.max_position * equity
    assert portfolio.exposure + value <= limits.max_exposure * equity
    assert value * (1 + order.fee) <= portfolio.cash - portfolio.reserved_cash
    assert value >= limits.min_notional
    opened = {
        s
        for s in (*portfolio.holdings, *portfolio.open_buys)
        if (s in portfolio.holdings and portfolio.holdings[s].amount > 0) or portfolio.open_buys.get(s, 0) > 0
    }
    if order.symbol not in opened:  # a new position: there must be room for one more
        assert len(opened) + 1 <= limits.max_open_positions


LIMITS = RiskSettings(max_position=0.2, max_exposure=0.8, max_open_positions=3, min_notional=10, resize=True)
FLAT = PortfolioSnapshot(cash=10_000.0, peak_equity=10_000.0, day_start_equity=10_000.0)


def buy(amount: float, price: float = 100.0, symbol: str = "BTC/USDT") -> ProposedOrder:
    return ProposedOrder(symbol, "buy", amount, price, 0.001)


def test_within_limits_is_approved_unchanged() -> None:
    decision = check_order(buy(10), FLAT, LIMITS)  # 1,000 = 10% of equity
    assert decision.verdict is Verdict.APPROVE and decision.amount == 10


def test_a_position_above_20_percent_is_resized_to_the_limit() -> None:
    decision = check_order(buy(50), FLAT, LIMITS)
    assert decision.verdict is Verdict.RESIZE
    assert decision.codes == [Reason.MAX_POSITION.value]
    assert math.isclose(decision.amount * 100, 2_000, rel_tol=1e-12)
    assert decision.amount * 100 <= 2_000


def test_without_resize_it_is_rejected_with_the_reason() -> None:
    decision = check_order(buy(50), FLAT, RiskSettings(resize=False))
    assert decision.verdict is Verdict.REJECT
    assert decision.codes == [Reason.MAX_POSITION.value]
    assert "position limit of 20.00%" in decision.reason


def test_exposure_limit() -> None:
    held = {s: Holding(10, 190) for s in ("ETH/USDT", "SOL/USDT", "XRP/USDT", "ADA/USDT")}  # 7,600
    portfolio = PortfolioSnapshot(cash=2_400, holdings=held)
    limits = RiskSettings(max_open_positions=10, resize=False)
    decision = check_order(buy(5), portfolio, limits)  # 500 more: exposure 8,100 > 8,000
    assert decision.codes == [Reason.MAX_EXPOSURE.value]


def test_too_many_open_positions() -> None:
    held = {s: Holding(1, 100) for s in ("ETH/USDT", "SOL/USDT", "XRP/USDT")}
    portfolio = PortfolioSnapshot(cash=9_700, holdings=held)
    assert check_order(buy(1), portfolio, LIMITS).codes == [Reason.MAX_OPEN_POSITIONS.value]
    # adding to a symbol already held does not open one more
    assert check_order(buy(1, symbol="ETH/USDT"), portfolio, LIMITS).verdict is Verdict.APPROVE


def test_minimum_notional() -> None:
    decision = check_order(buy(0.05), FLAT, LIMITS)  # 5 < 10
    assert decision.codes == [Reason.MIN_NOTIONAL.value]


def test_daily_loss_limit_stops_entries() -> None:
    portfolio = PortfolioSnapshot(cash=9_400, peak_equity=10_000, day_start_equity=10_000)  # -6% today
    decision = check_order(buy(1), portfolio, LIMITS)
    assert decision.codes == [Reason.DAILY_LOSS.value]


def test_drawdown_above_the_limit_is_reduce_only_but_exits_pass() -> None:
    portfolio = PortfolioSnapshot(
        cash=8_000, holdings={"BTC/USDT": Holding(2, 100)}, peak_equity=10_000, day_start_equity=8_200
    )  # equity 8,200: drawdown 18%
    assert check_order(buy(1), portfolio, LIMITS).codes == [Reason.REDUCE_ONLY.value]
    exit_ = check_order(ProposedOrder("BTC/USDT", "sell", 2, 100), portfolio, LIMITS)
    assert exit_.verdict is Verdict.APPROVE and exit_.amount == 2


def test_kill_switch_and_breakers_stop_entries_not_exits() -> None:
    portfolio = PortfolioSnapshot(cash=9_900, holdings={"BTC/USDT": Holding(1, 100)})
    halted = Controls(halted=True, halt_reason="by hand")
    assert check_order(buy(1), portfolio, LIMITS, halted).codes == [Reason.KILL_SWITCH.value]
    tripped = Controls(tripped=[("price_move", "BTC/USDT moved 12% within one bar")])
    decision = check_order(buy(1), portfolio, LIMITS, tripped)
    assert decision.codes == [Reason.CIRCUIT_BREAKER.value] and "price_move" in decision.reason
    assert check_order(ProposedOrder("BTC/USDT", "sell", 1, 100), portfolio, LIMITS, halted).approved


def test_selling_more_than_held_is_resized_or_rejected() -> None:
    portfolio = PortfolioSnapshot(cash=0, holdings={"BTC/USDT": Holding(1, 100, reserved=0.25)})
    decision = check_order(ProposedOrder("BTC/USDT", "sell", 2, 100), portfolio, LIMITS)
    assert decision.verdict is Verdict.RESIZE and decision.amount == 0.75
    nothing = check_order(ProposedOrder("ETH/USDT", "sell", 1, 100), portfolio, LIMITS)
    assert nothing.codes == [Reason.NO_POSITION.value] and "no free position" in nothing.reason
    guarded = PortfolioSnapshot(cash=0, holdings={"BTC/USDT": Holding(1, 100, reserved=1)})  # a stop holds it
    blocked = check_order(ProposedOrder("BTC/USDT", "sell", 1, 100), guarded, LIMITS)
    assert blocked.verdict is Verdict.REJECT and blocked.codes == [Reason.NO_POSITION.value]
    assert "the 1 held are all reserved by open sell orders (a protective stop" in blocked.reason


def test_cash_limits_the_buy_including_fee() -> None:
    portfolio = PortfolioSnapshot(cash=500)
    decision = check_order(buy(5), portfolio, RiskSettings(max_position=1, max_exposure=1))  # 500 + fee
    assert decision.verdict is Verdict.RESIZE and decision.codes == [Reason.CASH.value]
    assert decision.amount * 100 * 1.001 <= 500


def test_malformed_orders_are_rejected() -> None:
    for order in (buy(-1), buy(math.nan), ProposedOrder("BTC/USDT", "short", 1, 100), buy(1, price=0)):
        assert check_order(order, FLAT, LIMITS).codes == [Reason.INVALID.value]
