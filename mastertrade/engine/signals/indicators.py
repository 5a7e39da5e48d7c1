"""The indicator catalogue and the cache that shares the indicators among genomes.

Every indicator is a :class:`~mastertrade.engine.signals.specs.SeriesSpec` (parameters, outputs,
warm-up) plus a function from the candle frame to its output arrays (:mod:`.formulas`: pandas-ta's
definitions on compiled kernels). :class:`IndicatorCache` is built
over one candle DataFrame and computes each (indicator, parameters) at most once, returning float64
arrays with NaN during warm-up, so the thousands of genomes of a generator run share the work.

Catalogue (``output`` names in brackets; single-output indicators take no ``output``):

========== ============================== ==================================================
name       parameters (default)           definition
========== ============================== ==================================================
sma        length (20)                    simple moving average of close
ema        length (20)                    exponential moving average of close, seeded with the SMA
rsi        length (14)                    Wilder's RSI (RMA of gains and losses), 0..100
macd       fast (12) slow (26) signal (9) [line, signal, hist] EMA(fast) - EMA(slow), its EMA, their gap
bbands     length (20) std (2.0)          [upper, mid, lower, percent_b] SMA +/- std population deviations
atr        length (14)                    Wilder's average true range
natr       length (14)                    100 * ATR / close (the same RMA as ``atr``)
adx        length (14)                    [adx, plus_di, minus_di] Wilder's directional movement
stoch      k (14) d (3) smooth_k (3)      [k, d] slow stochastic, 0..100
cci        length (20)                    (typical price - its SMA) / (0.015 * mean absolute deviation)
roc        length (10)                    rate of change of close over ``length`` bars, percent
obv        -                              on-balance volume
donchian   length (20)                    [upper, mid, lower] highest high / lowest low of ``length`` bars
vwap       -                              session VWAP of the typical price, sessions are UTC days
vwma       length (20)                    rolling volume-weighted average of close over ``length`` bars
========== ============================== ==================================================

Choices and pandas-ta quirks, so nobody trips on them twice (:mod:`.formulas` lists where our
kernels and pandas-ta part, and why):

- ``talib=False`` always: results must not depend on whether TA-Lib happens to be installed.
- pandas-ta returns ``None`` when the frame is shorter than the indicator needs, and so do the
  formulas; the cache turns that into all-NaN arrays (a truncated frame must behave like the start of
  a long one).
- Warm-up: pandas-ta returns ``None`` below a minimum length that is often longer than the NaN
  prefix of a long series (ATR needs ``length + 1`` bars, Stochastic ``k + d + smooth_k``, VWAP two),
  so a value would appear at bar t on a long series but not on the same series cut after t. Each
  spec's ``warmup`` therefore masks every bar before pandas-ta's minimum, and all outputs of an
  indicator share one warm-up. The no-lookahead test found these; keep it running for new indicators.
- CCI: pandas-ta 0.4.71b0 computes ``tp - sma / (c * mad)`` (an operator-precedence bug) with a slow
  Python rolling apply, so ``cci`` is the textbook formula on compiled rolling means and mean
  absolute deviations.
- NATR: pandas-ta smooths NATR with an EMA but ATR with Wilder's RMA; ``natr`` is 100 * our ``atr`` /
  close so the two agree.
- Bollinger bands use the population standard deviation (ddof 0), as Bollinger defines them.
- VWAP: pandas-ta anchors the cumulative sums at each session start (``anchor="D"``: UTC days) and
  needs a DatetimeIndex; within a session the value at bar t uses bars up to t only, so there is no
  lookahead. For daily or longer bars each bar is its own session (VWAP = typical price); use ``vwma``
  for a rolling volume-weighted average there.
- Lookahead-prone pandas-ta options (``offset``, ADX ``tvmode``, centred indicators) are never used.

Add an indicator with :func:`register_indicator`; the genome grammar picks it up with no other change.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable, Mapping, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mastertrade.engine.signals import formulas
from mastertrade.engine.signals.bounded import BoundedLRU, View
from mastertrade.engine.signals.specs import (
    OSCILLATOR,
    PRICE,
    SINGLE,
    Output,
    Param,
    ParamError,
    Params,
    ParamValue,
    SeriesSpec,
    validate_output,
    validate_params,
)
from mastertrade.errors import DataValidationError, OperationFailed, UserInputError

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from mastertrade.engine.signals.features import FeatureProvider

    FloatArray = NDArray[np.float64]

Compute = Callable[[pd.DataFrame, Mapping[str, Any]], Mapping[str, Any]]
"""From the candle frame and validated parameters to {output name: array-like or None}."""

PRICE_COLUMNS = ("open", "high", "low", "close", "volume")

INDICATORS: dict[str, SeriesSpec] = {}
_COMPUTE: dict[str, Compute] = {}
_KERNEL: set[str] = set()
_ONE_AT_A_TIME = threading.RLock()
"""Held while an indicator that is not ``kernel`` computes: plugins are not known to be safe on several
threads at once."""


def register_indicator(spec: SeriesSpec, compute: Compute, *, kernel: bool = False) -> None:
    """Make ``spec.name`` usable in genomes as ``{"ind": name, ...}`` and through the cache.

    ``compute`` must be causal: its value at bar t may use bars 0..t only. The no-lookahead test in
    ``tests/signals`` runs every registered indicator through random genomes, so a leak shows up there.
    ``kernel``: ``compute`` is safe on several threads at once and the numpy arrays it returns are new
    and referenced nowhere else, so the cache keeps them without a copy (the formulas on our compiled
    kernels); other indicators compute one at a time and their outputs are copied.
    """
    if not spec.outputs:
        raise ValueError(f"indicator {spec.name} declares no outputs")
    INDICATORS[spec.name] = spec
    _COMPUTE[spec.name] = compute
    if kernel:
        _KERNEL.add(spec.name)
    else:
        _KERNEL.discard(spec.name)


def indicator_spec(name: str) -> SeriesSpec:
    try:
        return INDICATORS[name]
    except KeyError:
        raise ParamError(
            None, f"unknown indicator {name!r} (known: {', '.join(sorted(INDICATORS))})"
        ) from None


class IndicatorCache:
    """Indicators of one candle series, each computed once and shared by every genome evaluated on it.

    ``frame`` is in the store format: a UTC DatetimeIndex, float columns open high low close volume,
    oldest bar first. Arrays handed out are float64, read-only, of the frame's length, NaN in warm-up.
    ``features`` supplies alternative-data series (sentiment, fear & greed) for ``{"feature": ...}``
    terms; see :mod:`mastertrade.engine.signals.features`.

    ``memo`` is a scratch dictionary for derived arrays (lagged terms, conditions) that callers key
    themselves; ``computations`` counts the indicator computations actually run.

    ``max_bytes`` bounds the memory of the computed outputs and the memo together (least recently used
    evicted first, :mod:`.bounded`); an evicted indicator is computed again when asked for, to the same
    bits. None (the default) keeps everything.

    Indicators and features may be asked for from several threads (a lock guards the store; two
    threads asking for the same missing indicator both compute it, to the same bits); :meth:`warm`
    computes a batch of them on several threads. ``memo`` is not locked: one thread at a time.
    """

    def __init__(
        self, frame: pd.DataFrame, *, features: FeatureProvider | None = None, max_bytes: int | None = None
    ) -> None:
        _check_frame(frame)
        self._length = len(frame)
        self._features = features
        self._prices = {column: _frozen(frame[column].to_numpy(dtype=np.float64)) for column in PRICE_COLUMNS}
        # pandas-ta gets its own frame of C-contiguous float64 columns: its numba kernels compile (and
        # cache on disk) one specialisation per array layout, and a view of a 2-D block is another one.
        self._frame = formulas.Candles(
            {column: np.array(self._prices[column]) for column in PRICE_COLUMNS}, index=frame.index
        )
        self._frame.prices = self._prices
        self._store = BoundedLRU(max_bytes)
        self._lock = threading.Lock()
        self._outputs = View(self._store, "outputs")
        self.memo: MutableMapping[Hashable, Any] = View(self._store, "memo")
        self.computations = 0

    @property
    def features(self) -> FeatureProvider | None:
        """The provider of alternative-data terms (None: feature terms read as missing)."""
        return self._features

    @property
    def frame(self) -> pd.DataFrame:
        """The candles (the price columns only, as float64)."""
        return self._frame

    @property
    def index(self) -> pd.DatetimeIndex:
        index = self._frame.index
        assert isinstance(index, pd.DatetimeIndex)
        return index

    def __len__(self) -> int:
        return self._length

    def price(self, column: str) -> FloatArray:
        """One of open, high, low, close, volume as a float64 array."""
        try:
            return self._prices[column]
        except KeyError:
            raise UserInputError(
                f"unknown price column {column!r} (known: {', '.join(PRICE_COLUMNS)})"
            ) from None

    def indicator(self, name: str, output: str | None = None, **params: ParamValue) -> FloatArray:
        """An indicator output by name, for plugins and scripts: ``cache.indicator("rsi", length=14)``,
        ``cache.indicator("macd", "hist", fast=12, slow=26, signal=9)``. Parameters are validated and
        defaults filled in as in a genome; a bad one raises ``UserInputError``."""
        try:
            spec = indicator_spec(name)
            validated = validate_params(spec, params)
            chosen = validate_output(spec, output)
        except ParamError as exc:
            where = f"{name}.{exc.field}: " if exc.field else ""
            raise UserInputError(f"{where}{exc.message}") from None
        return self.indicator_output(name, validated, chosen)

    def indicator_output(self, name: str, params: Params, output: str | None) -> FloatArray:
        """An output of an indicator whose parameters are already validated (the genome path)."""
        key = ("ind", name, params)
        with self._lock:
            outputs = self._outputs.get(key)
        if outputs is None:
            outputs = self._computed(name, params)
            self._keep(key, outputs)
        return outputs[output or SINGLE]

    def warm(self, requests: Iterable[tuple[str, Params]], *, threads: int = 1) -> None:
        """Compute the indicators among ``requests`` (name, validated parameters) that the cache lacks,
        on up to ``threads`` threads: the kernels release the GIL, so a batch's indicators take both
        cores. They are stored in the order asked whatever the thread count, so the cache holds (and
        evicts) the same entries either way. The first failure is raised once the others are stored."""
        missing: list[tuple[str, Params]] = []
        seen: set[tuple[str, Params]] = set()
        with self._lock:
            for request in requests:
                if request not in seen:
                    seen.add(request)
                    if self._outputs.get(("ind", *request)) is None:
                        missing.append(request)
        if not missing:
            return

        def attempt(request: tuple[str, Params]) -> dict[str, FloatArray] | Exception:
            try:
                return self._computed(*request)
            except Exception as exc:  # raised below, after the others are stored
                return exc

        failure: Exception | None = None
        workers = min(threads, len(missing))
        pool = ThreadPoolExecutor(workers, thread_name_prefix="indicators") if workers > 1 else None
        try:
            results = pool.map(attempt, missing) if pool is not None else map(attempt, missing)
            for (name, params), result in zip(missing, results, strict=True):
                if isinstance(result, Exception):
                    failure = failure or result
                else:
                    self._keep(("ind", name, params), result)
        finally:
            if pool is not None:
                pool.shutdown()
        if failure is not None:
            raise failure

    def feature_output(self, name: str, params: Params, output: str | None) -> FloatArray:
        """An output of a registered feature, from the provider given at construction."""
        key = ("feature", name, params)
        with self._lock:
            outputs = self._outputs.get(key)
        if outputs is None:
            from mastertrade.engine.signals.features import feature_spec

            spec = feature_spec(name)
            if self._features is None:
                raise OperationFailed(
                    f"feature {name!r} needs alternative data, and none was loaded for this series"
                )
            raw = self._features(name, dict(params), self._frame)
            outputs = self._finish(spec, params, raw, f"feature {name}")
            with self._lock:
                self._outputs[key] = outputs
        return outputs[output or SINGLE]

    def lagged(self, values: FloatArray, lag: int) -> FloatArray:
        """``values`` delayed by ``lag`` bars: element t is ``values[t - lag]``, NaN for the first ``lag``."""
        if lag == 0:
            return values
        shifted = np.full(self._length, np.nan)
        if lag < self._length:
            shifted[lag:] = values[: self._length - lag]
        return _frozen(shifted)

    def _computed(self, name: str, params: Params) -> dict[str, FloatArray]:
        """The outputs of one indicator, computed now (the store is not touched: any thread may)."""
        spec = INDICATORS[name]
        if self._length == 0:
            raw: Mapping[str, Any] = {out.name: None for out in spec.outputs}
        elif name in _KERNEL:
            raw = _COMPUTE[name](self._frame, dict(params))
        else:
            with _ONE_AT_A_TIME:
                raw = _COMPUTE[name](self._frame, dict(params))
        return self._finish(spec, params, raw, f"indicator {name}", fresh=name in _KERNEL)

    def _keep(self, key: Hashable, outputs: dict[str, FloatArray]) -> None:
        with self._lock:
            self._outputs[key] = outputs
            self.computations += 1

    def _finish(
        self, spec: SeriesSpec, params: Params, raw: Mapping[str, Any], what: str, *, fresh: bool = False
    ) -> dict[str, FloatArray]:
        warmup = min(spec.warmup(dict(params)), self._length)
        outputs: dict[str, FloatArray] = {}
        for out in spec.outputs:
            value = raw.get(out.name)
            array: FloatArray
            if value is None:
                array = np.full(self._length, np.nan)
            else:
                owned = fresh and type(value) is np.ndarray and value.dtype == np.float64
                if owned and value.flags.writeable:
                    array = value
                else:
                    array = np.array(value, dtype=np.float64)  # a copy: never share pandas' buffers
                if array.shape != (self._length,):
                    raise OperationFailed(
                        f"{what} returned {array.shape[0] if array.ndim else 0} values for "
                        f"{self._length} bars"
                    )
                array[~np.isfinite(array)] = np.nan
            array[:warmup] = np.nan
            outputs[out.name] = _frozen(array)
        return outputs


def precompile(on_indicator: Callable[[str], None] | None = None) -> None:
    """Compute every indicator once on a small made-up series, so our kernels (:mod:`.kernels`) compile
    (or load from numba's on-disk cache) now rather than in the first backtest. The formulas hand every
    kernel read-only C-contiguous float64 arrays, Python ints and floats (and VWAP an int64 array of
    sessions), whatever the input, so these are the specialisations real series use. ``mt init`` or a
    first ``mt backtest`` can call it; later processes load in ms."""
    bars = 128
    rng = np.random.default_rng(0)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, bars)))
    opens = np.concatenate([close[:1], close[:-1]])
    frame = pd.DataFrame(
        {
            "open": opens,
            "high": np.maximum(opens, close) * 1.001,
            "low": np.minimum(opens, close) * 0.999,
            "close": close,
            "volume": rng.uniform(1.0, 10.0, bars),
        },
        index=pd.date_range("2024-01-01", periods=bars, freq="h", tz="UTC", name="time"),
    )
    cache = IndicatorCache(frame)
    for name, spec in INDICATORS.items():
        cache.indicator_output(
            name, validate_params(spec, {}), spec.outputs[0].name if spec.multi_output else None
        )
        if on_indicator is not None:
            on_indicator(name)  # progress for ``mt init``: each one can take seconds cold


def _frozen(array: FloatArray) -> FloatArray:
    array = np.ascontiguousarray(array, dtype=np.float64)
    array.flags.writeable = False
    return array


def _check_frame(frame: pd.DataFrame) -> None:
    missing = [column for column in PRICE_COLUMNS if column not in frame.columns]
    if missing:
        raise DataValidationError(f"candle frame lacks column(s) {', '.join(missing)}")
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise DataValidationError("candle frame must have a DatetimeIndex (the bar open times)")
    if not frame.index.is_monotonic_increasing or not frame.index.is_unique:
        raise DataValidationError("candle frame index must be strictly increasing")


def _length(default: int, sample: tuple[int, int], low: int = 2, high: int = 1000) -> Param:
    return Param("length", "int", default, low, high, sample=sample, doc="bars in the window")


def _single(label: str, scale: str, thresholds: tuple[float, float] | None = None) -> tuple[Output, ...]:
    return (Output(SINGLE, label, scale, thresholds),)


def _macd_check(p: Mapping[str, Any]) -> tuple[str, str] | None:
    if p["fast"] >= p["slow"]:
        return "slow", f"must be greater than fast ({p['fast']}) (got {p['slow']})"
    return None


def _register_catalogue() -> None:
    register_indicator(
        SeriesSpec(
            "sma",
            "SMA",
            "simple moving average of close",
            (_length(20, (5, 200)),),
            _single("SMA", PRICE),
            warmup=lambda p: p["length"] - 1,
        ),
        formulas.sma,
        kernel=True,
    )
    register_indicator(
        SeriesSpec(
            "ema",
            "EMA",
            "exponential moving average of close",
            (_length(20, (5, 200)),),
            _single("EMA", PRICE),
            warmup=lambda p: p["length"] - 1,
        ),
        formulas.ema,
        kernel=True,
    )
    register_indicator(
        SeriesSpec(
            "rsi",
            "RSI",
            "Wilder's relative strength index, 0..100",
            (_length(14, (5, 30), high=500),),
            _single("RSI", OSCILLATOR, (20, 80)),
            warmup=lambda p: p["length"],
        ),
        formulas.rsi,
        kernel=True,
    )
    register_indicator(
        SeriesSpec(
            "macd",
            "MACD",
            "moving average convergence/divergence: EMA(fast) - EMA(slow), its signal EMA and their gap",
            (
                Param("fast", "int", 12, 2, 500, sample=(5, 20), doc="fast EMA length"),
                Param("slow", "int", 26, 3, 1000, sample=(20, 60), doc="slow EMA length (> fast)"),
                Param("signal", "int", 9, 2, 500, sample=(5, 15), doc="signal EMA length"),
            ),
            (
                Output("line", "line", "macd", (0, 0)),
                Output("signal", "signal line", "macd", (0, 0)),
                Output("hist", "histogram", "macd", (0, 0)),
            ),
            warmup=lambda p: p["slow"] + p["signal"] - 2,
            check=_macd_check,
        ),
        formulas.macd,
        kernel=True,
    )
    register_indicator(
        SeriesSpec(
            "bbands",
            "Bollinger",
            "Bollinger bands: SMA(length) +/- std population standard deviations; %b locates close in them",
            (
                _length(20, (10, 50)),
                Param("std", "float", 2.0, 0.5, 5.0, sample=(1.5, 3.0), doc="band width in deviations"),
            ),
            (
                Output("upper", "upper band", PRICE),
                Output("mid", "middle band", PRICE),
                Output("lower", "lower band", PRICE),
                Output("percent_b", "%b", "percent_b", (0.0, 1.0)),
            ),
            warmup=lambda p: p["length"] - 1,
        ),
        formulas.bbands,
        kernel=True,
    )
    register_indicator(
        SeriesSpec(
            "atr",
            "ATR",
            "Wilder's average true range, in price units",
            (_length(14, (5, 50), high=500),),
            _single("ATR", "atr"),
            warmup=lambda p: p["length"],
        ),
        formulas.atr,
        kernel=True,
    )
    register_indicator(
        SeriesSpec(
            "natr",
            "NATR",
            "ATR as a percentage of close",
            (_length(14, (5, 50), high=500),),
            _single("NATR", "natr", (0.2, 3.0)),
            warmup=lambda p: p["length"],
        ),
        formulas.natr,
        kernel=True,
    )
    register_indicator(
        SeriesSpec(
            "adx",
            "ADX",
            "Wilder's average directional index and directional indicators, 0..100",
            (_length(14, (7, 30), high=500),),
            (
                Output("adx", "ADX", OSCILLATOR, (15, 40)),
                Output("plus_di", "+DI", OSCILLATOR, (15, 40)),
                Output("minus_di", "-DI", OSCILLATOR, (15, 40)),
            ),
            warmup=lambda p: 2 * p["length"] - 1,
        ),
        formulas.adx,
        kernel=True,
    )
    register_indicator(
        SeriesSpec(
            "stoch",
            "Stochastic",
            "slow stochastic oscillator, 0..100",
            (
                Param("k", "int", 14, 2, 500, sample=(5, 30), doc="lookback of the %K range"),
                Param("d", "int", 3, 1, 100, sample=(2, 5), doc="SMA length of %D"),
                Param("smooth_k", "int", 3, 1, 100, sample=(1, 5), doc="SMA smoothing of %K"),
            ),
            (Output("k", "%K", OSCILLATOR, (20, 80)), Output("d", "%D", OSCILLATOR, (20, 80))),
            warmup=lambda p: p["k"] + p["smooth_k"] + p["d"] - 1,
        ),
        formulas.stoch,
        kernel=True,
    )
    register_indicator(
        SeriesSpec(
            "cci",
            "CCI",
            "commodity channel index",
            (_length(20, (10, 50)),),
            _single("CCI", "cci", (-200, 200)),
            warmup=lambda p: p["length"] - 1,
        ),
        formulas.cci,
        kernel=True,
    )
    register_indicator(
        SeriesSpec(
            "roc",
            "ROC",
            "rate of change of close, percent",
            (_length(10, (1, 50), low=1),),
            _single("ROC", "roc", (-5, 5)),
            warmup=lambda p: p["length"],
        ),
        formulas.roc,
        kernel=True,
    )
    register_indicator(
        SeriesSpec("obv", "OBV", "on-balance volume", (), _single("OBV", "obv"), warmup=lambda p: 1),
        formulas.obv,
        kernel=True,
    )
    register_indicator(
        SeriesSpec(
            "donchian",
            "Donchian",
            "Donchian channel: highest high and lowest low of the last length bars (this one included)",
            (_length(20, (10, 100)),),
            (
                Output("upper", "upper", PRICE),
                Output("mid", "middle", PRICE),
                Output("lower", "lower", PRICE),
            ),
            warmup=lambda p: p["length"] - 1,
        ),
        formulas.donchian,
        kernel=True,
    )
    register_indicator(
        SeriesSpec(
            "vwap", "VWAP", "session VWAP, UTC-day sessions", (), _single("VWAP", PRICE), warmup=lambda p: 1
        ),
        formulas.vwap,
        kernel=True,
    )
    register_indicator(
        SeriesSpec(
            "vwma",
            "VWMA",
            "rolling volume-weighted average of close",
            (_length(20, (5, 100)),),
            _single("VWMA", PRICE),
            warmup=lambda p: p["length"] - 1,
        ),
        formulas.vwma,
        kernel=True,
    )


_register_catalogue()

__all__ = [
    "INDICATORS",
    "PRICE_COLUMNS",
    "IndicatorCache",
    "indicator_spec",
    "precompile",
    "register_indicator",
]
