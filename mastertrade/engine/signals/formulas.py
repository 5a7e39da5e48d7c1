"""How each built-in indicator is computed from the candles: the formulas around the compiled kernels
(:mod:`.kernels`). OBV and VWAP were pandas-ta's own calls until a search, which asks for each at most
once, was seen paying pandas-ta's import (0.5 s, a third of the search on one year of bars) for them.

Each function takes the candle frame and validated parameters and returns {output name: array or None}
(None: the frame is shorter than the indicator needs; the cache turns it into NaN). The definitions
are pandas-ta 0.4.71b0's (``talib=False``), step for step where pandas-ta is right, so that strategies
found before these kernels existed keep their signals; ``tests/signals/test_formulas.py`` holds every
one to pandas-ta on random walks with flat stretches and gaps, and to the textbook where pandas-ta is
off. Where they differ from pandas-ta, and why:

- pandas-ta's ``non_zero_range`` adds machine epsilon to every bar of a range series as soon as one
  bar of it is zero (a value at bar t then depends on later bars, by an ulp). Here a zero range stays
  zero: Stochastic %K is 0 on a flat range (pandas-ta's and TA-Lib's value), Bollinger %b is NaN on a
  zero-width band (where pandas-ta returns 1, 0.5 or 64 depending on rounding), and a true range is
  never raised to epsilon.
- Bollinger deviations and simple moving averages are the window's own (:mod:`.kernels`): on a flat
  window the deviation is 0 and the mean is the price, where pandas' running variance leaves ~1e-7.
- SMAs (also inside Stochastic and VWMA) are compensated running means: within an ulp or two of
  pandas-ta's convolutions, not always the same bits.

The EMA, RSI, MACD, ATR, NATR and ADX recursions are pandas' own (:func:`.kernels.ewm_mean`) from the
same seeds (a mean computed with numpy's sum, as pandas computes ``Series.mean``), so they give the
same bits as pandas-ta; so do OBV (``Series.cumsum``'s running sum) and VWAP (``groupby().cumsum()``'s
Kahan sums per UTC day).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mastertrade.engine.signals.specs import SINGLE
from mastertrade.errors import OperationFailed

if TYPE_CHECKING:
    from numpy.typing import NDArray

    FloatArray = NDArray[np.float64]
    IntArray = NDArray[np.int64]

EPSILON = sys.float_info.epsilon
"""pandas-ta's threshold below which a directional move counts as none (its ``zero``)."""


def _input(values: Any) -> FloatArray:
    """A read-only C-contiguous float64 view: one array type for every kernel call, so each kernel
    compiles (and loads from numba's cache) one specialisation, the one ``precompile`` made."""
    array = np.ascontiguousarray(values, dtype=np.float64).view()
    array.flags.writeable = False
    return array


class Candles(pd.DataFrame):
    """A candle frame that also carries its price columns as read-only float64 arrays (``prices``): the
    formulas read those rather than ask pandas for a column (40 us each, a tenth of an indicator's
    time). :class:`~.indicators.IndicatorCache` builds one; whatever pandas derives from it is a plain
    DataFrame, so no slice of it carries arrays that no longer match its rows."""

    _metadata = ["prices"]  # noqa: RUF012  (pandas' own class attribute)
    prices: dict[str, FloatArray]

    @property
    def _constructor(self) -> type[pd.DataFrame]:
        return pd.DataFrame


def _column(frame: pd.DataFrame, name: str) -> FloatArray:
    if isinstance(frame, Candles):
        return frame.prices[name]
    return _input(frame[name].to_numpy(dtype=np.float64))


def _nan(n: int) -> FloatArray:
    return np.full(n, np.nan)


def _ewm_com_of_span(length: int) -> float:
    """pandas' centre of mass for ``span=length`` (the EMA's alpha 2 / (length + 1) is 1 / (1 + com))."""
    return (length - 1) / 2.0


def _ewm_com_of_alpha(length: int) -> float:
    """pandas' centre of mass for ``alpha=1/length`` (Wilder's smoothing, pandas-ta's ``rma``)."""
    alpha = 1.0 / length
    return (1.0 - alpha) / alpha


