"""`mt generate`'s sizes are held to the `[generator]` settings' bounds: `--workers 10**30` ended in an
OverflowError traceback from the numba kernels and `--population 2**63` searched until killed, each
after the run's row was written; both are bad input now, refused before anything is read or written."""

from __future__ import annotations

import pytest

from tests.conftest import MT


@pytest.mark.parametrize(
    ("option", "value", "most"),
    [
        ("--workers", str(10**30), "1,024"),
        ("--population", str(2**63), "100,000"),
        ("--generations", "10001", "10,000"),
        ("--count", "100001", "100,000"),
    ],
)
def test_a_size_past_the_settings_bound_is_refused_before_the_run(
    mt: MT, option: str, value: str, most: str
) -> None:
    sim = mt("data", "sim", "BTC/USDT", "--bars", "300")
    assert sim.exit_code == 0, sim.stderr
    result = mt("generate", "--symbol", "BTC/USDT", "--timeframe", "1h", option, value, "--json")
    assert result.exit_code == 2
    name = option.removeprefix("--")
    bound = f"at most {most} (the [generator] {name} bound)"
    assert result.stderr == f"mt: error: invalid {name} {value}: {bound}\n"
    assert result.stdout == ""
    assert mt.json("strategy", "list", "--all") == []
