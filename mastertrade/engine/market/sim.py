"""The simulated market: seeded, deterministic candles with the features of real crypto prices.

It is the embedded default for the demo, the tests and offline use, and everything it makes is stored
under the exchange id ``sim`` so it is labelled as simulated wherever it is shown.

The model, per bar (log prices):

- **Volatility clustering**: GARCH(1,1) variance, ``s2[t] = w + a * e[t-1]**2 + b * s2[t-1]`` (e the
  previous bar's innovation) with persistence a + b = 0.97, around a long-run level chosen
  (:func:`garch_omega`) so that, with the regimes and jumps below, the bars' realised volatility is the
  symbol's stated annual volatility (within a few percent, measured on daily and hourly bars).
- **Fat tails**: Student-t innovations (5 degrees of freedom, scaled to unit variance), plus rare jumps
  (about one every two weeks of market time; about one daily standard deviation of the asset on daily
  bars, less on shorter ones), bounded the way real crypto's worst days are: a bar's volatility stays
  under :data:`MAX_VOL` times its long-run level and its move under :data:`MAX_MOVE` long-run standard
  deviations (BTC's daily bars: -27%/+37%).
- **Regime changes**: a three-state Markov chain (bull, bear, range) that shifts the drift and scales the
  volatility; a regime lasts about a month of market time on average, whatever the timeframe.
- **Consistent intrabar highs and lows**: each bar's high and low are drawn from the exact distribution
  of the maximum and minimum of a Brownian bridge from the open to the close, so open and close always
  lie inside [low, high] and the range widens with volatility.
- **Volume that moves with volatility**: log volume rises with the bar's conditional volatility and the
  size of its move, with its own noise.

**A planted edge, only where the symbol says so.** A symbol whose base asset ends in ``-EDGE`` (for
example ``BTC-EDGE/USDT``; :func:`planted_edge`) gets one deliberate inefficiency on top of the model
above, an overshooting overreaction: a bar whose shock (its random move, jump included) exceeds
``EDGE_THRESHOLD`` (a quarter of a conditional standard deviation) has ``EDGE_REVERSAL`` (2) times that
shock taken back on the next bar; only shocks are reversed, never a reversal. Its shocks are
``EDGE_SCALE`` smaller, so that with the reversals its bars move about as much as its base asset's
(unscaled, BTC-EDGE moved twice as much as BTC, ranged over 30% in a day about once in a hundred days
and compounded the demo's backtests to 1e27); the edge's Sharpe ratio does not depend on that scale. A
rule that buys after a sharp fall and sells a bar or two later has a real, stable advantage. The edge is
strong on purpose: the deflated Sharpe ratio measures the best candidate against the observed spread of
every candidate's Sharpe ratio, and subtler edges (return autocorrelation 0.7; reversals of 60 to 100%
of a move) gave the demo's best candidates hold-out Sharpe ratios of 2 to 8 that did not clear it,
because the spread of the candidates' Sharpe ratios grew with the edge about as fast as the best one's.
It exists so that the demo and the tests can show the pipeline passing a real edge honestly; every other
symbol is a market with no exploitable structure beyond drift, and the generator's defaults rightly pass
nothing there. The name, shown by ``mt data list`` and every other listing, is the label.

The same (symbol, timeframe, seed) always gives the same prices: the random stream is keyed on all three
with a stable hash, never on Python's salted ``hash()``. Where the series sits in time (``end``) does
not change its prices, only its timestamps.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mastertrade.engine.market.store import frame_from_matrix
from mastertrade.engine.market.timeframes import floor_ts, now_ms, timeframe_ms
from mastertrade.errors import UserInputError

_DAY_MS = 86_400_000
_YEAR_MS = 365 * _DAY_MS
_T_DF = 5.0
_MAX_SHOCK = 10.0  # standard deviations; keeps one absurd draw from dwarfing years of history
_GARCH_ALPHA = 0.07
_GARCH_BETA = 0.90
_REGIME_DAYS = 30.0
_JUMPS_PER_DAY = 1 / 14
_JUMP_SIZE = 1.0  # a daily bar's jump, in the asset's daily standard deviations; shorter bars jump less
MAX_VOL = 2.5
"""A bar's conditional volatility never exceeds this many times the symbol's long-run level (BTC's
worst weeks, March 2020, ran at two to three times its usual volatility); it bounds the bars' ranges."""
MAX_MOVE = 10.0
"""A bar's random move stays within this many long-run standard deviations, approached smoothly (tanh):
about -27%/+37% for BTC's daily bars and -41% for SOL's, near their worst days since 2017 (BTC -39% on
12 March 2020; SOL about -45% in 2022). Unbounded, GARCH bursts times fat tails times the bear regime
gave BTC days of +60% and bars ranging 72% of their open."""
_DRAWS = ("shock", "switch", "regime", "jump", "jump_size", "high", "low", "volume")
_MAX_BARS = 5_000_000
EDGE_SUFFIX = "-EDGE"
EDGE_THRESHOLD = 0.25
"""A shock of an ``-EDGE`` symbol larger than this many conditional standard deviations ..."""
EDGE_REVERSAL = 2.0
"""... is taken back this many times over on the next bar."""
EDGE_SCALE = 1 / math.sqrt(1 + EDGE_REVERSAL**2)
"""An ``-EDGE`` symbol's shocks are this much smaller, so that with its reversals its bars move about as
much as its base asset's (without it, BTC-EDGE moved twice as much as BTC: a coin of 160% a year)."""


