"""News feeds (RSS 2.0, RSS 1.0, Atom) and Reddit listings, faked with payloads shaped like the real ones."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import pytest

from mastertrade.engine.collectors.base import SourceRateLimited
from mastertrade.engine.collectors.feeds import parse_feed
from mastertrade.engine.collectors.news import NewsCollector, RedditCollector
from mastertrade.errors import DataValidationError, VenueUnavailable
from tests.collectors.helpers import HOUR, NOW, Recorder, settings

# An RSS 2.0 feed as crypto news sites serve it (CoinDesk, Cointelegraph, Decrypt): <rss><channel>
# with <item>s carrying title, link, guid, an RFC 822 pubDate and an HTML description.
RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel>
    <title>Crypto News</title>
    <link>https://news.example/</link>
    <item>
      <title>Bitcoin soars to a new all-time high</title>
      <link>https://news.example/a</link>
      <guid isPermaLink="false">a-1</guid>
      <pubDate>Fri, 15 Mar 2024 12:05:00 +0000</pubDate>
      <description><![CDATA[<p>BTC &amp; miners <b>celebrate</b>.</p>]]></description>
    </item>
    <item>
      <title>Ethereum plunges as exploit drains a protocol</title>
      <link>https://news.example/b</link>
      <pubDate>Fri, 15 Mar 2024 11:40:00 GMT</pubDate>
    </item>
    <item>
      <title>Exchange publishes its quarterly report</title>
      <link>https://news.example/c</link>
      <dc:date>2024-03-15T12:10:00Z</dc:date>
    </item>
    <item><description>an item without a title is skipped</description></item>
  </channel>
</rss>"""

# Atom 1.0 (some blogs and aggregators): <feed xmlns="http://www.w3.org/2005/Atom"> with <entry>s.
ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Chain blog</title>
  <entry>
    <title>Solana rallies after the upgrade</title>
    <link href="https://blog.example/sol"/>
    <id>tag:blog.example,2024:sol</id>
    <published>2024-03-15T12:01:00Z</published>
    <summary>SOL holders are bullish.</summary>
  </entry>
  <entry>
    <title type="html">Bitcoin &amp;amp; the halving</title>
    <id>tag:blog.example,2024:halving</id>
    <updated>2024-03-15T12:02:00+00:00</updated>
  </entry>
</feed>"""

# RSS 1.0 (RDF), still served by a few sites.
RDF = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
  <item rdf:about="https://rdf.example/1">
    <title>BTC dumps on FUD</title>
    <link>https://rdf.example/1</link>
    <dc:date>2024-03-15T12:00:00Z</dc:date>
  </item>
</rdf:RDF>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<rss version="2.0"><channel><item><title>&lol3;</title></item></channel></rss>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><item><title>&xxe;</title></item></channel></rss>"""


def test_rss_items_are_parsed_with_ids_dates_and_clean_text() -> None:
    items = parse_feed(RSS, "news.example")
    assert [item.id for item in items] == [
        "news.example:a-1",
        "news.example:https://news.example/b",
        "news.example:https://news.example/c",
    ]
    assert items[0].text == "Bitcoin soars to a new all-time high. BTC & miners celebrate ."
    assert items[0].published == NOW - 25 * 60_000
    assert items[1].published == NOW - 50 * 60_000
    assert items[2].published == NOW - 20 * 60_000


def test_atom_and_rdf_feeds_are_parsed() -> None:
    atom = parse_feed(ATOM, "blog.example")
    assert [item.id for item in atom] == [
        "blog.example:tag:blog.example,2024:sol",
        "blog.example:tag:blog.example,2024:halving",
    ]
    assert atom[0].text == "Solana rallies after the upgrade. SOL holders are bullish."
    assert atom[1].text == "Bitcoin & the halving"
    assert atom[1].published == NOW - 28 * 60_000
    rdf = parse_feed(RDF, "rdf.example")
    assert rdf[0].id == "rdf.example:https://rdf.example/1" and rdf[0].published == NOW - 30 * 60_000


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (BILLION_LAUGHS, "refused unsafe XML"),
        (EXTERNAL_ENTITY, "refused unsafe XML"),
        (b"<rss><channel><item><title>cut off", "malformed XML"),
        (b"<html><body>Just a moment...</body></html>", "not an RSS or Atom feed"),
        (b"", "malformed XML"),
    ],
)
def test_unsafe_malformed_or_foreign_xml_is_rejected(payload: bytes, reason: str) -> None:
    with pytest.raises(DataValidationError, match=reason):
        parse_feed(payload, "evil.example")


def feeds_settings() -> object:
    return settings(
        news_feeds=["https://news.example/rss", "https://blog.example/atom"],
        symbol_aliases={"BTC": ["bitcoin"], "ETH": ["ethereum"], "SOL": ["solana"]},
    )