def _pandas_mean(values: FloatArray) -> float:
    """``Series.mean()`` to the bit: NaN counted out and summed as 0 by numpy's pairwise sum."""
    valid = ~np.isnan(values)
    return float(np.sum(np.where(valid, values, 0.0)) / np.float64(np.count_nonzero(valid)))


def ema_of(values: FloatArray, length: int, start: int = 0) -> FloatArray:
    """pandas-ta's EMA of ``values[start:]`` (NaN before): seeded with the mean of its first ``length``
    values at bar ``start + length - 1``, then pandas' ``ewm(span=length, adjust=False)``."""
    from mastertrade.engine.signals.kernels import ewm_mean

    first = start + length - 1
    if first >= len(values):
        return _nan(len(values))
    seed = _pandas_mean(values[start : first + 1])
    return ewm_mean(_input(values), first, seed, _ewm_com_of_span(length))


def _rma_from(values: FloatArray, start: int, length: int, seed: float | None = None) -> FloatArray:
    """Wilder's smoothing of ``values`` from bar ``start`` (seeded with ``seed`` or that bar's value)."""
    from mastertrade.engine.signals.kernels import ewm_mean

    if start >= len(values):
        return _nan(len(values))
    first = float(values[start]) if seed is None else seed
    return ewm_mean(_input(values), start, first, _ewm_com_of_alpha(length))


def _true_range(frame: pd.DataFrame, *, first_nan: bool) -> FloatArray:
    """max(high - low, |high - previous close|, |previous close - low|); the first bar has no previous
    close: high - low, or NaN (``first_nan``, pandas-ta's ``prenan`` as ADX uses it)."""
    high, low, close = (_column(frame, name) for name in ("high", "low", "close"))
    previous = close[:-1]
    tr = np.empty(len(close))
    tr[0] = np.nan if first_nan else abs(high[0] - low[0])
    tr[1:] = np.maximum(
        np.maximum(np.abs(high[1:] - low[1:]), np.abs(high[1:] - previous)), np.abs(previous - low[1:])
    )
    return tr


def _atr_values(frame: pd.DataFrame, length: int, *, first_nan: bool = False) -> FloatArray | None:
    """pandas-ta's ATR: Wilder's smoothing of the true range, seeded with the mean of its first
    ``length`` values (NaN counted out) at bar ``length - 1``."""
    if len(frame) < length + 1:
        return None
    tr = _true_range(frame, first_nan=first_nan)
    return _rma_from(tr, length - 1, length, _pandas_mean(tr[:length]))


def sma(frame: pd.DataFrame, p: Mapping[str, Any]) -> Mapping[str, Any]:
    from mastertrade.engine.signals.kernels import rolling_mean

    length = int(p["length"])
    close = _column(frame, "close")
    return {SINGLE: rolling_mean(close, length) if len(close) >= length else None}


def ema(frame: pd.DataFrame, p: Mapping[str, Any]) -> Mapping[str, Any]:
    length = int(p["length"])
    close = _column(frame, "close")
    return {SINGLE: ema_of(close, length) if len(close) >= length else None}


def rsi(frame: pd.DataFrame, p: Mapping[str, Any]) -> Mapping[str, Any]:
    length = int(p["length"])
    close = _column(frame, "close")
    if len(close) < length + 1:
        return {SINGLE: None}
    change = np.empty(len(close))
    change[0] = np.nan
    change[1:] = close[1:] - close[:-1]
    gains = np.where(change < 0, 0.0, change)
    losses = np.where(change > 0, 0.0, change)
    up = _rma_from(gains, 1, length)
    down = _rma_from(losses, 1, length)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {SINGLE: 100.0 * up / (up + np.abs(down))}


def macd(frame: pd.DataFrame, p: Mapping[str, Any]) -> Mapping[str, Any]:
    fast, slow, signal = int(p["fast"]), int(p["slow"]), int(p["signal"])
    close = _column(frame, "close")
    if len(close) < slow + signal - 1:
        return {"line": None, "signal": None, "hist": None}
    line = ema_of(close, fast) - ema_of(close, slow)
    signal_line = ema_of(line, signal, start=slow - 1)
    return {"line": line, "signal": signal_line, "hist": line - signal_line}


