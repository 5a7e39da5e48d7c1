"""A chart's axis labels never cut a number into another one. The demo's strategies compound to
absurd backtest equities: the preview's axis read "┤ 7,853,459" for 7.85e27 and "┤ 68,995,11" for
6.9e25, the first digits of the figure standing for the whole, where a shorter form (7.853e+27) says it."""

from __future__ import annotations

import re

from mastertrade.engine.api.schemas_trading import EquityPointInfo
from mastertrade.tui import format as fmt
from mastertrade.tui.widgets.candle_chart import tick_label
from tests.tui.conftest import loaded, make_app, wait_for
from tests.tui.fakes import HOUR_MS, LAST_BAR, FakeBackend
from tests.tui.test_app import open_detail, plain

HIGH = 7.853459490765701e27


def read_label(label: str) -> float:
    """The number an axis label stands for (12,441.11; 4.56M; 7.85e+27)."""
    scale = {"k": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}
    text = label.replace(",", "")
    if text[-1] in scale:
        return float(text[:-1]) * scale[text[-1]]
    return float(text)


def axis_labels(chart_text: str) -> list[float]:
    return [read_label(found) for found in re.findall(r"┤ *(\S+)", chart_text)]


async def test_a_huge_backtest_equity_reads_as_its_size_on_the_axis() -> None:
    curve = [
        EquityPointInfo(ts=LAST_BAR - (299 - i) * HOUR_MS, equity=10_000.0 * (HIGH / 10_000.0) ** (i / 299))
        for i in range(300)
    ]
    backend = FakeBackend()
    backend.detail_changes["g-5d11"] = {"backtest_equity": curve}
    app = make_app(backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, loaded(app))
        screen = await open_detail(pilot, app, "g-5d11")
        await pilot.pause()
        labels = axis_labels(plain(screen.query_one("#backtest-curve")))
        assert len(labels) == 3, labels
        top, middle, bottom = labels
        assert abs(top - HIGH) / HIGH < 0.01, top
        assert abs(middle - HIGH / 2) / HIGH < 0.01, middle
        assert bottom == 10_000.0
        # the headline too: "7,853,459,490,765,700,892,484,173,824.00 +78…" lost its change
        headline = plain(screen.query_one("#backtest-curve")).split("\n")[0]
        assert "7.853e+27 +7.853e+25%" in headline, headline


def test_a_number_fits_its_cells_without_turning_into_another() -> None:
    cases = [
        (12_441.11, "12,441.11"),
        (100_000.0, "100,000.0"),
        (1_234_567.891, "1,234,568"),
        (68_995_114_342.0, "69.0B"),
        (HIGH, "7.853e+27"),
        (186_818_915_979_161_184.0, "1.868e+17"),  # not "186818.9T"
        (3_400_000_000_000.0, "3.40T"),
        (-HIGH, "-7.85e+27"),
        (0.000_012_34, "0.0000123"),
        (1.234e-12, "1.234e-12"),
        (0.0, "0.00"),
    ]
    for value, expected in cases:
        shown = fmt.fit(value, 9)
        assert shown == expected, (value, shown)
        assert len(shown) <= 9


def test_a_price_tick_too_wide_for_the_axis_is_shortened_not_cut() -> None:
    assert tick_label(64_250.0) == "64,250.00"
    assert tick_label(12_345_678.0) == "12.3M"  # was "12,345,67"
    assert tick_label(0.000_123_46) == "0.0001235"  # was "0.0001234"