async def test_news_collector_scores_every_feed_and_deduplicates_on_re_poll(
    http: Callable[..., httpx.AsyncClient],
) -> None:
    server = Recorder(
        {
            "news.example/rss": httpx.Response(200, content=RSS),
            "blog.example/atom": httpx.Response(200, content=ATOM),
        }
    )
    collector = NewsCollector(feeds_settings())  # type: ignore[arg-type]
    client = http(server)
    points = await collector.collect(client, NOW)
    noon, eleven = NOW - NOW % HOUR, NOW - NOW % HOUR - HOUR
    by_key = {(p.name, p.symbol, p.ts): p for p in points}
    assert by_key[("mentions", "", noon)].value == 4
    assert by_key[("mentions", "", eleven)].value == 1  # 11:40 lands in the 11:00 bucket
    assert by_key[("mentions", "BTC", noon)].value == 2  # the "Bitcoin ..." headline and the halving post
    assert by_key[("sentiment", "BTC", noon)].value > 0.2
    assert by_key[("sentiment", "ETH", eleven)].value < -0.3  # "plunges as exploit drains"
    assert by_key[("bullish_ratio", "SOL", noon)].value == 1.0
    assert {p.ts for p in points} == {noon, eleven}
    assert collector.problems == []
    # The same feeds again: nothing new, nothing counted twice.
    assert await collector.collect(client, NOW + 60_000) == []
    assert server.requests[0].headers["accept"].startswith("application/rss+xml")


async def test_one_failing_feed_is_a_partial_problem_all_failing_is_a_failure(
    http: Callable[..., httpx.AsyncClient],
) -> None:
    server = Recorder(
        {"news.example/rss": httpx.Response(200, content=RSS), "blog.example/atom": httpx.Response(503)}
    )
    collector = NewsCollector(feeds_settings())  # type: ignore[arg-type]
    points = await collector.collect(http(server), NOW)
    assert points and len(collector.problems) == 1
    assert "https://blog.example/atom: HTTP 503 from blog.example/atom" in collector.problems[0]
    down = NewsCollector(feeds_settings())  # type: ignore[arg-type]
    with pytest.raises(VenueUnavailable):
        await down.collect(http(lambda request: httpx.Response(502)), NOW)


def listing(*posts: dict[str, object]) -> dict[str, object]:
    """Reddit's /r/<sub>/new.json answer: a Listing whose children are t3 (link) things."""
    return {
        "kind": "Listing",
        "data": {
            "after": "t3_zzz",
            "dist": len(posts),
            "modhash": "",
            "children": [{"kind": "t3", "data": post} for post in posts],
            "before": None,
        },
    }


def post(
    ident: str, title: str, selftext: str = "", *, subreddit: str = "CryptoCurrency", minutes_ago: int = 10
) -> dict[str, object]:
    return {
        "id": ident,
        "name": f"t3_{ident}",
        "title": title,
        "selftext": selftext,
        "subreddit": subreddit,
        "created_utc": (NOW - minutes_ago * 60_000) / 1000,
        "permalink": f"/r/{subreddit}/comments/{ident}/x/",
        "score": 12,
        "num_comments": 3,
        "url": f"https://www.reddit.com/r/{subreddit}/comments/{ident}/x/",
    }


async def test_reddit_posts_are_scored_with_a_proper_user_agent(
    http: Callable[..., httpx.AsyncClient],
) -> None:
    answers = {
        "/r/solana/new.json": listing(post("s1", "Just bought more, to the moon!", subreddit="solana")),
        "/r/Bitcoin/new.json": listing(
            post("b1", "Got rekt on leverage again", "lost everything", subreddit="Bitcoin")
        ),
    }
    server = Recorder({path: httpx.Response(200, json=body) for path, body in answers.items()})
    collector = RedditCollector(
        settings(subreddits=["solana", "Bitcoin"], reddit_user_agent="python:test:1.0 (by /u/tester)")
    )
    points = await collector.collect(http(server), NOW)
    by_key = {(p.name, p.symbol): p.value for p in points}
    # The subreddit names the symbol even when the post does not.
    assert by_key[("sentiment", "SOL")] > 0.3 and by_key[("sentiment", "BTC")] < -0.3
    assert by_key[("mentions", "")] == 2
    request = server.requests[0]
    assert request.headers["user-agent"] == "python:test:1.0 (by /u/tester)"
    assert request.url.params["limit"] == "100" and request.url.params["raw_json"] == "1"


async def test_reddit_rate_limit_malformed_and_empty_listings(http: Callable[..., httpx.AsyncClient]) -> None:
    collector = RedditCollector(settings(subreddits=["Bitcoin"]))
    limited = http(
        lambda request: httpx.Response(429, headers={"Retry-After": "120"}, text="Too Many Requests")
    )
    with pytest.raises(SourceRateLimited) as caught:
        await collector.collect(limited, NOW)
    assert caught.value.retry_after_s == 120
    reddit_style = http(lambda request: httpx.Response(429, headers={"x-ratelimit-reset": "42"}))
    with pytest.raises(SourceRateLimited) as caught:
        await collector.collect(reddit_style, NOW)
    assert caught.value.retry_after_s == 42
    with pytest.raises(DataValidationError, match="malformed JSON"):
        await collector.collect(http(lambda request: httpx.Response(200, text="<html>oops")), NOW)
    with pytest.raises(DataValidationError, match="data.children is not a list"):
        await collector.collect(http(lambda request: httpx.Response(200, json={"data": {}})), NOW)
    assert await collector.collect(http(lambda request: httpx.Response(200, json=listing())), NOW) == []


async def test_a_timeout_is_a_retryable_failure(
    http: Callable[..., httpx.AsyncClient], caplog: pytest.LogCaptureFixture
) -> None:
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("read timed out", request=request)

    collector = RedditCollector(settings(subreddits=["Bitcoin"]))
    with (
        caplog.at_level(logging.DEBUG),
        pytest.raises(VenueUnavailable, match="timeout from www.reddit.com/r/Bitcoin/new.json"),
    ):
        await collector.collect(http(hang), NOW)
