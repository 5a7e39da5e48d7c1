"""Stored features as columns beside a candle series (``mt data export --feature``), each value aligned
to the bars exactly as strategies see it (``align.py``: a value published at ``p`` is seen by bars that
open after ``p``, carried forward until it is too old, then empty)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from mastertrade.db.database import Database
from mastertrade.engine.collectors.provider import StoredFeatures, pick_source
from mastertrade.engine.collectors.store import FeatureStore
from mastertrade.engine.market.store import SeriesKey
from mastertrade.engine.signals import feature_catalog as catalog
from mastertrade.engine.signals.features import feature_spec
from mastertrade.engine.signals.specs import SINGLE, ParamError, Params
from mastertrade.errors import NotFound, UserInputError

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


def parse_feature(text: str) -> tuple[str, str | None]:
    """``NAME`` or ``NAME:SYMBOL`` (a base asset such as BTC)."""
    name, _, symbol = text.partition(":")
    name = name.strip()
    try:
        spec = feature_spec(name)
    except ParamError as exc:
        raise UserInputError(f"invalid --feature {text!r}: {exc}") from None
    takes_symbol = any(param.name == "symbol" for param in spec.params)
    if symbol and not takes_symbol:
        raise UserInputError(f"invalid --feature {text!r}: {name} is market-wide and takes no symbol")
    return name, (symbol.strip().upper() or None) if takes_symbol else None


async def applicable(db: Database, key: SeriesKey) -> list[tuple[str, str | None]]:
    """Every stored feature series a strategy on ``key`` could read: market-wide ones and those of the
    series' base asset (from the simulated source only for simulated candles, and the other way round)."""
    base = key.symbol.split("/")[0].upper()
    found: dict[tuple[str, str | None], None] = {}
    for item in await FeatureStore(db).list_features():
        if pick_source([item.source], catalog.AUTO, simulated=key.simulated) is None:
            continue
        if item.symbol in ("", base):
            try:
                feature_spec(item.name)
            except ParamError:  # a series no feature describes (a plugin no longer installed)
                continue
            found[(item.name, item.symbol or None)] = None
    return list(found)


async def feature_columns(
    db: Database, key: SeriesKey, frame: pd.DataFrame, wanted: Sequence[tuple[str, str | None]]
) -> dict[str, FloatArray]:
    """One column per wanted feature (named ``name`` or ``name:SYMBOL``), aligned to ``frame``'s bars."""
    requests: list[tuple[str, Params]] = [
        (name, (("symbol", symbol),) if symbol is not None else ()) for name, symbol in wanted
    ]
    provider = await StoredFeatures.load(
        db, requests, timeframe=key.timeframe, simulated=key.simulated, exchange=key.exchange
    )
    columns: dict[str, FloatArray] = {}
    for (name, symbol), (_, params) in zip(wanted, requests, strict=True):
        column = f"{name}:{symbol}" if symbol else name
        values = provider(name, dict(params), frame)[SINGLE]
        if values is None:
            where = "simulated" if key.simulated else "stored"
            raise NotFound(f"no {where} values of feature {column} (see `mt data sources`)")
        columns[column] = np.asarray(values, dtype=np.float64)
    return columns
