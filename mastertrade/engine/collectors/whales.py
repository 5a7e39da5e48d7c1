"""Whale transactions: Bitcoin transactions moving more than ``whale_threshold_usd`` in new blocks.

blockchain.com's public endpoints, no key:

- ``GET https://blockchain.info/ticker`` -> ``{"USD": {"15m": 37012.5, "last": 37012.5, "buy": ...,
  "sell": ..., "symbol": "$"}, "EUR": {...}, ...}``: the dollar price of a bitcoin.
- ``GET https://blockchain.info/latestblock`` -> ``{"hash": "0000...", "time": 1700000000,
  "block_index": 815000, "height": 815000, "txIndexes": [...]}``.
- ``GET https://blockchain.info/rawblock/<hash>`` -> ``{"hash": ..., "prev_block": ..., "time": ...,
  "height": ..., "n_tx": ..., "tx": [{"hash": ..., "inputs": [{"prev_out": {"addr": "bc1...",
  "value": 150000000}}], "out": [{"addr": "bc1...", "value": 120000000}, ...]}, ...]}`` (satoshis).

A transaction's moved value is the sum of its outputs to addresses that are not among its inputs'
(change going back to the sender is not a transfer); coinbase transactions are left out. Each new
block gives ``whale_tx_count``, ``whale_volume_usd`` and ``whale_max_usd`` (symbol BTC), stamped with the
block's time and published when the poll saw it. Up to ``MAX_BLOCKS`` blocks are read per poll, newest
first, back to the last block already processed; blocks beyond that (after downtime) are not read, and
the poll names them as a problem shown beside the source's state.
"""

from __future__ import annotations

from typing import Any

import httpx

from mastertrade.engine.collectors.base import (
    MINUTE_S,
    Collector,
    FeaturePoint,
    as_dict,
    as_float,
    epoch_ms,
    expect,
    get_json,
)

BASE = "https://blockchain.info"
MAX_BLOCKS = 3
SATS = 100_000_000
BTC = "BTC"


def moved_sats(tx: dict[str, Any]) -> int:
    """Satoshis a transaction sends to others than its senders (0 for a coinbase transaction)."""
    inputs = tx.get("inputs") or []
    senders = set()
    for spent in inputs:
        prev = spent.get("prev_out") if isinstance(spent, dict) else None
        if not isinstance(prev, dict):
            return 0  # coinbase: new coins, not a transfer
        if prev.get("addr"):
            senders.add(prev["addr"])
    total = 0
    for out in tx.get("out") or []:
        if isinstance(out, dict) and out.get("addr") not in senders:
            value = out.get("value")
            if isinstance(value, int) and value > 0:
                total += value
    return total


class WhaleCollector(Collector):
    name = "whales"
    description = "Bitcoin transactions above the whale threshold (USD) in new blocks (blockchain.com)"
    default_interval_s = 5 * MINUTE_S
    default_timeout_s = 120.0  # a full block is one to two megabytes of JSON

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.last_height: int | None = None

    async def collect(self, client: httpx.AsyncClient, now: int) -> list[FeaturePoint]:
        price = await self._price(client)
        latest = await get_json(client, f"{BASE}/latestblock")
        expect(
            isinstance(latest, dict) and isinstance(latest.get("hash"), str),
            self.name,
            "latestblock has no hash",
        )
        block_hash: str | None = latest["hash"]
        points: list[FeaturePoint] = []
        newest_height: int | None = None
        oldest_height: int | None = None
        for _ in range(MAX_BLOCKS):
            if block_hash is None:
                break
            block = await get_json(client, f"{BASE}/rawblock/{block_hash}")
            expect(
                isinstance(block, dict) and isinstance(block.get("tx"), list),
                self.name,
                "rawblock has no tx list",
            )
            height = int(as_float(block.get("height"), self.name, "block height"))
            if self.last_height is not None and height <= self.last_height:
                break
            newest_height = height if newest_height is None else newest_height
            oldest_height = height
            points += self._block_points(block, price, now)
            previous = block.get("prev_block")
            block_hash = previous if isinstance(previous, str) and self.last_height is not None else None
        if (
            self.last_height is not None
            and oldest_height is not None
            and oldest_height - 1 > self.last_height
        ):
            # More blocks came than one poll reads: the ones between are not counted, and say so.
            first, last = self.last_height + 1, oldest_height - 1
            self.problems.append(
                f"{last - first + 1} blocks not read (heights {first} .. {last}): more than {MAX_BLOCKS}"
                " new blocks since the last poll"
            )
        if newest_height is not None:
            self.last_height = newest_height
        return points

    async def _price(self, client: httpx.AsyncClient) -> float:
        ticker = as_dict(await get_json(client, f"{BASE}/ticker"), self.name, "ticker")
        usd = as_dict(ticker.get("USD"), self.name, "ticker USD")
        price = as_float(usd.get("last"), self.name, "ticker USD.last")
        expect(price > 0, self.name, f"ticker USD.last is {price}")
        return price

    def _block_points(self, block: dict[str, Any], price: float, now: int) -> list[FeaturePoint]:
        threshold = self.settings.whale_threshold_usd
        moves = [moved_sats(tx) / SATS * price for tx in block["tx"] if isinstance(tx, dict)]
        whales = [usd for usd in moves if usd >= threshold]
        ts = min(epoch_ms(block.get("time"), self.name, "block time"), now)
        return [
            FeaturePoint("whale_tx_count", float(len(whales)), ts, now, BTC),
            FeaturePoint("whale_volume_usd", float(sum(whales)), ts, now, BTC),
            FeaturePoint("whale_max_usd", float(max(whales, default=0.0)), ts, now, BTC),
        ]

    def dump_state(self) -> dict[str, Any]:
        return {"last_height": self.last_height}

    def load_state(self, state: dict[str, Any]) -> None:
        height = state.get("last_height")
        self.last_height = height if isinstance(height, int) else None
