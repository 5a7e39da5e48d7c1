"""More new blocks than one poll reads (the daemon was down, the source failing): the blocks left unread
are named as a problem of the poll instead of being passed over in silence."""

from __future__ import annotations

import httpx

from mastertrade.engine.collectors.whales import MAX_BLOCKS, WhaleCollector
from tests.collectors.helpers import NOW, client_for, settings
from tests.collectors.test_public_sources import BLOCK_0, BLOCK_1, BLOCK_2

BLOCKS = {"000b2": BLOCK_2, "000b1": BLOCK_1, "000b0": BLOCK_0}


def answer(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == "/ticker":
        return httpx.Response(200, json={"USD": {"last": 70000.0}})
    if path == "/latestblock":
        return httpx.Response(200, json={"hash": "000b2", "height": 834002})
    return httpx.Response(200, json=BLOCKS[path.rsplit("/", 1)[1]])


async def test_blocks_beyond_the_poll_are_named() -> None:
    assert MAX_BLOCKS == 3
    collector = WhaleCollector(settings(whale_threshold_usd=1_000_000))
    collector.load_state({"last_height": 833_990})  # 12 blocks came since: 834002, 834001, 834000 are read
    async with client_for(answer) as client:
        points = await collector.collect(client, NOW)
    assert {p.ts for p in points} == {NOW - 120_000, NOW - 900_000, NOW - 1_500_000}
    assert collector.problems == [
        "9 blocks not read (heights 833991 .. 833999): more than 3 new blocks since the last poll"
    ]
    assert collector.dump_state() == {"last_height": 834_002}


async def test_no_problem_when_the_poll_reaches_the_last_block_read() -> None:
    collector = WhaleCollector(settings(whale_threshold_usd=1_000_000))
    collector.load_state({"last_height": 833_999})
    async with client_for(answer) as client:
        await collector.collect(client, NOW)
    assert collector.problems == []
