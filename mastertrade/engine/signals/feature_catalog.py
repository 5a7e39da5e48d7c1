"""The catalogue of features the collectors store, as genome terms (``{"feature": NAME, ...}``).

The feature registry (:mod:`mastertrade.engine.signals.features`) starts with every feature of this
catalogue (``catalogue_specs``), so genomes can use them, the random generator can draw them
(``features=True``) and ``describe`` can name them; plugins add theirs with ``register_feature``. The
catalogue lives with the signals, not the collectors: the genome grammar must know its terms without
importing the code that fetches their data. It imports nothing heavy.

Parameters of a feature term:

- ``symbol``: the base asset ("BTC") for per-asset series. Sentiment, mentions and bullish ratio also
  exist market-wide, which is their default (``""``); on-chain series default to "BTC".
- ``source`` (sentiment family only): "auto" (default) takes the first source that has the series
  (news, then reddit, then x), or name one. On simulated candles every feature comes from the
  simulated source ``sim``, whatever the term names.

Each output has its own scale, so the generator compares a feature only with constants from its
``thresholds`` or with its own lagged values, never with an unrelated series.
"""

from __future__ import annotations

from dataclasses import dataclass

from mastertrade.engine.signals.specs import SINGLE, Output, Param, SeriesSpec

AUTO = "auto"
SENTIMENT_SOURCES = (AUTO, "news", "reddit", "x")


@dataclass(frozen=True)
class FeatureDef:
    """One feature: its name, title, documentation, how it is keyed and its sensible constants."""

    name: str
    title: str
    doc: str
    symbol: str | None
    """Default symbol ("" market-wide); None when the feature has no symbol at all."""
    thresholds: tuple[float, float] | None = None
    choose_source: bool = False
    max_age_h: float = 6.0
    """How long a value stays usable after its publication (see ``align.py``); at least two bars."""


FEATURES: tuple[FeatureDef, ...] = (
    FeatureDef(
        "sentiment",
        "Sentiment",
        "Mean VADER compound score of news/posts, -1..1",
        "",
        (-0.3, 0.3),
        True,
        24.0,
    ),
    FeatureDef(
        "mentions", "Mentions", "News items or posts mentioning the symbol per bucket", "", None, True, 24.0
    ),
    FeatureDef(
        "bullish_ratio",
        "Bullish ratio",
        "Bullish share of opinionated items, 0..1",
        "",
        (0.3, 0.7),
        True,
        24.0,
    ),
    FeatureDef(
        "fear_greed",
        "Fear & Greed",
        "Crypto Fear & Greed Index, 0 extreme fear .. 100 greed",
        None,
        (15, 85),
        False,
        72.0,
    ),
    FeatureDef("fee_fast", "Fast fee", "Bitcoin fee for the next block, sat/vB", "BTC"),
    FeatureDef("fee_hour", "Hour fee", "Bitcoin fee to confirm within an hour, sat/vB", "BTC"),
    FeatureDef("mempool_tx", "Mempool transactions", "Bitcoin transactions waiting in the mempool", "BTC"),
    FeatureDef("mempool_vsize_mb", "Mempool size", "Virtual size of the Bitcoin mempool, MvB", "BTC"),
    FeatureDef("hash_rate", "Hash rate", "Daily average Bitcoin hash rate, EH/s", "BTC", max_age_h=72.0),
    FeatureDef(
        "hash_rate_24h",
        "Hash rate (24 h)",
        "Bitcoin hash rate over the last 24 h, EH/s",
        "BTC",
        max_age_h=72.0,
    ),
    FeatureDef(
        "tx_count_24h",
        "Transactions (24 h)",
        "Bitcoin transactions over the last 24 h",
        "BTC",
        max_age_h=72.0,
    ),
    FeatureDef(
        "fees_btc_24h", "Fees (24 h)", "Bitcoin fees paid over the last 24 h, BTC", "BTC", max_age_h=72.0
    ),
    FeatureDef(
        "whale_tx_count", "Whale transactions", "Transactions above the whale threshold per block", "BTC"
    ),
    FeatureDef(
        "whale_volume_usd", "Whale volume", "Dollar value moved by whale transactions per block", "BTC"
    ),
    FeatureDef("whale_max_usd", "Largest whale", "Largest whale transaction per block, USD", "BTC"),
    FeatureDef("spx", "S&P 500", "S&P 500 daily close", None, max_age_h=120.0),
    FeatureDef("nasdaq", "Nasdaq", "Nasdaq Composite daily close", None, max_age_h=120.0),
    FeatureDef("dxy", "Dollar index", "US dollar index daily close", None, max_age_h=120.0),
    FeatureDef(
        "active_addresses", "Active addresses", "Daily active addresses (Glassnode)", "BTC", max_age_h=72.0
    ),
    FeatureDef("tx_count", "Transactions", "Daily transactions (Glassnode)", "BTC", max_age_h=72.0),
    FeatureDef("token_transfers_per_hour", "Token transfers", "ERC-20 transfers per hour (Moralis)", "ETH"),
    FeatureDef("galaxy_score", "Galaxy Score", "LunarCrush Galaxy Score, 0..100", "BTC", (30, 70)),
    FeatureDef("alt_rank", "AltRank", "LunarCrush AltRank (1 is best)", "BTC"),
    FeatureDef(
        "social_sentiment", "Social sentiment", "LunarCrush share of positive posts, %", "BTC", (30, 90)
    ),
    FeatureDef("interactions_24h", "Interactions (24 h)", "LunarCrush social interactions, 24 h", "BTC"),
)


def spec_of(feature: FeatureDef) -> SeriesSpec:
    params: list[Param] = []
    if feature.symbol is not None:
        where = "market-wide when empty" if feature.symbol == "" else f"default {feature.symbol}"
        params.append(Param("symbol", "str", feature.symbol, doc=f"base asset ({where})"))
    if feature.choose_source:
        params.append(Param("source", "str", AUTO, choices=SENTIMENT_SOURCES, doc="which source's series"))
    output = Output(SINGLE, feature.title.lower(), f"feature:{feature.name}", thresholds=feature.thresholds)
    return SeriesSpec(feature.name, feature.title, feature.doc, params=tuple(params), outputs=(output,))


_BY_NAME = {feature.name: feature for feature in FEATURES}
DEFAULT_MAX_AGE_H = 24.0
"""Maximum age of a feature this catalogue does not describe (a plugin's)."""


def max_age_ms(name: str, bar_ms: int) -> int:
    """How long a value of feature ``name`` stays usable, for bars of ``bar_ms``: the feature's own
    maximum age, and never less than two bars."""
    feature = _BY_NAME.get(name)
    hours = feature.max_age_h if feature is not None else DEFAULT_MAX_AGE_H
    return max(int(hours * 3_600_000), 2 * bar_ms)


def catalogue_specs() -> tuple[SeriesSpec, ...]:
    """The genome-term specs of every feature above."""
    return tuple(spec_of(feature) for feature in FEATURES)