def bbands(frame: pd.DataFrame, p: Mapping[str, Any]) -> Mapping[str, Any]:
    from mastertrade.engine.signals.kernels import rolling_deviation, rolling_mean

    length = int(p["length"])
    close = _column(frame, "close")
    if len(close) < length:
        return {"upper": None, "mid": None, "lower": None, "percent_b": None}
    mid = rolling_mean(close, length)
    deviations = float(p["std"]) * rolling_deviation(close, length)
    upper, lower = mid + deviations, mid - deviations
    with np.errstate(divide="ignore", invalid="ignore"):
        percent_b = (close - lower) / (upper - lower)  # NaN on a zero-width band: undefined
    return {"upper": upper, "mid": mid, "lower": lower, "percent_b": percent_b}


def atr(frame: pd.DataFrame, p: Mapping[str, Any]) -> Mapping[str, Any]:
    return {SINGLE: _atr_values(frame, int(p["length"]))}


def natr(frame: pd.DataFrame, p: Mapping[str, Any]) -> Mapping[str, Any]:
    values = _atr_values(frame, int(p["length"]))
    return {SINGLE: None if values is None else 100.0 * values / _column(frame, "close")}


def adx(frame: pd.DataFrame, p: Mapping[str, Any]) -> Mapping[str, Any]:
    """pandas-ta's ADX (``tvmode`` off): +DM/-DM (moves under machine epsilon count as none) smoothed
    by Wilder, over an ATR whose first true range is NaN, and Wilder's smoothing of DX."""
    length = int(p["length"])
    atr_values = _atr_values(frame, length, first_nan=True)
    if atr_values is None:
        return {"adx": None, "plus_di": None, "minus_di": None}
    high, low = _column(frame, "high"), _column(frame, "low")
    up = np.empty(len(high))
    down = np.empty(len(high))
    up[0] = down[0] = np.nan
    up[1:] = high[1:] - high[:-1]
    down[1:] = low[:-1] - low[1:]
    plus = np.where((up > down) & (up > 0), up, 0.0)
    minus = np.where((down > up) & (down > 0), down, 0.0)
    plus[0] = minus[0] = np.nan
    plus[np.abs(plus) < EPSILON] = 0.0
    minus[np.abs(minus) < EPSILON] = 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = 100.0 / atr_values
        plus_di = scale * _rma_from(plus, 1, length)
        minus_di = scale * _rma_from(minus, 1, length)
        dx = 100.0 * np.abs(plus_di - minus_di) / (plus_di + minus_di)
    return {"adx": _rma_from(dx, length - 1, length), "plus_di": plus_di, "minus_di": minus_di}


def stoch(frame: pd.DataFrame, p: Mapping[str, Any]) -> Mapping[str, Any]:
    """Slow stochastic: %K over ``k`` bars smoothed by an SMA of ``smooth_k``, %D its SMA of ``d``; each
    SMA starts where its input does (pandas-ta's ``first_valid_index``)."""
    from mastertrade.engine.signals.kernels import rolling_extreme, rolling_mean

    k, d, smooth = int(p["k"]), int(p["d"]), int(p["smooth_k"])
    high, low, close = (_column(frame, name) for name in ("high", "low", "close"))
    n = len(close)
    if n < k + d + smooth:
        return {"k": None, "d": None}
    lowest = rolling_extreme(low, k, False)
    spread = rolling_extreme(high, k, True) - lowest
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = 100.0 * (close - lowest) / spread
    raw[spread == 0] = 0.0  # a flat range: close is at its low
    first = k - 1
    slow_k = raw
    if smooth > 1:
        slow_k = _nan(n)
        slow_k[first:] = rolling_mean(_input(raw[first:]), smooth)
    first += smooth - 1
    slow_d = _nan(n)
    slow_d[first:] = rolling_mean(_input(slow_k[first:]), d)
    return {"k": slow_k, "d": slow_d}


