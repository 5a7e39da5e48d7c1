"""`mt strategy list` draws the newest ``TABLE_LIMIT`` strategies unless told otherwise, and says so with the
total (a week of nightly runs stores thousands: drawing 3,000 rows took 6 s); `--all` draws every one,
`--json` gives every one, and `--all` with `--limit` is refused."""

from __future__ import annotations

import asyncio

import pytest

from mastertrade.engine.generator.states import State
from mastertrade.engine.generator.store import NewStrategy, StrategyStore
from mastertrade.engine.signals.builtins import builtin
from tests.conftest import MT

PATH = ((State.GENERATED, "test"), (State.BACKTESTED, "test"), (State.FAILED, "test"))


def _ids(table: str) -> list[str]:
    return [line.split("│")[1].strip() for line in table.splitlines() if line.startswith("│ ")]


def test_the_table_shows_the_newest_and_says_how_many_more(
    mt: MT, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mastertrade.cli import strategy
    from mastertrade.config import load_settings
    from mastertrade.db.database import Database

    genome = builtin("sma_cross", "BTC/USDT", "1h")

    async def setup() -> None:
        db = await Database.open(load_settings())
        try:
            variants = (genome.model_copy(update={"stop_loss": 0.01 * (i + 1)}) for i in range(8))
            await StrategyStore(db).add_many(NewStrategy(g, path=PATH) for g in variants)
        finally:
            await db.close()

    asyncio.run(setup())
    monkeypatch.setattr(strategy, "TABLE_LIMIT", 5)
    every = [row["id"] for row in mt.json("strategy", "list")]
    assert len(every) == 8  # --json: every one

    shown = mt("strategy", "list")
    assert shown.exit_code == 0, shown.stderr
    assert _ids(shown.stdout) == every[:5]  # the newest five, in the listing's order
    assert "5 stored strategies (the newest of 8)" in shown.stdout
    assert "showing the newest 5 of 8 stored strategies: `--all` lists every one" in shown.stderr

    assert _ids(mt("strategy", "list", "--all").stdout) == every
    asked = mt("strategy", "list", "--limit", "7")
    assert _ids(asked.stdout) == every[:7] and asked.stderr == ""  # asked for: nothing to say
    narrowed = mt("strategy", "list", "--state", "failed", "--symbol", "btc/usdt")
    assert len(_ids(narrowed.stdout)) == 5 and "of 8" in narrowed.stderr  # the total counts the filter

    both = mt("strategy", "list", "--all", "--limit", "3")
    assert both.exit_code == 2
    assert both.stderr.strip() == "mt: error: --all and --limit 3 ask for different things: give one"
