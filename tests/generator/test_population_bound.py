"""A population too small names the bound that holds: `mt generate --population 0` said "must be >= 1",
and 1 was refused next ("must be >= 4")."""

from __future__ import annotations

import pytest

from mastertrade.engine.generator.pipeline import GenerationRequest, check_request
from mastertrade.errors import UserInputError
from tests.conftest import MT


@pytest.mark.parametrize("population", [-1, 0, 1, 3])
def test_every_population_below_four_is_told_the_same_bound(population: int) -> None:
    request = GenerationRequest(symbol="BTC/USDT", timeframe="1h", population=population)
    with pytest.raises(UserInputError, match=rf"^invalid population {population}: must be >= 4$"):
        check_request(request)


def test_mt_generate_names_the_bound(mt: MT) -> None:
    result = mt("generate", "--population", "0")
    assert result.exit_code == 2
    assert result.stderr == "mt: error: invalid population 0: must be >= 4\n"
