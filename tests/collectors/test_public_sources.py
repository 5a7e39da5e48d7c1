"""The keyless sources (fear & greed, mempool.space, blockchain.com stats and blocks, FRED/Stooq) against
payloads shaped like the real APIs' answers, including their error cases."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from mastertrade.engine.collectors.fear_greed import FearGreedCollector
from mastertrade.engine.collectors.macro import MacroCollector
from mastertrade.engine.collectors.onchain import BlockchainStatsCollector, MempoolCollector
from mastertrade.engine.collectors.whales import WhaleCollector, moved_sats
from mastertrade.errors import DataValidationError, OperationFailed, VenueUnavailable
from tests.collectors.helpers import DAY, NOW, Recorder, settings

MockClient = Callable[..., httpx.AsyncClient]
TODAY = NOW - NOW % DAY


# --- fear & greed ----------------------------------------------------------------------------------


def fng(*rows: tuple[int, int], error: str | None = None) -> dict[str, object]:
    """alternative.me /fng/: values and timestamps as strings, newest first, one a day at 00:00 UTC."""
    return {
        "name": "Fear and Greed Index",
        "data": [
            {
                "value": str(value),
                "value_classification": "Fear" if value < 50 else "Greed",
                "timestamp": str(ts // 1000),
                "time_until_update": "41000",
            }
            for value, ts in rows
        ],
        "metadata": {"error": error},
    }


async def test_fear_greed_backfills_once_then_polls_the_last_week(http: MockClient) -> None:
    server = Recorder(
        {"/fng/": httpx.Response(200, json=fng((72, TODAY), (65, TODAY - DAY), (40, TODAY - 2 * DAY)))}
    )
    collector = FearGreedCollector(settings())
    client = http(server)
    points = await collector.collect(client, NOW)
    assert [(p.value, p.ts, p.published_at) for p in points] == [
        (72, TODAY, TODAY),
        (65, TODAY - DAY, TODAY - DAY),
        (40, TODAY - 2 * DAY, TODAY - 2 * DAY),
    ]
    assert {p.name for p in points} == {"fear_greed"} and {p.symbol for p in points} == {""}
    await collector.collect(client, NOW)
    assert [request.url.params["limit"] for request in server.requests] == ["0", "7"]
    restarted = FearGreedCollector(settings())
    restarted.load_state(collector.dump_state())
    assert restarted.backfilled


@pytest.mark.parametrize(
    ("answer", "error", "match"),
    [
        (httpx.Response(200, json=fng(error="Rate limit exceeded")), OperationFailed, "Rate limit exceeded"),
        (httpx.Response(200, json=fng()), DataValidationError, "data is empty"),
        (httpx.Response(200, json=fng((140, TODAY))), DataValidationError, "outside 0..100"),
        (
            httpx.Response(200, json={"data": [{"value": "x", "timestamp": "1"}]}),
            DataValidationError,
            "not a number",
        ),
        (httpx.Response(200, text="{'data': "), DataValidationError, "malformed JSON"),
        (httpx.Response(500, text="upstream"), VenueUnavailable, "HTTP 500"),
    ],
)
async def test_fear_greed_errors(
    http: MockClient, answer: httpx.Response, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        await FearGreedCollector(settings()).collect(http(lambda request: answer), NOW)


# --- mempool.space and blockchain.com stats ----------------------------------------------------------

FEES = {"fastestFee": 24, "halfHourFee": 20, "hourFee": 15, "economyFee": 8, "minimumFee": 4}
MEMPOOL = {
    "count": 52134,
    "vsize": 31840211,
    "total_fee": 9384121,
    "fee_histogram": [[30.1, 51000], [20.5, 98000]],
}
HASHRATE = {
    "hashrates": [
        {"timestamp": (TODAY - 2 * DAY) // 1000, "avgHashrate": 5.8e20},
        {"timestamp": (TODAY - DAY) // 1000, "avgHashrate": 6.1e20},
        {"timestamp": TODAY // 1000, "avgHashrate": 6.0e20},  # the running day: not final yet
    ],
    "difficulty": [
        {"time": (TODAY - DAY) // 1000, "height": 834000, "difficulty": 8.3e13, "adjustment": 1.02}
    ],
    "currentHashrate": 6.05e20,
    "currentDifficulty": 8.3e13,
}


async def test_mempool_fees_size_and_daily_hash_rate(http: MockClient) -> None:
    server = Recorder(
        {
            "/api/v1/fees/recommended": httpx.Response(200, json=FEES),
            "/api/mempool": httpx.Response(200, json=MEMPOOL),
            "/api/v1/mining/hashrate/1m": httpx.Response(200, json=HASHRATE),
        }
    )
    collector = MempoolCollector(settings())
    points = await collector.collect(http(server), NOW)
    values = {(p.name, p.ts): (p.value, p.published_at) for p in points}
    assert values[("fee_fast", NOW)] == (24, NOW) and values[("fee_hour", NOW)] == (15, NOW)
    assert values[("mempool_tx", NOW)] == (52134, NOW)
    assert values[("mempool_vsize_mb", NOW)][0] == pytest.approx(31.840211)
    assert values[("hash_rate", TODAY - DAY)] == (pytest.approx(610.0), TODAY)  # EH/s, published at day end
    assert ("hash_rate", TODAY) not in values
    assert {p.symbol for p in points} == {"BTC"} and collector.problems == []


async def test_mempool_keeps_the_parts_that_answer(http: MockClient) -> None:
    server = Recorder(
        {
            "/api/v1/fees/recommended": httpx.Response(200, json=FEES),
            "/api/mempool": httpx.Response(503),
            "/api/v1/mining/hashrate/1m": httpx.Response(200, json={"hashrates": "nope"}),
        }
    )
    collector = MempoolCollector(settings())
    points = await collector.collect(http(server), NOW)
    assert {p.name for p in points} == {"fee_fast", "fee_hour"}
    assert len(collector.problems) == 2 and "mempool: HTTP 503" in collector.problems[0]


STATS = {
    "timestamp": NOW - 60_000,
    "market_price_usd": 71250.5,
    "hash_rate": 6.02e11,
    "total_fees_btc": 2_512_000_000,
    "n_btc_mined": 45_000_000_000,
    "n_tx": 512_345,
    "n_blocks_mined": 144,
    "minutes_between_blocks": 9.8,
    "totalbc": 1_966_000_000_000_000,
    "n_blocks_total": 834_100,
    "estimated_transaction_volume_usd": 2.1e9,
    "blocks_size": 240_000_000,
    "miners_revenue_usd": 5.2e7,
    "nextretarget": 836_640,
    "difficulty": 8.3e13,
    "estimated_btc_sent": 3.1e12,
    "miners_revenue_btc": 740,
    "total_btc_sent": 9.8e13,
    "trade_volume_btc": 12_000,
    "trade_volume_usd": 8.5e8,
}


async def test_blockchain_stats(http: MockClient) -> None:
    points = await BlockchainStatsCollector(settings()).collect(
        http(lambda r: httpx.Response(200, json=STATS)), NOW
    )
    values = {p.name: p for p in points}
    assert values["tx_count_24h"].value == 512_345
    assert values["fees_btc_24h"].value == pytest.approx(25.12)
    assert values["hash_rate_24h"].value == pytest.approx(602.0)
    assert values["tx_count_24h"].ts == NOW - 60_000 and values["tx_count_24h"].published_at == NOW
    with pytest.raises(DataValidationError, match="n_tx"):
        await BlockchainStatsCollector(settings()).collect(
            http(lambda r: httpx.Response(200, json={"timestamp": NOW})), NOW
        )


# --- whales ------------------------------------------------------------------------------------------


def tx(inputs: list[tuple[str, int]] | None, outputs: list[tuple[str, int]]) -> dict[str, object]:
    """A transaction of blockchain.info /rawblock: inputs with prev_out (None: coinbase), outputs in sats."""
    ins = (
        [{"prev_out": {"addr": addr, "value": value, "spent": True}, "sequence": 1} for addr, value in inputs]
        if inputs
        else [{"sequence": 4294967295, "script": "03a0b10c"}]
    )
    return {
        "hash": f"h{len(outputs)}{outputs[0][1]}",
        "inputs": ins,
        "out": [{"addr": addr, "value": value, "spent": False} for addr, value in outputs],
    }


BTC = 100_000_000
BLOCK_2 = {
    "hash": "000b2",
    "prev_block": "000b1",
    "height": 834002,
    "time": (NOW - 120_000) // 1000,
    "n_tx": 4,
    "tx": [
        tx(None, [("miner", 6 * BTC)]),  # coinbase: new coins, not a whale
        tx(
            [("whale1", 30 * BTC)], [("exchange", 25 * BTC), ("whale1", 5 * BTC)]
        ),  # 25 BTC moved, change excluded
        tx([("a", 2 * BTC)], [("b", 1 * BTC), ("a", 1 * BTC)]),  # small
        tx([("w2", 100 * BTC), ("w3", 10 * BTC)], [("cold", 109 * BTC)]),
    ],
}
BLOCK_1 = {
    "hash": "000b1",
    "prev_block": "000b0",
    "height": 834001,
    "time": (NOW - 900_000) // 1000,
    "tx": [tx([("x", 50 * BTC)], [("y", 50 * BTC)])],
}
BLOCK_0 = {
    "hash": "000b0",
    "prev_block": "000az",
    "height": 834000,
    "time": (NOW - 1_500_000) // 1000,
    "tx": [],
}


def test_moved_value_excludes_change_and_coinbase() -> None:
    assert moved_sats(BLOCK_2["tx"][0]) == 0  # type: ignore[index]
    assert moved_sats(BLOCK_2["tx"][1]) == 25 * BTC  # type: ignore[index]


async def test_whales_in_new_blocks_are_counted_once(http: MockClient) -> None:
    state = {"latest": BLOCK_1}
    blocks = {"000b2": BLOCK_2, "000b1": BLOCK_1, "000b0": BLOCK_0}

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/ticker":
            return httpx.Response(
                200,
                json={
                    "USD": {"15m": 70000.0, "last": 70000.0, "buy": 70001.0, "sell": 69999.0, "symbol": "$"}
                },
            )
        if path == "/latestblock":
            latest = state["latest"]
            return httpx.Response(
                200,
                json={
                    "hash": latest["hash"],
                    "time": latest["time"],
                    "block_index": latest["height"],
                    "height": latest["height"],
                    "txIndexes": [],
                },
            )
        if path.startswith("/rawblock/"):
            return httpx.Response(200, json=blocks[path.rsplit("/", 1)[1]])
        return httpx.Response(404)

    collector = WhaleCollector(settings(whale_threshold_usd=1_000_000))
    client = http(answer)
    first = await collector.collect(client, NOW)
    # First poll: only the newest block (50 BTC * $70k = $3.5M: one whale).
    assert {(p.name, p.value) for p in first} == {
        ("whale_tx_count", 1),
        ("whale_volume_usd", 3_500_000),
        ("whale_max_usd", 3_500_000),
    }
    state["latest"] = BLOCK_2
    second = await collector.collect(client, NOW)
    values = {p.name: p for p in second}
    assert values["whale_tx_count"].value == 2  # 25 BTC ($1.75M) and 109 BTC ($7.63M); block 1 not again
    assert values["whale_volume_usd"].value == pytest.approx(134 * 70_000)
    assert values["whale_max_usd"].value == pytest.approx(109 * 70_000)
    assert values["whale_tx_count"].ts == NOW - 120_000 and values["whale_tx_count"].published_at == NOW
    assert await collector.collect(client, NOW) == []  # nothing new
    assert WhaleCollector(settings()).dump_state() == {"last_height": None} and collector.dump_state() == {
        "last_height": 834002
    }


async def test_whales_need_a_price(http: MockClient) -> None:
    with pytest.raises(DataValidationError, match="ticker USD"):
        await WhaleCollector(settings()).collect(
            http(lambda r: httpx.Response(200, json={"EUR": {"last": 1.0}})), NOW
        )


# --- macro -------------------------------------------------------------------------------------------

FRED_SP500 = (
    "observation_date,SP500\n2024-03-12,5175.27\n2024-03-13,5165.31\n2024-03-14,5150.48\n2024-03-15,.\n"
)
FRED_OLD_HEADER = "DATE,NASDAQCOM\n2024-03-13,16177.77\n2024-03-14,16128.53\n"
STOOQ_DXY = (
    "Date,Open,High,Low,Close,Volume\n"
    "2024-03-13,102.75,102.98,102.66,102.79,0\n"
    "2024-03-14,102.79,103.44,102.70,103.37,0\n"
    "2024-03-15,103.37,103.5,103.2,103.41,0\n"
)


async def test_macro_daily_closes_are_published_the_next_day(http: MockClient) -> None:
    answers = {"SP500": FRED_SP500, "NASDAQCOM": FRED_OLD_HEADER}

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "fred.stlouisfed.org":
            return httpx.Response(200, text=answers[request.url.params["id"]])
        assert request.url.params["s"] == "dx.f" and request.url.params["i"] == "d"
        return httpx.Response(200, text=STOOQ_DXY)

    collector = MacroCollector(
        settings(macro_series={"spx": "fred:SP500", "nasdaq": "fred:NASDAQCOM", "dxy": "stooq:dx.f"})
    )
    points = await collector.collect(http(answer), NOW)
    values = {(p.name, p.ts): (p.value, p.published_at) for p in points}
    assert values[("spx", TODAY - DAY)] == (5150.48, TODAY)  # Thursday's close, visible from Friday 00:00
    assert values[("nasdaq", TODAY - 2 * DAY)] == (16177.77, TODAY - DAY)
    assert ("dxy", TODAY) not in values  # Friday's bar is still running at 12:30
    assert values[("dxy", TODAY - DAY)][0] == 103.37
    assert len([p for p in points if p.name == "spx"]) == 3  # the "." holiday row is skipped
    assert collector.dump_state() == {
        "backfilled": ["dxy", "nasdaq", "spx"],
        "polled_at": {"dxy": NOW, "nasdaq": NOW, "spx": NOW},
    }


async def test_macro_malformed_csv_and_no_data(http: MockClient) -> None:
    bad = MacroCollector(settings(macro_series={"spx": "fred:SP500"}))
    with pytest.raises(DataValidationError, match="is not 'SP500'"):
        await bad.collect(
            http(lambda r: httpx.Response(200, text="observation_date,VIXCLS\n2024-01-02,13.2\n")), NOW
        )
    with pytest.raises(DataValidationError, match="row 2"):
        await bad.collect(
            http(lambda r: httpx.Response(200, text="observation_date,SP500\nyesterday,12\n")), NOW
        )
    stooq = MacroCollector(settings(macro_series={"dxy": "stooq:dx.f"}))
    with pytest.raises(DataValidationError, match="Stooq dx.f: no data"):
        await stooq.collect(http(lambda r: httpx.Response(200, text="No data")), NOW)
