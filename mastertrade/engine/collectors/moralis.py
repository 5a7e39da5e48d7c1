"""Moralis ERC-20 transfer activity (needs ``collectors.moralis_api_key``; disabled without it).

``GET https://deep-index.moralis.io/api/v2.2/erc20/<address>/stats?chain=eth`` with the key in the
``X-API-Key`` header answers ``{"transfers": {"total": "2034449"}}``: the token's transfers since it was
created (a string). For each token in ``moralis_tokens`` (symbol = "chain:address") the collector stores
``token_transfers_total`` and, from the second poll on, ``token_transfers_per_hour`` over the time since
the previous poll: the activity a strategy can read.
"""

from __future__ import annotations

from typing import Any

import httpx

from mastertrade.engine.collectors.base import HOUR_S, Collector, FeaturePoint, as_dict, as_float, get_json
from mastertrade.errors import DataValidationError

BASE = "https://deep-index.moralis.io/api/v2.2"


class MoralisCollector(Collector):
    name = "moralis"
    description = "ERC-20 token transfer counts and rate (Moralis, needs a key)"
    default_interval_s = HOUR_S
    key_setting = "moralis_api_key"

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.previous: dict[str, tuple[int, float]] = {}

    async def collect(self, client: httpx.AsyncClient, now: int) -> list[FeaturePoint]:
        parts = [
            (symbol, lambda symbol=symbol, spec=spec: self._token(client, symbol, spec, now))
            for symbol, spec in self.settings.moralis_tokens.items()
        ]
        return await self.gather(parts)

    async def _token(self, client: httpx.AsyncClient, symbol: str, spec: str, now: int) -> list[FeaturePoint]:
        chain, _, address = spec.partition(":")
        if not chain or not address.startswith("0x"):
            raise DataValidationError(
                f"collectors.moralis_tokens.{symbol} = {spec!r}: expected 'chain:0x<contract address>'"
            )
        stats = await get_json(
            client,
            f"{BASE}/erc20/{address}/stats",
            params={"chain": chain},
            headers={"X-API-Key": self.secret()},
        )
        transfers = as_dict(as_dict(stats, self.name, "stats").get("transfers"), self.name, "transfers")
        total = as_float(transfers.get("total"), self.name, "transfers.total")
        symbol = symbol.upper()
        points = [FeaturePoint("token_transfers_total", total, now, now, symbol)]
        before = self.previous.get(symbol)
        if before is not None and now > before[0] and total >= before[1]:
            hours = (now - before[0]) / 3_600_000
            points.append(
                FeaturePoint("token_transfers_per_hour", (total - before[1]) / hours, now, now, symbol)
            )
        self.previous[symbol] = (now, total)
        return points

    def dump_state(self) -> dict[str, Any]:
        return {"previous": {symbol: list(pair) for symbol, pair in self.previous.items()}}

    def load_state(self, state: dict[str, Any]) -> None:
        try:
            self.previous = {
                str(symbol): (int(pair[0]), float(pair[1]))
                for symbol, pair in dict(state.get("previous", {})).items()
            }
        except (TypeError, ValueError, IndexError):
            self.previous = {}