def cci(frame: pd.DataFrame, p: Mapping[str, Any]) -> Mapping[str, Any]:
    """The textbook CCI (pandas-ta 0.4.71b0 computes ``tp - sma / (c * mad)``, a precedence bug)."""
    from mastertrade.engine.signals.kernels import mean_deviation, rolling_mean

    length = int(p["length"])
    if len(frame) < length:
        return {SINGLE: None}
    typical = _input(
        (_column(frame, "high") + _column(frame, "low") + _column(frame, "close")) / 3.0
    )  # pandas-ta's hlc3
    mean = rolling_mean(typical, length)
    mad = mean_deviation(typical, _input(mean), length)
    with np.errstate(divide="ignore", invalid="ignore"):
        values = (typical - mean) / (0.015 * mad)
    values[mad == 0] = 0.0  # a flat window: the typical price equals its mean
    return {SINGLE: values}


def roc(frame: pd.DataFrame, p: Mapping[str, Any]) -> Mapping[str, Any]:
    length = int(p["length"])
    close = _column(frame, "close")
    if len(close) < length + 1:
        return {SINGLE: None}
    values = _nan(len(close))
    values[length:] = 100.0 * (close[length:] - close[:-length]) / close[:-length]
    return {SINGLE: values}


def donchian(frame: pd.DataFrame, p: Mapping[str, Any]) -> Mapping[str, Any]:
    from mastertrade.engine.signals.kernels import rolling_extreme

    length = int(p["length"])
    if len(frame) < length:
        return {"upper": None, "mid": None, "lower": None}
    upper = rolling_extreme(_column(frame, "high"), length, True)
    lower = rolling_extreme(_column(frame, "low"), length, False)
    return {"upper": upper, "mid": 0.5 * (lower + upper), "lower": lower}


def vwma(frame: pd.DataFrame, p: Mapping[str, Any]) -> Mapping[str, Any]:
    from mastertrade.engine.signals.kernels import rolling_mean

    length = int(p["length"])
    close, volume = _column(frame, "close"), _column(frame, "volume")
    if len(close) < length:
        return {SINGLE: None}
    with np.errstate(divide="ignore", invalid="ignore"):
        return {SINGLE: rolling_mean(_input(close * volume), length) / rolling_mean(volume, length)}


# --- pandas-ta, the reference (``ta_reference``) ----------------------------------------------------


def ta() -> Any:
    import pandas_ta

    return pandas_ta


def column_of(result: Any, prefix: str) -> Any:
    """The one column of a pandas-ta DataFrame whose name starts with ``prefix`` (``None`` passes)."""
    if result is None:
        return None
    matches = [name for name in result.columns if str(name).startswith(prefix)]
    if len(matches) != 1:
        raise OperationFailed(f"pandas-ta returned columns {list(result.columns)}; expected one {prefix}*")
    return result[matches[0]]


def obv(frame: pd.DataFrame, p: Mapping[str, Any]) -> Mapping[str, Any]:
    from mastertrade.engine.signals.kernels import on_balance_volume

    return {SINGLE: on_balance_volume(_column(frame, "close"), _column(frame, "volume"))}


def sessions(index: pd.Index) -> IntArray:
    """The session of each bar for VWAP: pandas' ``to_period("D")`` day number, the calendar day of the
    bar's wall-clock time in the index's zone (UTC days for the store's frames)."""
    if not isinstance(index, pd.DatetimeIndex):
        raise OperationFailed("VWAP needs a DatetimeIndex (its sessions are calendar days)")
    wall = index.tz_localize(None) if index.tz is not None else index
    return np.ascontiguousarray(wall.as_unit("ns").asi8 // 86_400_000_000_000, dtype=np.int64)


def vwap(frame: pd.DataFrame, p: Mapping[str, Any]) -> Mapping[str, Any]:
    from mastertrade.engine.signals.kernels import session_vwap

    if len(frame) < 2:  # pandas-ta refuses below two bars
        return {SINGLE: None}
    high, low, close = (_column(frame, name) for name in ("high", "low", "close"))
    typical = _input((high + low + close) / 3.0)  # pandas-ta's hlc3
    return {SINGLE: session_vwap(typical, _column(frame, "volume"), sessions(frame.index))}
