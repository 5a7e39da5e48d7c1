"""The indicator table of the genome page (`docs/concepts/genomes.md`) is the catalogue's: every built-in
indicator with its parameters, their defaults and its outputs, so a trader can write a MACD or an ADX
term from the page (it listed no parameter but `length`, and no output of adx or donchian)."""

from __future__ import annotations

import re
from pathlib import Path

from mastertrade.engine.signals.indicators import indicator_spec
from mastertrade.engine.signals.specs import SINGLE

PAGE = Path(__file__).parents[2] / "docs" / "concepts" / "genomes.md"
BUILT_IN = "sma ema rsi macd bbands atr natr adx stoch cci roc obv donchian vwap vwma".split()


def table() -> dict[str, tuple[str, str]]:
    """indicator -> (its parameters cell, its outputs cell), one entry per name a row lists."""
    rows: dict[str, tuple[str, str]] = {}
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            for name in re.findall(r"`(\w+)`", cells[0]):
                rows[name] = (cells[1], cells[2])
    return rows


def test_every_indicator_is_in_the_table_with_its_parameters_defaults_and_outputs() -> None:
    rows = table()
    assert sorted(rows) == sorted(BUILT_IN)
    for name in BUILT_IN:
        spec = indicator_spec(name)
        parameters, outputs = rows[name]
        written = dict(re.findall(r"`(\w+)` \(([\d.]+)", parameters))
        assert written == {
            p.name: f"{p.default:g}" if isinstance(p.default, int) else str(p.default) for p in spec.params
        }, name
        names = [o.name for o in spec.outputs]
        if names == [SINGLE]:
            assert outputs == "one", name
        else:
            assert re.findall(r"`(\w+)`", outputs) == names, name
