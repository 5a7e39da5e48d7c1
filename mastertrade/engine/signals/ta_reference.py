"""pandas-ta's own computation of the indicators :mod:`.formulas` computes on compiled kernels: what the
agreement tests in ``tests/signals`` hold the kernels to, and the baseline ``benchmarks/indicators.py``
times them against. Nothing in the product calls it.

Each function has the signature of a formula (candle frame and parameters in, {output: array-like or
None} out) and is the call the catalogue made before the kernels (``talib=False``; NATR as 100 * ATR /
close, see :mod:`.indicators`). CCI has none: pandas-ta's is wrong (see :mod:`.formulas`)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import pandas as pd

from mastertrade.engine.signals.formulas import column_of, ta
from mastertrade.engine.signals.specs import SINGLE


def sma(frame: pd.DataFrame, p: Mapping[str, Any]) -> Mapping[str, Any]:
    return {SINGLE: ta().sma(frame["close"], length=p["length"], talib=False)}


def ema(frame: pd.DataFrame, p: Mapping[str, Any]) -> Mapping[str, Any]:
    return {SINGLE: ta().ema(frame["close"], length=p["length"], talib=False)}


def rsi(frame: pd.DataFrame, p: Mapping[str, Any]) -> Mapping[str, Any]:
    return {SINGLE: ta().rsi(frame["close"], length=p["length"], talib=False)}


def macd(frame: pd.DataFrame, p: Mapping[str, Any]) -> Mapping[str, Any]:
    result = ta().macd(frame["close"], fast=p["fast"], slow=p["slow"], signal=p["signal"], talib=False)
    return {
        "line": column_of(result, "MACD_"),
        "signal": column_of(result, "MACDs_"),
        "hist": column_of(result, "MACDh_"),
    }


def bbands(frame: pd.DataFrame, p: Mapping[str, Any]) -> Mapping[str, Any]:
    result = ta().bbands(
        frame["close"], length=p["length"], lower_std=p["std"], upper_std=p["std"], ddof=0, talib=False
    )
    return {
        "upper": column_of(result, "BBU_"),
        "mid": column_of(result, "BBM_"),
        "lower": column_of(result, "BBL_"),
        "percent_b": column_of(result, "BBP_"),
    }


def _atr(frame: pd.DataFrame, length: int) -> Any:
    return ta().atr(frame["high"], frame["low"], frame["close"], length=length, talib=False)


def atr(frame: pd.DataFrame, p: Mapping[str, Any]) -> Mapping[str, Any]:
    return {SINGLE: _atr(frame, p["length"])}


def natr(frame: pd.DataFrame, p: Mapping[str, Any]) -> Mapping[str, Any]:
    values = _atr(frame, p["length"])
    return {SINGLE: None if values is None else 100.0 * values / frame["close"]}


def adx(frame: pd.DataFrame, p: Mapping[str, Any]) -> Mapping[str, Any]:
    result = ta().adx(frame["high"], frame["low"], frame["close"], length=p["length"], talib=False)
    return {
        "adx": column_of(result, "ADX_"),
        "plus_di": column_of(result, "DMP_"),
        "minus_di": column_of(result, "DMN_"),
    }


def stoch(frame: pd.DataFrame, p: Mapping[str, Any]) -> Mapping[str, Any]:
    result = ta().stoch(
        frame["high"], frame["low"], frame["close"], k=p["k"], d=p["d"], smooth_k=p["smooth_k"], talib=False
    )
    return {"k": column_of(result, "STOCHk_"), "d": column_of(result, "STOCHd_")}


def roc(frame: pd.DataFrame, p: Mapping[str, Any]) -> Mapping[str, Any]:
    return {SINGLE: ta().roc(frame["close"], length=p["length"], talib=False)}


def donchian(frame: pd.DataFrame, p: Mapping[str, Any]) -> Mapping[str, Any]:
    length = p["length"]
    result = ta().donchian(frame["high"], frame["low"], lower_length=length, upper_length=length)
    return {
        "upper": column_of(result, "DCU_"),
        "mid": column_of(result, "DCM_"),
        "lower": column_of(result, "DCL_"),
    }


def vwma(frame: pd.DataFrame, p: Mapping[str, Any]) -> Mapping[str, Any]:
    return {SINGLE: ta().vwma(frame["close"], frame["volume"], length=p["length"])}


def obv(frame: pd.DataFrame, p: Mapping[str, Any]) -> Mapping[str, Any]:
    return {SINGLE: ta().obv(frame["close"], frame["volume"], talib=False)}


def vwap(frame: pd.DataFrame, p: Mapping[str, Any]) -> Mapping[str, Any]:
    if len(frame) < 2:  # pandas-ta refuses (and prints to stdout) below two bars
        return {SINGLE: None}
    with warnings.catch_warnings():  # "converting to PeriodArray drops the timezone"; pandas-ta also
        warnings.simplefilter("ignore", UserWarning)  # silences UserWarnings process-wide in here
        result = ta().vwap(frame["high"], frame["low"], frame["close"], frame["volume"], anchor="D")
    return {SINGLE: result}


PANDAS_TA = {
    "sma": sma,
    "ema": ema,
    "rsi": rsi,
    "macd": macd,
    "bbands": bbands,
    "atr": atr,
    "natr": natr,
    "adx": adx,
    "stoch": stoch,
    "roc": roc,
    "donchian": donchian,
    "vwma": vwma,
    "obv": obv,
    "vwap": vwap,
}
"""The pandas-ta computation of each indicator that has one worth comparing with, by catalogue name."""
