"""The forecast as a genome term: ``{"feature": "forecast", "model": "lstm_transformer", "horizon": 1}``.

A forecast series is stored in the feature store under source ``ml`` (``ml_sim`` for simulated
candles), name ``forecast:<model>:h<horizon>:<timeframe>@<exchange>`` and the market symbol
("BTC/USDT"): the exchange is part of the key because two exchanges' candles of one market are two
series, and a model trained on one makes forecasts of that one only (a strategy trading on exchange A
reads A's forecasts, never those of a model trained on B). The
value made at the close of bar t has ``ts`` = the bar's open and ``published_at`` = its close, so the
store's alignment rule (``collectors/align.py``: a value published at p serves only bars that open
after p) applies unchanged: the first signal that reads it is that of bar t + 2, filled at the open of
bar t + 3. Train with ``--horizon 3`` for a forecast whose window ends at the bar a strategy would trade.

The term's ``symbol`` defaults to "" (the strategy's own market). The term lives with the signals (the
genome grammar must know it without importing the models); ``features.FEATURES`` starts with it.
"""

from __future__ import annotations

from collections.abc import Mapping

from mastertrade.engine.signals.specs import SINGLE, Output, Param, ParamValue, SeriesSpec

FORECAST = "forecast"
SOURCE = "ml"
SIM_SOURCE = "ml_sim"
MAX_HORIZON = 48
FORECAST_MODELS = ("lstm_transformer", "lightgbm")
"""The models ``mt ml train`` trains (``ml.deps.FORECAST_MODULES`` names what each imports)."""


def series_name(model: str, horizon: int, timeframe: str, exchange: str) -> str:
    """The stored name of one forecast series (the exchange last: it is the only part with no fixed
    shape, and ``@`` never occurs in the others)."""
    return f"{FORECAST}:{model}:h{horizon}:{timeframe}@{exchange}"


def source(simulated: bool) -> str:
    return SIM_SOURCE if simulated else SOURCE


def forecast_ref(
    params: Mapping[str, ParamValue], *, market: str | None, timeframe: str, exchange: str | None
) -> tuple[str, str] | None:
    """(stored name, symbol) of a forecast term's series on the candles of ``exchange``; None when the
    market or the exchange is not known."""
    symbol = str(params.get("symbol", "")) or market
    if not symbol or not exchange:
        return None
    model = str(params.get("model", "lstm_transformer"))
    return series_name(model, int(params.get("horizon", 1)), timeframe, exchange), symbol


SPEC = SeriesSpec(
    FORECAST,
    "Forecast",
    "Walk-forward forecast of the log return over the next `horizon` bars (`mt ml train`)",
    params=(
        Param("model", "str", "lstm_transformer", choices=FORECAST_MODELS, doc="which model's forecast"),
        Param("horizon", "int", 1, low=1, high=MAX_HORIZON, sample=(1, 1), doc="bars ahead"),
        Param("symbol", "str", "", doc="market symbol (the strategy's own market when empty)"),
    ),
    outputs=(Output(SINGLE, "forecast", "feature:forecast", thresholds=(-0.003, 0.003)),),
)
