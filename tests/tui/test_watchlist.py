"""The watchlist's columns: as wide as their texts; the sparkline gives way first, then the symbol, with
an ellipsis; a price is never shortened."""

from __future__ import annotations

from mastertrade.tui.widgets.watchlist import column_widths, fit

ROW = ("VERY-LONG-NAME/USDT", "1,234,567.89", "+3.64%", "29.2k", "▅▄▂▅▅▄▅▇█▇▇▅▁▅", "live")


def test_columns_widen_to_their_texts_when_there_is_room() -> None:
    assert column_widths([ROW], 200) == (19, 12, 8, 8, 14, 9)


def test_the_sparkline_gives_way_first_then_the_symbol_never_the_price() -> None:
    assert column_widths([ROW], 70) == (19, 12, 8, 8, 8, 9)
    assert column_widths([ROW], 56) == (14, 12, 8, 8, 0, 9)
    assert column_widths([ROW], 20) == (10, 12, 8, 8, 0, 9)  # runs off the edge rather than cut a figure


def test_a_shortened_text_says_so() -> None:
    assert fit("VERY-LONG-NAME/USDT", 10) == "VERY-LONG…"
    assert fit("12.5", 6, right=True) == "  12.5"
    assert fit("▁▂▃▄▅", 3, tail=True) == "▃▄▅"  # the sparkline keeps its newest closes
