"""Simulating another symbol must not rewrite the simulated features already stored (market-wide
sentiment, fear & greed, another asset's own series): it only adds values for times not yet stored, and
says how many it kept. Re-simulating the symbols that produced them replaces them, and says so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import MT

FEATURES = ("--feature", "sentiment", "--feature", "fear_greed", "--feature", "sentiment:BTC")
END = "2026-06-01T00:00:00Z"


def export(mt: MT, path: Path) -> str:
    mt.json("data", "export", "BTC/USDT", "--timeframe", "1h", "--out", str(path), *FEATURES)
    return path.read_text()


def sim(mt: MT, symbol: str, bars: str, seed: str) -> Any:
    result = mt("data", "sim", symbol, "--timeframe", "1h", "--bars", bars, "--seed", seed, "--end", END)
    assert result.exit_code == 0, result.stderr
    return result


def test_simulating_another_symbol_leaves_the_stored_features_as_they_were(
    db_url: str, tmp_path: Path
) -> None:
    mt = MT()
    sim(mt, "BTC/USDT", "500", "7")
    before = export(mt, tmp_path / "a.csv")
    result = sim(mt, "ETH/USDT", "600", "3")
    after = export(mt, tmp_path / "b.csv")
    # Every value exported before is exported unchanged; only cells that were empty may be filled (the
    # first bars now see the market-wide values of ETH's earlier bars, times that were not stored).
    changed = [
        (old, row)
        for row, old in zip(after.splitlines(), before.splitlines(), strict=True)
        if any(cell and cell != new for cell, new in zip(old.split(","), row.split(","), strict=True))
    ]
    assert not changed, f"{len(changed)} rows changed, e.g. {changed[:2]}"
    # ETH's 600 bars reach back 100 bars before BTC's: those times are added, the rest kept and told.
    assert "market-wide simulated feature values stored before" in result.stderr
    assert "ETH/USDT" in result.stderr


def test_resimulating_the_symbol_that_produced_them_replaces_them_and_says_so(
    db_url: str, tmp_path: Path
) -> None:
    mt = MT()
    sim(mt, "BTC/USDT", "500", "7")
    before = export(mt, tmp_path / "a.csv")
    result = sim(mt, "BTC/USDT", "500", "8")
    after = export(mt, tmp_path / "b.csv")
    assert sum(row != old for row, old in zip(after.splitlines(), before.splitlines(), strict=True)) > 400
    assert (
        "replaced the 1,521 market-wide simulated feature values derived from BTC/USDT 1h (seed 7) with"
        " those of BTC/USDT" in " ".join(result.stderr.split())
    )
