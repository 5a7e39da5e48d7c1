"""A strategy's backtest curve in words, for its detail and the Strategies preview: why the daemon sent
no curve, or that the backtest behind it made no trade and why, so a flat line is never read as a
strategy that traded and broke even."""

from __future__ import annotations

from mastertrade.engine.api.schemas_strategies import StrategyDetail


def no_trades_reason(detail: StrategyDetail) -> str | None:
    """Why the backtest behind the detail's curve made no trade, in words; ``None`` when it traded (or
    the daemon did not say how many trades it made, or sent no curve: ``curve_note`` says why).

    The daemon's ``backtest.note`` when it sent one; otherwise the bars it covered and the command that
    names the reason (the fast engine's ``no_trade_reason``), so a flat curve is never read as a
    strategy that traded and broke even.
    """
    info = detail.backtest
    if info.trades != 0 or not detail.backtest_equity:
        return None
    if info.note:
        return info.note
    values = [point.equity for point in detail.backtest_equity]
    held = max(values) != min(values)  # the equity moved: a position opened and was never closed
    what = "no closed trade" if held else "no trades"
    still = " (a position was still open at the end)" if held else ""
    bars = f"the {info.bars:,} bars backtested" if info.bars else "its backtest"
    return f"{what} in {bars}{still}: `mt backtest {detail.id}` says why"


def curve_note(detail: StrategyDetail) -> str:
    """The backtest curve's note: why there is none, or that it made no trade ("" when it traded)."""
    if not detail.backtest_equity:
        return detail.backtest.note or "none sent"
    return "no trades" if no_trades_reason(detail) is not None else ""
