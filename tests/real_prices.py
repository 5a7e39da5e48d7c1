"""Simulated candles standing in for an exchange's, on purpose: a test that needs a series under another
exchange id (``csv``, ``exa``) exports a simulated one and imports it there. `mt data export` marks a
simulated series' file with a ``simulated`` column, and `mt data import` then stores it under ``sim``
only (simulated prices never pass for real ones), so the test takes the column out first, saying so."""

from __future__ import annotations

from pathlib import Path


def as_real(path: Path) -> None:
    """Rewrite the candle CSV ``path`` without its ``simulated`` column."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    column = lines[0].rstrip("\n").split(",").index("simulated")
    kept = []
    for line in lines:
        cells = line.rstrip("\n").split(",")
        kept.append(",".join(cells[:column] + cells[column + 1 :]) + "\n")
    path.write_text("".join(kept), encoding="utf-8")
