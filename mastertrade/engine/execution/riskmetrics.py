"""The account's VaR and CVaR (the ``risk_metrics`` job): from its positions when it holds any, else from
its equity history.

With positions, the returns are those of the current holdings over the last ``[risk] var_lookback``
horizons, each symbol's stored closes (on a replay, those closed by its market time, never the bars it
has yet to play) sampled at the horizon (``[risk] var_horizon``), weighted by the
holding's share of equity (``var.portfolio_returns``): the risk of what is held now. Without positions the
equity history, sampled the same way, gives the returns (mostly informative: a flat account has no
market risk). Fewer than ``var.MIN_RETURNS`` returns give no figures, with the reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mastertrade.engine.market.timeframes import timeframe_ms
from mastertrade.engine.risk.var import portfolio_returns, simple_returns, var_cvar

if TYPE_CHECKING:
    import pandas as pd

    from mastertrade.engine.execution.account import Account
    from mastertrade.engine.market.store import CandleStore


def _sample(series: pd.Series, horizon_ms: int, lookback: int) -> list[float]:
    """The last value in each horizon bucket (epoch-ms buckets, UTC), the newest ``lookback + 1``."""
    import numpy as np
    import pandas as pd

    stamps = pd.DatetimeIndex(series.index).as_unit("ms").asi8
    buckets = stamps // horizon_ms
    last = np.flatnonzero(np.r_[buckets[1:] != buckets[:-1], True])
    values = series.to_numpy(dtype=float)[last]
    return [float(v) for v in values[-(lookback + 1) :]]


async def compute_risk_metrics(
    account: Account, candles: CandleStore, venue_id: str, *, until: int | None = None
) -> dict[str, Any]:
    """VaR and CVaR (95%, 99%; historical and parametric) of the account now, stored as a snapshot.
    ``until``: the market time (epoch ms) whose closed bars the closes are sampled from (a replay's: its
    store holds the bars it has yet to play, ``market.as_of``)."""
    data = await account_var(account, candles, venue_id, until=until)
    await account.risk.store.save_snapshot("risk", account.book, data)
    return data


async def account_var(
    account: Account, candles: CandleStore, venue_id: str, *, until: int | None = None
) -> dict[str, Any]:
    import pandas as pd

    from mastertrade.engine.market.as_of import opened_before
    from mastertrade.engine.market.store import SeriesKey

    settings = account.settings
    horizon = settings.risk.var_horizon
    horizon_ms = timeframe_ms(horizon)
    lookback = settings.risk.var_lookback
    portfolio = await account.portfolio()
    equity = portfolio.equity
    weights = {symbol: holding.value / equity for symbol, holding in portfolio.holdings.items() if equity > 0}
    timeframe = settings.market.timeframe
    source = "positions" if weights else "equity"
    if weights:
        span = (lookback + 2) * horizon_ms
        before = opened_before(until, timeframe) if until is not None else None
        closes: dict[str, list[float]] = {}
        for symbol in weights:
            key = SeriesKey(venue_id, symbol, timeframe)
            sampled = await candles.bucket_closes(key, horizon_ms, span, before=before)
            closes[symbol] = sampled[-(lookback + 1) :]
        shortest = min(len(values) for values in closes.values())
        aligned = {symbol: values[len(values) - shortest :] for symbol, values in closes.items()}
        returns = portfolio_returns(weights, aligned) if shortest > 1 else []
    else:
        history = await account.history()
        if history:
            series = pd.Series(
                [point.equity for point in history],
                index=pd.DatetimeIndex([point.at for point in history]),
            )
            returns = simple_returns(_sample(series, horizon_ms, lookback))
        else:
            returns = []
    figures = var_cvar(returns, equity)
    return {
        "source": source,
        "horizon": horizon,
        "returns": len(returns),
        "equity": equity,
        "quote": account.quote,
        "figures": [item.as_dict() for item in figures] if figures is not None else None,
        "note": None
        if figures is not None
        else f"{len(returns)} {horizon} returns: too few for VaR (need 20)",
    }


def var_summary(result: Any) -> str | None:
    """The ``risk_metrics`` job's result in words (``kernel.context.Job``): the 95% historical VaR it
    stored, or that it stored none and why (too few returns), which a bare "ok" hid."""
    if not isinstance(result, dict) or "figures" not in result:
        return None
    figures = result["figures"]
    if not figures:
        return f"no VaR: {result.get('note') or 'no figures'}"
    first = figures[0] if isinstance(figures, list) else None
    if not isinstance(first, dict) or not all(
        isinstance(first.get(key), int | float) for key in ("level", "historical_var")
    ):
        return None
    return (
        f"{first['level']:.0%} VaR {first['historical_var']:,.2f} {result.get('quote') or ''}".rstrip()
        + f" over {result.get('horizon')}, from {result.get('returns')} returns of {result.get('source')}"
    )
