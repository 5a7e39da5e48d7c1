"""``mt data download --refetch``: a range already stored is asked for again, compared with what is
stored, and the bars the exchange has changed since are replaced and counted, never silently."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mastertrade.engine.market.store import SeriesKey
from mastertrade.engine.market.timeframes import to_iso
from tests.conftest import MT
from tests.fakes.exchange import FakeExchange, serve_configured
from tests.test_download import HOUR, load, window

KEY = SeriesKey("binance", "BTC/USDT", "1h")


@pytest.fixture
def cli_fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeExchange]:
    yield from serve_configured(FakeExchange({"BTC/USDT": 42_000.0}), monkeypatch, page_limit=100)


def test_refetch_replaces_and_counts_the_bars_the_exchange_changed(
    mt: MT, db_url: str, cli_fake: FakeExchange
) -> None:
    since, until = window(cli_fake, 250)
    args = ["data", "download", "BTC/USDT", "--timeframe", "1h"]
    mt.json(*args, "--since", to_iso(since), "--until", to_iso(until))
    before = load(KEY)
    changed = [before[40], before[41]]
    for row in changed:
        cli_fake.override(
            "BTC/USDT", "1h", (row[0], row[1], row[2] * 1.01, row[3], row[4] * 1.005, row[5] + 1)
        )
    first, last = since + 30 * HOUR, since + 60 * HOUR

    plain = mt.json(*args, "--since", to_iso(first), "--until", to_iso(last))
    assert load(KEY) == before  # a plain download of a stored range fetches nothing again

    report = mt.json(*args, "--since", to_iso(first), "--until", to_iso(last), "--refetch")
    assert plain[0]["new"] == 0
    assert report[0]["replaced"] == 2 and report[0]["new"] == 0
    after = load(KEY)
    assert after[40] == cli_fake.candle("BTC/USDT", "1h", changed[0][0]) != changed[0]
    assert after[41] == cli_fake.candle("BTC/USDT", "1h", changed[1][0]) != changed[1]
    assert after[:40] == before[:40] and after[42:] == before[42:]  # everything else kept
    said = mt(*args, "--since", to_iso(first), "--until", to_iso(last), "--refetch")
    assert said.exit_code == 0 and "0 stored bars differed" in " ".join(said.stderr.split())
