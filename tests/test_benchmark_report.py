"""A benchmark's figure beside its baseline says how it compares in the figure's own terms: a time is
faster or slower, a peak of memory is less or more (it read "1.2x faster than baseline" for GiB)."""

from __future__ import annotations

import pytest

from benchmarks._util import report


@pytest.mark.parametrize(
    ("value", "unit", "baseline", "said"),
    [
        (1.0, "s", 2.0, "(2.0x faster than baseline)"),
        (4.0, "ms", 2.0, "(2.0x the baseline's time)"),
        (0.84, "GiB", 0.98, "(1.2x less than the baseline)"),
        (50.0, "%", 25.0, "(2.0x the baseline's)"),
    ],
)
def test_the_ratio_is_said_in_the_figures_terms(
    capsys: pytest.CaptureFixture[str], value: float, unit: str, baseline: float, said: str
) -> None:
    report("figure", value, unit, baseline=baseline)
    line = capsys.readouterr().out
    assert said in line
    assert ("faster" in line) is (unit in ("s", "ms") and value < baseline)
