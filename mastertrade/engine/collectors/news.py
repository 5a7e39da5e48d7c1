"""News and social sentiment collectors: RSS/Atom news feeds and Reddit's public listings.

Both fetch items, skip those already counted and feed the rest to ``SentimentBuckets`` (see
``sentiment.py``). One failing feed or subreddit does not fail the poll: the others still count, and
the failure shows as the source's reason. Only when every one of them fails is the poll a failure.
"""

from __future__ import annotations

import functools
from abc import abstractmethod
from collections.abc import Callable
from typing import Any

import httpx

from mastertrade.engine.collectors.base import (
    MINUTE_S,
    Collector,
    FeaturePoint,
    epoch_ms,
    expect,
    fetch,
    get_json,
)
from mastertrade.engine.collectors.feeds import parse_feed
from mastertrade.engine.collectors.sentiment import Item, SentimentBuckets, SymbolMatcher, score_function
from mastertrade.engine.market.timeframes import timeframe_ms
from mastertrade.errors import DataValidationError

REDDIT = "https://www.reddit.com"
REDDIT_LIMIT = 100
SELFTEXT_CHARS = 500


class SentimentCollector(Collector):
    """Shared part of the text sources: dedup, scoring, bucketing, partial failures."""

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.buckets = SentimentBuckets(timeframe_ms(settings.sentiment_bucket))
        self.matcher = SymbolMatcher(settings.symbol_aliases)
        self._score: Callable[[str], float] | None = None

    @abstractmethod
    def targets(self) -> list[str]:
        """The feeds or subreddits polled, each fetched on its own."""

    @abstractmethod
    async def fetch_items(self, client: httpx.AsyncClient, target: str) -> list[Item]:
        """The items one target lists now."""

    async def collect(self, client: httpx.AsyncClient, now: int) -> list[FeaturePoint]:
        items = await self.gather(
            [(target, functools.partial(self.fetch_items, client, target)) for target in self.targets()]
        )
        if self._score is None:
            self._score = score_function(self.settings)
        return self.buckets.add(items, now, self.matcher, self._score)

    def dump_state(self) -> dict[str, Any]:
        return self.buckets.dump()

    def load_state(self, state: dict[str, Any]) -> None:
        self.buckets.load(state)


class NewsCollector(SentimentCollector):
    name = "news"
    description = "Crypto news headlines (RSS/Atom feeds) scored with VADER + crypto lexicon, per symbol"
    default_interval_s = 10 * MINUTE_S
    default_timeout_s = 60.0

    def targets(self) -> list[str]:
        return list(self.settings.news_feeds)

    async def fetch_items(self, client: httpx.AsyncClient, target: str) -> list[Item]:
        response = await fetch(
            client, target, headers={"Accept": "application/rss+xml, application/atom+xml, application/xml"}
        )
        return parse_feed(response.content, httpx.URL(target).host or target)


class RedditCollector(SentimentCollector):
    name = "reddit"
    description = "Newest Reddit posts of the configured subreddits scored with VADER + crypto lexicon"
    default_interval_s = 10 * MINUTE_S
    default_timeout_s = 60.0

    def targets(self) -> list[str]:
        return list(self.settings.subreddits)

    async def fetch_items(self, client: httpx.AsyncClient, target: str) -> list[Item]:
        listing = await get_json(
            client,
            f"{REDDIT}/r/{target}/new.json",
            params={"limit": REDDIT_LIMIT, "raw_json": 1},
            headers={"User-Agent": self.settings.reddit_user_agent},
        )
        where = f"reddit r/{target}"
        expect(isinstance(listing, dict) and isinstance(listing.get("data"), dict), where, "no data object")
        children = listing["data"].get("children")
        expect(isinstance(children, list), where, "data.children is not a list")
        items = []
        for child in children:
            post = child.get("data") if isinstance(child, dict) else None
            if not isinstance(post, dict) or not post.get("title"):
                continue
            ident = str(post.get("name") or post.get("id") or post.get("permalink") or post["title"])
            created = post.get("created_utc")
            published = _created(created, where)
            title = str(post["title"])
            body = str(post.get("selftext") or "")[:SELFTEXT_CHARS].strip()
            # The subreddit's name counts as a mention (a post in r/solana is about SOL) but is not scored.
            items.append(
                Item(
                    id=f"reddit:{ident}",
                    text=f"{title}. {body}" if body else title,
                    published=published,
                    context=f"r/{post.get('subreddit') or target}",
                )
            )
        return items


def _created(value: Any, where: str) -> int | None:
    """A post's ``created_utc`` in epoch ms: a number of seconds, as Reddit documents, or the same as
    text, or milliseconds; None (the post counts at the poll's time) when it is none of those."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return epoch_ms(value, where, "created_utc")
    except DataValidationError:
        return None
