"""`mt strategy show ID` compares the hold-out with buy-and-hold by money and by Sharpe ratio: a strategy
that stayed out (0%, no Sharpe ratio) of a hold-out where holding lost 46% is not said to do worse, and
one that made less than holding is, whatever its Sharpe ratio."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import MT

HOLDING = {"return_pct": -46.15, "sharpe": -1.19, "max_drawdown_pct": 60.6}


def _stored(held: dict[str, Any], baseline: dict[str, Any], name: str) -> str:
    async def store() -> str:
        from mastertrade.cli.runtime import open_db
        from mastertrade.engine.generator.store import NewStrategy, StrategyStore
        from mastertrade.engine.signals.builtins import BUILTINS

        db = await open_db()
        try:
            genome = BUILTINS[name].bind("BTC/USDT", "1d")
            new = NewStrategy(
                genome,
                exchange="csv",
                out_of_sample={"start": "2022-11-08T00:00:00Z", "end": "2023-06-19T00:00:00Z", **held},
                selection={"holdout_buy_and_hold": baseline},
            )
            return (await StrategyStore(db).add(new)).id
        finally:
            await db.close()

    from mastertrade.cli.runtime import run

    return run(store)


@pytest.mark.parametrize(
    ("held", "baseline", "said"),
    [
        ({"return_pct": 0.0, "sharpe": None, "trades": 0}, HOLDING, None),
        ({"return_pct": -14.18, "sharpe": -0.17, "trades": 19}, HOLDING, None),
        (
            {"return_pct": 12.0, "sharpe": 1.5, "trades": 20},
            {"return_pct": 80.0, "sharpe": 1.2},
            "it does worse than buy-and-hold over the hold-out (return 12.00% against 80.00%, though its"
            " Sharpe 1.50 against 1.20)",
        ),
        (
            {"return_pct": -13.12, "sharpe": -1.53, "trades": 3},
            HOLDING,
            "it does worse than buy-and-hold over the hold-out (Sharpe -1.53 against -1.19, though its"
            " return -13.12% against -46.15%)",
        ),
    ],
)
def test_show_says_worse_than_holding_only_when_it_is(
    mt: MT, held: dict[str, Any], baseline: dict[str, Any], said: str | None
) -> None:
    sid = _stored(held, baseline, "sma_cross")
    shown = mt("strategy", "show", sid)
    assert shown.exit_code == 0, shown.stderr
    text = " ".join(shown.stdout.split())
    if said is None:
        assert "worse than buy-and-hold" not in text
    else:
        assert said in text
