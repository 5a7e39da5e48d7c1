"""The built-in strategies. Each is an ordinary genome (``mt strategy show NAME --json`` prints it),
long-only, with symbol and timeframe filled in when it is used:

- ``sma_cross``: enter when SMA(10) crosses above SMA(30); exit when SMA(10) crosses below SMA(30)
- ``ema_cross``: enter when EMA(12) crosses above EMA(26); exit when EMA(12) crosses below EMA(26)
- ``rsi_reversion``: enter when RSI(14) crosses above 30; exit when RSI(14) > 70; stop-loss 10%
- ``macd_trend``: enter when MACD(12,26,9) line crosses above MACD(12,26,9) signal line and
  close > EMA(200); exit when MACD(12,26,9) line crosses below MACD(12,26,9) signal line
- ``bollinger_reversion``: enter when close crosses above Bollinger(20,2) lower band; exit when
  close > Bollinger(20,2) middle band; stop-loss 5%
- ``breakout``: enter when close > previous Donchian(20) upper; exit when close < previous Donchian(10) lower

All of them trade with the whole equity (size 100%). The lines above are what
:func:`~mastertrade.engine.signals.describe.describe` prints for them (a test keeps them in step).

Why these rules: the crosses are the classic trend followers; ``rsi_reversion`` buys when RSI leaves
oversold rather than while it falls, and sells into strength; ``macd_trend`` takes MACD crosses only
above the 200-bar EMA; ``bollinger_reversion`` buys a close back inside the lower band and sells at the
middle band; ``breakout`` is the turtle rule (a close above the previous 20-bar high, out below the
previous 10-bar low: the channel is lagged one bar because this bar's high always contains its close).
"""

from __future__ import annotations

from typing import Any

from mastertrade.engine.signals.genome import Genome, parse_genome

_SMA10 = {"ind": "sma", "length": 10}
_SMA30 = {"ind": "sma", "length": 30}
_EMA12 = {"ind": "ema", "length": 12}
_EMA26 = {"ind": "ema", "length": 26}
_RSI = {"ind": "rsi", "length": 14}
_MACD = {"ind": "macd", "fast": 12, "slow": 26, "signal": 9}
_BBANDS = {"ind": "bbands", "length": 20, "std": 2.0}
_CLOSE = {"price": "close"}

_DEFINITIONS: dict[str, dict[str, Any]] = {
    "sma_cross": {
        "entry": {"crosses_above": [_SMA10, _SMA30]},
        "exit": {"crosses_below": [_SMA10, _SMA30]},
    },
    "ema_cross": {
        "entry": {"crosses_above": [_EMA12, _EMA26]},
        "exit": {"crosses_below": [_EMA12, _EMA26]},
    },
    "rsi_reversion": {
        "entry": {"crosses_above": [_RSI, 30]},
        "exit": {">": [_RSI, 70]},
        "stop_loss": 0.10,
    },
    "macd_trend": {
        "entry": {
            "all": [
                {"crosses_above": [{**_MACD, "output": "line"}, {**_MACD, "output": "signal"}]},
                {">": [_CLOSE, {"ind": "ema", "length": 200}]},
            ]
        },
        "exit": {"crosses_below": [{**_MACD, "output": "line"}, {**_MACD, "output": "signal"}]},
    },
    "bollinger_reversion": {
        "entry": {"crosses_above": [_CLOSE, {**_BBANDS, "output": "lower"}]},
        "exit": {">": [_CLOSE, {**_BBANDS, "output": "mid"}]},
        "stop_loss": 0.05,
    },
    "breakout": {
        "entry": {">": [_CLOSE, {"ind": "donchian", "length": 20, "output": "upper", "lag": 1}]},
        "exit": {"<": [_CLOSE, {"ind": "donchian", "length": 10, "output": "lower", "lag": 1}]},
    },
}

BUILTINS: dict[str, Genome] = {
    name: parse_genome({"name": name, **definition, "size": 1.0}, source=f"built-in {name}")
    for name, definition in _DEFINITIONS.items()
}


def builtin_names() -> list[str]:
    return list(BUILTINS)


def builtin(name: str, symbol: str | None = None, timeframe: str | None = None) -> Genome:
    """A built-in genome, bound to ``symbol`` and ``timeframe`` when given. ``KeyError`` if unknown."""
    genome = BUILTINS[name]
    return genome.bind(symbol, timeframe) if symbol or timeframe else genome
