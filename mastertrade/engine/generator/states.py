"""The life cycle of a stored strategy, and which moves between its states are allowed.

::

    generated ──> backtested ──> passed ──> paper ──> active
        │             │            │          │  ▲ ▲     │
        └─────────────┴──> failed  │          ▼  │ │     ▼
                                   │        paused ─────┘
                                   ▼          │
                                retired <─────┘  (paper, active and paused can all be retired)

- **generated**: a candidate the search produced (valid genome, not yet scored).
- **backtested**: scored in-sample and out-of-sample by walk-forward on the fast engine.
- **passed** / **failed**: the filter's verdict (out-of-sample thresholds, deflated Sharpe, agreement of
  the reference engine). ``failed`` is final: the same logic is never stored again either (its id is
  its fingerprint), so a rejected idea cannot sneak back in on a later night.
- **paper**: trading in its own paper book (the trading core reads ``paper`` and ``active``).
- **active**: trading the account, promoted from paper when its paper record holds up.
- **paused**: not trading, kept; resumed into paper or active by hand.
- **retired**: final: stopped for good (drawdown, decay, or by hand).
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    GENERATED = "generated"
    BACKTESTED = "backtested"
    PASSED = "passed"
    FAILED = "failed"
    PAPER = "paper"
    ACTIVE = "active"
    PAUSED = "paused"
    RETIRED = "retired"


ALLOWED: dict[State, tuple[State, ...]] = {
    State.GENERATED: (State.BACKTESTED, State.FAILED, State.RETIRED),
    State.BACKTESTED: (State.PASSED, State.FAILED, State.RETIRED),
    State.PASSED: (State.PAPER, State.RETIRED),
    State.FAILED: (),
    State.PAPER: (State.ACTIVE, State.PAUSED, State.RETIRED),
    State.ACTIVE: (State.PAUSED, State.RETIRED),
    State.PAUSED: (State.PAPER, State.ACTIVE, State.RETIRED),
    State.RETIRED: (),
}
"""For each state, the states it may move to."""

TRADING = (State.PAPER, State.ACTIVE)
"""The states in which a strategy trades (its own paper book, or the account)."""


def allowed(source: State | str, target: State | str) -> bool:
    return State(target) in ALLOWED[State(source)]


def parse_state(value: str) -> State:
    """A state from its name; an unknown one raises ``UserInputError`` naming the known ones."""
    from mastertrade.errors import UserInputError

    try:
        return State(value)
    except ValueError:
        raise UserInputError(
            f"unknown strategy state {value!r} (states: {', '.join(state.value for state in State)})"
        ) from None