@dataclass(frozen=True)
class Profile:
    """How a simulated symbol behaves: starting price, annual volatility and typical volume per day."""

    price: float
    annual_vol: float
    daily_volume: float


PROFILES: dict[str, Profile] = {
    "BTC": Profile(price=42_000.0, annual_vol=0.60, daily_volume=25_000.0),
    "ETH": Profile(price=2_300.0, annual_vol=0.75, daily_volume=300_000.0),
    "SOL": Profile(price=95.0, annual_vol=1.00, daily_volume=4_000_000.0),
    "BNB": Profile(price=310.0, annual_vol=0.65, daily_volume=600_000.0),
    "XRP": Profile(price=0.6, annual_vol=0.85, daily_volume=900_000_000.0),
    "DOGE": Profile(price=0.08, annual_vol=1.10, daily_volume=2_500_000_000.0),
}

# (drift per year, volatility multiplier) of the bull, bear and range regimes
_REGIMES = np.array([[0.9, 0.9], [-0.8, 1.35], [0.0, 0.7]])


def _stable_hash(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def planted_edge(symbol: str) -> bool:
    """Whether the simulated ``symbol`` carries the documented planted edge (base asset ``*-EDGE``)."""
    return symbol.split("/")[0].upper().endswith(EDGE_SUFFIX)


def profile(symbol: str) -> Profile:
    """The behaviour of a symbol's base asset; unknown assets get a deterministic made-up profile."""
    base = symbol.split("/")[0].upper().removesuffix(EDGE_SUFFIX)
    known = PROFILES.get(base)
    if known:
        return known
    h = _stable_hash(base)
    return Profile(
        price=float(10 ** (h % 1000 / 1000 * 3)), annual_vol=0.7 + (h >> 10) % 50 / 100, daily_volume=1e6
    )


def _bounded(move: float, limit: float) -> float:
    """``move`` unchanged up to half of ``limit``, then bent smoothly (tanh) so it never reaches ``limit``:
    the bound reshapes only the rare extreme bars and leaves the rest of the distribution as drawn."""
    knee = 0.5 * limit
    if abs(move) <= knee:
        return move
    return math.copysign(knee + knee * math.tanh((abs(move) - knee) / knee), move)


def garch_omega(bar_var: float, jump_var: float) -> float:
    """The GARCH constant that makes a bar's total variance ``bar_var`` (the profile's annual volatility,
    per bar) once the regimes' volatility multipliers and the jumps are added.

    The long-run GARCH variance ``V`` satisfies ``V = w + a * (V + J) + b * V`` (the variance feeds on
    the jump ``J`` too), and a bar's variance is ``E[m**2] * V + J`` with ``m`` the regime's multiplier
    (the three regimes are equally likely in the long run: the chain leaves each one for either other
    with equal probability). Before this, ``w`` was set as if neither existed, and BTC's daily bars moved
    72% a year against the stated 60%. The caps (:data:`MAX_VOL`, :data:`MAX_MOVE`) and the innovations'
    clip take off a little more (a few percent, measured by ``tests/test_sim.py``).
    """
    persistence = _GARCH_ALPHA + _GARCH_BETA
    regime_var = float(np.mean(_REGIMES[:, 1] ** 2))
    omega = (bar_var - jump_var) / regime_var * (1 - persistence) - _GARCH_ALPHA * jump_var
    if omega <= 0:
        raise ValueError(f"jumps of variance {jump_var:.3g} leave no room in a bar variance of {bar_var:.3g}")
    return omega


class SimMarket:
    """A stateful simulated price process for one symbol and timeframe.

    ``bars(n)`` continues the process by ``n`` bars; the first bar opens at ``start`` (epoch ms) and
    at ``start_price`` (the symbol's profile price by default). ``stream`` separates independent
    continuations with the same seed, e.g. a live feed picking up where stored history ends.
    """

    def __init__(
        self,
        symbol: str,
        timeframe: str,
        seed: int,
        start: int,
        *,
        start_price: float | None = None,
        stream: int = 0,
    ) -> None:
        self.symbol = symbol
        self.timeframe = timeframe
        self.step = timeframe_ms(timeframe)
        self.next_ts = start
        p = profile(symbol)
        root = np.random.SeedSequence([seed, _stable_hash(symbol), _stable_hash(timeframe), stream])
        self._draws = {
            name: np.random.default_rng(child)
            for name, child in zip(_DRAWS, root.spawn(len(_DRAWS)), strict=True)
        }
        bars_per_year = _YEAR_MS / self.step
        self._base_var = p.annual_vol**2 / bars_per_year
        self._jump_p = min(0.5, _JUMPS_PER_DAY * self.step / _DAY_MS)
        self._jump_size = _JUMP_SIZE * p.annual_vol / math.sqrt(365) * (self.step / _DAY_MS) ** 0.25
        self._omega = garch_omega(self._base_var, self._jump_p * self._jump_size**2)
        self._var = self._omega / (1 - _GARCH_ALPHA - _GARCH_BETA)
        self._last_innovation = 0.0
        self._log_price = math.log(start_price if start_price is not None else p.price)
        self._drift_scale = 1 / bars_per_year
        self._stay = 1 - self.step / (_REGIME_DAYS * _DAY_MS)
        self._regime = int(self._draws["regime"].integers(0, 3))
        self._volume_per_bar = p.daily_volume * self.step / _DAY_MS
        self._edge = planted_edge(symbol)
        self._shock_scale = EDGE_SCALE if self._edge else 1.0
        self._max_sigma = MAX_VOL * math.sqrt(self._base_var) * self._shock_scale
        self._max_move = MAX_MOVE * math.sqrt(self._base_var) * self._shock_scale
        self._reversal_due = 0.0

    @property
    def last_close(self) -> float:
        return math.exp(self._log_price)

    def bars(self, n: int) -> np.ndarray[Any, np.dtype[np.float64]]:
        """The next ``n`` bars as an (n, 6) array of ts, open, high, low, close, volume."""
        if n < 0:
            raise UserInputError(f"invalid bar count {n}: must be >= 0")
        draw = self._draws
        # All random draws up front, vectorised, each from its own stream so that drawing 2 x 100 bars
        # gives exactly the bars of one draw of 200. Only the GARCH/regime recursion is sequential.
        shocks = np.clip(
            draw["shock"].standard_t(_T_DF, n) * math.sqrt((_T_DF - 2) / _T_DF), -_MAX_SHOCK, _MAX_SHOCK
        )
        switch = draw["switch"].random(n)
        regime_pick = draw["regime"].random(n) < 0.5
        jumps = (draw["jump"].random(n) < self._jump_p) * draw["jump_size"].normal(0.0, self._jump_size, n)
        u_high = draw["high"].random(n)
        u_low = draw["low"].random(n)
        volume_noise = draw["volume"].normal(0.0, 0.35, n)

        returns = np.empty(n)
        sigma = np.empty(n)
        var, last, regime, previous = self._var, self._last_innovation, self._regime, self._reversal_due
        for i in range(n):
            if switch[i] > self._stay:
                regime = (regime + 1 + int(regime_pick[i])) % 3
            drift, vol_mult = _REGIMES[regime]
            var = self._omega + _GARCH_ALPHA * last + _GARCH_BETA * var
            s = min(math.sqrt(var) * vol_mult * self._shock_scale, self._max_sigma)
            shock = _bounded(s * shocks[i] + jumps[i] * self._shock_scale, self._max_move)
            returns[i] = drift * self._drift_scale - 0.5 * s * s + shock
            if self._edge:  # the planted edge: the previous bar's large shock is taken back
                returns[i] -= previous
                # only the shock is reversed, never a reversal itself (no ping-pong between bars)
                previous = EDGE_REVERSAL * shock if abs(shock) > EDGE_THRESHOLD * s else 0.0
            sigma[i] = s
            # The variance feeds on the bar's own innovation (not the regime's scaling, so it stays
            # stationary, a + b < 1, in every regime); a jump adds a passing burst of volatility.
            last = var * shocks[i] * shocks[i] + jumps[i] * jumps[i]
        self._var, self._last_innovation, self._regime, self._reversal_due = var, last, regime, previous

        log_close = self._log_price + np.cumsum(returns)
        log_open = np.concatenate([[self._log_price], log_close[:-1]])
        self._log_price = float(log_close[-1]) if n else self._log_price
        # Exact max/min of a Brownian bridge from 0 to r with variance s^2 over the bar.
        s2 = sigma**2
        up = 0.5 * (returns + np.sqrt(returns**2 - 2 * s2 * np.log1p(-u_high)))
        down = 0.5 * (returns - np.sqrt(returns**2 - 2 * s2 * np.log1p(-u_low)))
        high = np.exp(log_open + np.maximum(up, np.maximum(returns, 0.0)))
        low = np.exp(log_open + np.minimum(down, np.minimum(returns, 0.0)))
        open_ = np.exp(log_open)
        close = np.exp(log_close)
        # Rounding in exp() must not put open or close a hair outside [low, high].
        high = np.maximum(high, np.maximum(open_, close))
        low = np.minimum(low, np.minimum(open_, close))
        base_sigma = math.sqrt(self._base_var)
        activity = 0.8 * (sigma / base_sigma - 1) + 0.5 * np.abs(returns) / base_sigma
        volume = self._volume_per_bar * np.exp(np.clip(activity, -2, 4) + volume_noise - 0.3)

        ts = self.next_ts + self.step * np.arange(n, dtype=np.float64)
        self.next_ts += self.step * n
        return np.column_stack([ts, open_, high, low, close, volume])


def simulate(symbol: str, timeframe: str, bars: int, seed: int, end: int | None = None) -> pd.DataFrame:
    """``bars`` simulated candles of ``symbol`` ending before ``end`` (epoch ms; default: the open of
    the current bar, so the last candle is the last closed one), as a store-format DataFrame."""
    if not 1 <= bars <= _MAX_BARS:
        raise UserInputError(f"invalid bar count {bars}: must be between 1 and {_MAX_BARS:,}")
    step = timeframe_ms(timeframe)
    end = floor_ts(now_ms() if end is None else end, timeframe)
    market = SimMarket(symbol, timeframe, seed, end - bars * step)
    return frame_from_matrix(market.bars(bars))
