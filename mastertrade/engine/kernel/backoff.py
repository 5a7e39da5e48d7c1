"""How long to wait before trying again: the one backoff of the engine.

Venue calls (``market/retry.py``), the websocket feed's reconnects, collectors' next try after a failure,
alert redelivery, the supervisor's service restarts, and the live broker's looks at orders the exchange
cannot confirm and at delisted markets (``execution/unclear_lookups.py``, ``execution/gone_markets.py``) all
wait ``Backoff.delay(n)`` after the ``n``-th failure in a row: ``base_s x factor ** (n - 1)``, at most
``max_s``, times a factor drawn uniformly from ``spread`` (then capped at ``max_s`` again). The spread is
what keeps many clients that failed together from retrying in the same instant:

- ``EQUAL_JITTER`` (0.5, 1.0): half of each delay fixed, half random (venue calls);
- ``(0.75, 1.25)``: 25% either way (collectors);
- ``NO_JITTER`` (1.0, 1.0): exactly the nominal delay (restarts, alert redelivery, the live broker's looks).
"""

from __future__ import annotations

import random as _random
from collections.abc import Callable
from dataclasses import dataclass

EQUAL_JITTER = (0.5, 1.0)
NO_JITTER = (1.0, 1.0)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff from ``base_s`` (x ``factor`` per failure) up to ``max_s``, spread by a random
    factor in ``spread`` (see the module docstring)."""

    base_s: float
    max_s: float
    factor: float = 2.0
    spread: tuple[float, float] = NO_JITTER

    def __post_init__(self) -> None:
        if self.base_s <= 0 or self.max_s <= 0:
            raise ValueError(f"backoff base_s and max_s must be > 0 (got {self.base_s}, {self.max_s})")
        low, high = self.spread
        if not 0 <= low <= high:
            raise ValueError(f"backoff spread must be 0 <= low <= high (got {self.spread})")

    def nominal(self, failures: int) -> float:
        """The delay after ``failures`` failures in a row before the spread (1-based; 0 counts as 1)."""
        try:
            return min(self.max_s, self.base_s * self.factor ** max(0, failures - 1))
        except OverflowError:  # an absurd failure count
            return self.max_s

    def delay(self, failures: int, random: Callable[[], float] = _random.random) -> float:
        """Seconds to wait after ``failures`` failures in a row; ``random`` draws from [0, 1) (tests pass
        their own; it is not called when there is no spread)."""
        nominal = self.nominal(failures)
        low, high = self.spread
        factor = low if low == high else low + (high - low) * random()
        return min(self.max_s, nominal * factor)
