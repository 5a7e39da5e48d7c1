"""What each owner of a symbol holds in a shared book: the strategies' positions as the journal folds them
(``Journal.strategy_ledgers``: their own fills and their parts of the sells by hand that sold their coins
beside other owners'), with no cap at what is held, and the account's own as the rest of what is held.

The tests of sells by hand taking several owners' coins check the book's invariant with it: each
strategy's position and the account's own add up to what is held, no strategy holding less than nothing,
the account's own being what the trader has left of it (``assert_owners``).
"""

from __future__ import annotations

import pytest

from mastertrade.engine.execution.journal import Journal


async def owners(journal: Journal, book: str, symbol: str) -> dict[str | None, float]:
    """Each strategy holding ``symbol`` in ``book`` with what it holds, and the account's own (None): the
    rest of what the book holds."""
    ledgers = await journal.strategy_ledgers(book)
    held = (await journal.ledger(book)).held(symbol)
    theirs = {sid: ledger.held(symbol) for sid, ledger in ledgers.items() if abs(ledger.held(symbol)) > 1e-12}
    assert all(amount > 0 for amount in theirs.values()), theirs  # never less than nothing
    return {None: held - sum(theirs.values()), **theirs}


def assert_owners(found: dict[str | None, float], *, own: float = 0.0, **strategies: float) -> None:
    """``found`` (``owners``) is the account's ``own`` and each of ``strategies`` (0: none held): together
    what is held."""
    want: dict[str | None, float] = {
        None: own,
        **{sid: amount for sid, amount in strategies.items() if amount},
    }
    expected = {owner: pytest.approx(amount, abs=1e-9) for owner, amount in want.items()}
    assert found == expected, f"held by each owner (None: the account's own): {found}, not {want}"


async def exits_by_owner(journal: Journal, book: str, symbol: str) -> dict[str | None, float]:
    """What the bracket exits working in ``book`` cover of ``symbol``, by owner (None: the account's own,
    bought by hand with --stop-loss/--take-profit): a stop-loss and a take-profit of one set sell the same
    coins, so each set counts once."""
    from mastertrade.engine.execution.bracket_sell import reserved_by, sets
    from mastertrade.engine.orders import OrderState

    rows = await journal.orders(
        book=book, states=[OrderState.OPEN, OrderState.PARTIALLY_FILLED], symbol=symbol
    )
    exits = [row for row in rows if row.side == "sell" and row.parent_id is not None]
    covered: dict[str | None, float] = {}
    for group in sets(exits):
        owner = group[0].strategy_id
        covered[owner] = covered.get(owner, 0.0) + reserved_by(group)
    return covered


def assert_covered(found: dict[str | None, float], **owners: float) -> None:
    """``found`` (``exits_by_owner``) covers what each of ``owners`` ("own": the account's own) should have
    exits for, no owner covered for more or less, none of the others covered at all."""
    want = {None if owner == "own" else owner: amount for owner, amount in owners.items() if amount}
    expected = {owner: pytest.approx(amount, abs=1e-9) for owner, amount in want.items()}
    assert found == expected, f"covered by each owner's exits (None: the account's own): {found}, not {want}"
