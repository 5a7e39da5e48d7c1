"""Sentiment of news and social posts: VADER with the crypto lexicon, mapped to symbols and aggregated
per symbol and time bucket.

Each item (a headline, a post) is scored once with VADER's compound score in [-1, 1] and counted for
every symbol it mentions (by the configured aliases, whole words, case-insensitive, cashtags included)
and for the market as a whole (symbol ""). A bucket of ``sentiment_bucket`` length stores three
features per symbol:

- ``sentiment``: mean compound score of the items in the bucket;
- ``mentions``: how many items mentioned the symbol;
- ``bullish_ratio``: bullish items (compound >= 0.05, VADER's own threshold) over bullish plus bearish
  ones (<= -0.05); 0.5 when every item was neutral.

Items are deduplicated by id across polls and restarts, so a re-poll never counts an item twice. An
item lands in the bucket of its own publication time (clamped to now), and the bucket's values are
published at the later of the bucket's end and the poll that last changed them: a strategy can use a
bucket only once it is complete, and a late item revises it only from the moment it was seen.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from mastertrade.engine.collectors.base import DAY_MS, FeaturePoint
from mastertrade.engine.collectors.lexicon import CRYPTO_LEXICON, normalise

BULLISH = 0.05
BEARISH = -0.05
SENTIMENT = "sentiment"
MENTIONS = "mentions"
BULLISH_RATIO = "bullish_ratio"
MARKET = ""
_MAX_SEEN = 5_000
_RETENTION_MS = 7 * DAY_MS


@dataclass(frozen=True, slots=True)
class Item:
    """One scored unit of text: a news headline with its summary, a post with its body."""

    id: str
    text: str
    published: int | None
    """Epoch ms when it was published, if the source says."""
    context: str = ""
    """Text that names symbols but is not scored (the subreddit a post is in)."""


class SentimentScorer:
    """VADER with the crypto lexicon merged over its own."""

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._analyzer = SentimentIntensityAnalyzer()
        self._analyzer.lexicon.update(CRYPTO_LEXICON)

    def score(self, text: str) -> float:
        """The compound score of ``text`` in [-1, 1]."""
        return float(self._analyzer.polarity_scores(normalise(text))["compound"])


class PlainVader:
    """VADER without the crypto lexicon, to show what the lexicon changes."""

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._analyzer = SentimentIntensityAnalyzer()

    def score(self, text: str) -> float:
        return float(self._analyzer.polarity_scores(text)["compound"])


@cache
def scorer() -> SentimentScorer:
    """The shared scorer (building one reads VADER's 7,500-word lexicon)."""
    return SentimentScorer()


class BlendedScorer:
    """VADER (with the crypto lexicon) and FinBERT blended: ``weight * finbert + (1 - weight) * vader``.
    Both scores lie in [-1, 1], so the blend does too and the bullish/bearish thresholds keep their sense."""

    def __init__(self, finbert: Callable[[str], float], weight: float, vader: Callable[[str], float]) -> None:
        self.finbert = finbert
        self.weight = weight
        self.vader = vader

    def score(self, text: str) -> float:
        return self.weight * self.finbert(text) + (1.0 - self.weight) * self.vader(text)


def scoring(settings: Any) -> str:
    """How items are scored under ``settings`` (the [collectors] section), in words."""
    folder = getattr(settings, "finbert_model_dir", None)
    if folder is None:
        return "VADER alone (no [collectors] finbert_model_dir)"
    from mastertrade.engine.collectors.finbert import missing_files

    problem = missing_files(folder) or _load_problem(folder)
    if problem is not None:  # asked for, so never skipped: the collectors that score text fail instead
        return (
            f"FinBERT asked for but unusable ({folder}: {problem}): the news and Reddit collectors fail"
            " until [collectors] finbert_model_dir names a model folder or is removed"
        )
    weight = float(settings.finbert_weight)
    return f"FinBERT {weight:.0%} + VADER {1 - weight:.0%} (FinBERT from {folder})"


def _load_problem(folder: Any) -> str | None:
    """Why the model folder ``folder``, whose files are all there, does not load (None: it loads). Loaded
    as the collectors load it (once per process): a model.onnx that does not load, a config.json without
    FinBERT's labels, a model of another shape or a missing library are said here, not only when the
    first headline is scored."""
    from mastertrade.engine.collectors.finbert import load
    from mastertrade.errors import MasterTradeError

    try:
        load(str(folder))
    except MasterTradeError as exc:
        path = Path(folder).expanduser()
        return str(exc).removeprefix(f"finbert_model_dir {path}: ").removeprefix(f"{path}/")
    return None


def score_function(settings: Any) -> Callable[[str], float]:
    """The scorer ``settings`` ask for: VADER alone, or blended with FinBERT when a model folder is set
    (a folder that does not load raises ConfigError: FinBERT was asked for, so it is never skipped)."""
    folder = getattr(settings, "finbert_model_dir", None)
    if folder is None:
        return scorer().score
    from mastertrade.engine.collectors.finbert import load

    return BlendedScorer(load(str(folder)).score, float(settings.finbert_weight), scorer().score).score


class SymbolMatcher:
    """Finds which configured symbols a text mentions."""

    def __init__(self, aliases: Mapping[str, Sequence[str]]) -> None:
        self._patterns: list[tuple[str, re.Pattern[str]]] = []
        for symbol, names in aliases.items():
            words = {symbol.lower(), *(name.lower().lstrip("$") for name in names if name.strip())}
            alternation = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
            # Whole words only: "eth" must not match "method", "sol" not "solid"; "$BTC" still counts.
            self._patterns.append((symbol.upper(), re.compile(rf"(?<![\w])(?:{alternation})(?![\w])", re.I)))

    def symbols(self, text: str) -> list[str]:
        return [symbol for symbol, pattern in self._patterns if pattern.search(text)]


class SentimentBuckets:
    """Per-bucket aggregates and the ids already counted: the private state of a sentiment collector."""

    def __init__(
        self, bucket_ms: int, *, retention_ms: int = _RETENTION_MS, max_seen: int = _MAX_SEEN
    ) -> None:
        self.bucket_ms = bucket_ms
        self.retention_ms = retention_ms
        self.max_seen = max_seen
        self._seen: dict[str, None] = {}
        # bucket open time -> symbol -> [count, sum of compound, bullish, bearish]
        self._buckets: dict[int, dict[str, list[float]]] = {}

    def add(
        self,
        items: Iterable[Item],
        now: int,
        matcher: SymbolMatcher,
        score: Callable[[str], float] | None = None,
    ) -> list[FeaturePoint]:
        """Count the items not seen before; return the three features of every bucket they touched."""
        score_fn = score or scorer().score
        touched: set[tuple[int, str]] = set()
        horizon = now - self.retention_ms
        for item in items:
            if item.id in self._seen:
                continue
            self._remember(item.id)
            published = now if item.published is None else min(item.published, now)
            if published < horizon:
                continue
            bucket = published - published % self.bucket_ms
            compound = score_fn(item.text)
            mentioned = matcher.symbols(f"{item.text} {item.context}" if item.context else item.text)
            for symbol in [MARKET, *mentioned]:
                totals = self._buckets.setdefault(bucket, {}).setdefault(symbol, [0.0, 0.0, 0.0, 0.0])
                totals[0] += 1
                totals[1] += compound
                totals[2] += compound >= BULLISH
                totals[3] += compound <= BEARISH
                touched.add((bucket, symbol))
        self._forget_before(horizon)
        points: list[FeaturePoint] = []
        for bucket, symbol in sorted(touched):
            count, total, bullish, bearish = self._buckets[bucket][symbol]
            published_at = max(bucket + self.bucket_ms, now)
            polar = bullish + bearish
            for name, value in (
                (SENTIMENT, total / count),
                (MENTIONS, count),
                (BULLISH_RATIO, bullish / polar if polar else 0.5),
            ):
                points.append(FeaturePoint(name, float(value), bucket, published_at, symbol))
        return points

    def _remember(self, item_id: str) -> None:
        self._seen[item_id] = None
        if len(self._seen) > self.max_seen:
            for old in list(self._seen)[: len(self._seen) - self.max_seen]:
                del self._seen[old]

    def _forget_before(self, horizon: int) -> None:
        for bucket in [b for b in self._buckets if b + self.bucket_ms < horizon]:
            del self._buckets[bucket]

    def dump(self) -> dict[str, Any]:
        return {
            "bucket_ms": self.bucket_ms,
            "seen": list(self._seen),
            "buckets": {str(bucket): totals for bucket, totals in self._buckets.items()},
        }

    def load(self, state: Mapping[str, Any]) -> None:
        """Restore a dumped state; anything malformed (or of another bucket size) is ignored."""
        try:
            seen = [str(item) for item in state.get("seen", [])][-self.max_seen :]
            buckets: dict[int, dict[str, list[float]]] = {}
            if state.get("bucket_ms") == self.bucket_ms:
                for key, symbols in dict(state.get("buckets", {})).items():
                    buckets[int(key)] = {
                        str(symbol): [float(v) for v in totals][:4]
                        for symbol, totals in dict(symbols).items()
                    }
                    if any(len(totals) != 4 for totals in buckets[int(key)].values()):
                        raise ValueError("bad totals")
        except (TypeError, ValueError, AttributeError):
            return
        self._seen = dict.fromkeys(seen)
        self._buckets = buckets
