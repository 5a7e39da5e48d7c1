"""Sentiment of posts on X (Twitter) (needs ``collectors.x_bearer_token``; disabled without it).

``GET https://api.x.com/2/tweets/search/recent?query=...&max_results=100&tweet.fields=created_at``
with ``Authorization: Bearer <token>`` answers ``{"data": [{"id": "1720000000000000001", "text":
"...", "created_at": "2023-11-02T10:00:00.000Z", "edit_history_tweet_ids": [...]}], "meta":
{"newest_id": ..., "oldest_id": ..., "result_count": 100, "next_token": ...}}``, or only
``{"meta": {"result_count": 0}}`` when nothing matched. One query per symbol (its aliases, English,
no retweets); posts are scored and bucketed like news and Reddit (``sentiment``, ``mentions``,
``bullish_ratio`` under source ``x``).
"""

from __future__ import annotations

import httpx

from mastertrade.engine.collectors.base import MINUTE_S, expect, get_json
from mastertrade.engine.collectors.news import SentimentCollector
from mastertrade.engine.collectors.sentiment import Item
from mastertrade.utc import parse_iso, to_ms

URL = "https://api.x.com/2/tweets/search/recent"
MAX_RESULTS = 100


def _iso_ms(value: object) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return to_ms(parse_iso(value))
    except ValueError:
        return None


class XCollector(SentimentCollector):
    name = "x"
    description = "Recent posts on X per symbol scored with VADER + crypto lexicon (X API v2, needs a token)"
    default_interval_s = 15 * MINUTE_S
    key_setting = "x_bearer_token"

    def targets(self) -> list[str]:
        return [symbol.upper() for symbol in self.settings.symbol_aliases]

    def query(self, symbol: str) -> str:
        words = {symbol.lower(), *(alias.lower() for alias in self.settings.symbol_aliases.get(symbol, []))}
        terms = " OR ".join(sorted(words))
        return f"({terms}) lang:en -is:retweet"

    async def fetch_items(self, client: httpx.AsyncClient, target: str) -> list[Item]:
        payload = await get_json(
            client,
            URL,
            params={"query": self.query(target), "max_results": MAX_RESULTS, "tweet.fields": "created_at"},
            headers={"Authorization": f"Bearer {self.secret()}"},
        )
        expect(isinstance(payload, dict), self.name, "not a JSON object")
        posts = payload.get("data", [])
        expect(isinstance(posts, list), self.name, "data is not a list")
        return [
            Item(id=f"x:{post['id']}", text=str(post["text"]), published=_iso_ms(post.get("created_at")))
            for post in posts
            if isinstance(post, dict) and post.get("id") and post.get("text")
        ]
