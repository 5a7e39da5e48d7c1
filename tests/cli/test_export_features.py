"""``mt data export --feature / --all-features``: alternative data as columns beside the candles, each
value the one a strategy sees at that bar (published before the bar opened), and still importable."""

from __future__ import annotations

import asyncio
import csv
import math
from pathlib import Path

import pytest

from mastertrade.engine.collectors.base import FeaturePoint
from tests.conftest import MT

HOUR = 3_600_000
T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z
CANDLES = "timestamp,open,high,low,close,volume\n" + "".join(
    f"{T0 + i * HOUR},100,101,99,100,1\n" for i in range(6)
)


async def store_features() -> None:
    from mastertrade.config import load_settings
    from mastertrade.db.database import Database
    from mastertrade.engine.collectors.store import FeatureStore

    db = await Database.open(load_settings())
    try:
        await FeatureStore(db).upsert(
            "fear_greed",
            [
                FeaturePoint("fear_greed", 20.0, T0, T0 + HOUR // 2),  # known during bar 0: seen from bar 1
                FeaturePoint("fear_greed", 30.0, T0 + 2 * HOUR, T0 + 3 * HOUR),  # at bar 3's open: from bar 4
            ],
        )
        await FeatureStore(db).upsert("news", [FeaturePoint("sentiment", 0.5, T0, T0 + 1, "BTC")])
    finally:
        await db.close()


@pytest.fixture
def stored(mt: MT, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(CANDLES)
    assert mt("data", "import", str(source), "--symbol", "BTC/USDT", "--timeframe", "1h").exit_code == 0
    asyncio.run(store_features())  # the CLI runs its own event loop: none may run here


def read(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_export_writes_features_aligned_like_strategies(mt: MT, stored: None, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    report = mt.json(
        "data", "export", "BTC/USDT", "--timeframe", "1h", "--out", str(out), "--feature", "fear_greed",
        "--feature", "sentiment:btc",
    )  # fmt: skip
    assert report["features"] == ["fear_greed", "sentiment:BTC"]
    rows = read(out)
    assert [row["fear_greed"] for row in rows] == ["", "20.0", "20.0", "20.0", "30.0", "30.0"]
    assert [row["sentiment:BTC"] for row in rows][:2] == ["", "0.5"]
    everything = tmp_path / "all.csv"
    report = mt.json(
        "data", "export", "BTC/USDT", "--timeframe", "1h", "--out", str(everything), "--all-features"
    )
    assert set(report["features"]) == {"fear_greed", "sentiment:BTC"}
    # the file still imports as candles (feature columns are ignored)
    again = mt.json("data", "import", str(everything), "--symbol", "BTC/USDT", "--timeframe", "1h")
    assert again["new"] == 0 and again["replaced"] == 6
    assert not math.isnan(float(read(everything)[5]["fear_greed"]))


def test_export_names_a_bad_feature(mt: MT, stored: None, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    unknown = mt("data", "export", "BTC/USDT", "--timeframe", "1h", "--out", str(out), "--feature", "moon")
    assert unknown.exit_code == 2 and "invalid --feature 'moon'" in unknown.stderr
    wide = mt(
        "data", "export", "BTC/USDT", "--timeframe", "1h", "--out", str(out), "--feature", "fear_greed:BTC"
    )
    assert wide.exit_code == 2 and "market-wide and takes no symbol" in wide.stderr
    missing = mt("data", "export", "BTC/USDT", "--timeframe", "1h", "--out", str(out), "--feature", "dxy")
    assert missing.exit_code == 2 and "no stored values of feature dxy" in missing.stderr
    assert not out.exists()
