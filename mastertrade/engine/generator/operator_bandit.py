"""Learned choice of variation operators: a Thompson-sampling bandit that persists across runs.

The genetic search varies genomes with eight mutation operators (:data:`.variation.MUTATIONS`) and a
crossover applied to a pair with some probability. With ``[generator] operator_policy = "bandit"`` the
search asks this bandit, for each child, which mutation to apply (and, for a ``swap``, which indicator
or price column comes in) and, for each pair, which crossover rate to use (0.2, 0.5 or 0.8); with
``"uniform"`` it keeps the fixed built-in weights, uniform swaps and the configured ``crossover_prob``,
not adapted to anything.

Reward: a child is a success when its primary fitness (out-of-sample score) beats its parent's (the
better parent's, after a crossover); the operator, swapped-in indicator and rate that made it are
credited with a success or a failure. A child dropped unscored because every try duplicated a known
genome is a failure too, otherwise the bandit would favour operators that undo each other and starve
the search of new genomes.

Each arm keeps a Beta(successes + 1, failures + 1) posterior; a choice samples every arm's
posterior and takes the highest draw (Thompson sampling), so operators that improve offspring are
chosen more while the others keep being tried. Counts are capped (:data:`HORIZON`) by rescaling, so the
policy keeps adapting as a market changes.

State persists per series in ``<data dir>/generator/operators/<symbol>_<timeframe>.json`` and is read
at the start of a search and written at its end, so each nightly run starts from what earlier runs
learned. Draws use the child's own seeded generator, so a run is reproducible from its seed and the state
file it started from.

Written here (about a hundred lines) because the libraries at hand have no bandit for this loop: deap
leaves operator choice to the caller, and a general bandit package would add a dependency for a Beta
update and a draw.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mastertrade.engine.generator.variation import MUTATIONS, Operator, mutate_swap

if TYPE_CHECKING:
    import random

    from mastertrade.engine.generator.variation import Json, Pool, Source
    from mastertrade.engine.signals.random_genome import Chooser

STATE_VERSION = 1
CROSSOVER_RATES: tuple[float, ...] = (0.2, 0.5, 0.8)
HORIZON = 500.0
"""Most evidence (successes + failures) an arm keeps; older evidence is scaled down beyond it."""

_OPERATORS: dict[str, Operator] = {name: operator for name, operator, _ in MUTATIONS}


@dataclass
class Arm:
    """Successes and failures of one choice (Beta(successes + 1, failures + 1) posterior)."""

    successes: float = 0.0
    failures: float = 0.0

    def update(self, success: bool) -> None:
        if success:
            self.successes += 1.0
        else:
            self.failures += 1.0
        total = self.successes + self.failures
        if total > HORIZON:
            self.successes *= HORIZON / total
            self.failures *= HORIZON / total

    def draw(self, rng: random.Random) -> float:
        return rng.betavariate(self.successes + 1.0, self.failures + 1.0)

    @property
    def mean(self) -> float:
        return (self.successes + 1.0) / (self.successes + self.failures + 2.0)


@dataclass
class Ticket:
    """What made one child: its reference (parent) fitness and the arms used, filled as it is made."""

    parent_fitness: float
    rate: int | None = None
    mutation: str | None = None
    swap: str | None = None
    """The indicator (or price column) a ``swap`` mutation brought in."""


@dataclass
class OperatorBandit:
    """The bandit's arms: one per mutation operator and one per crossover rate."""

    mutations: dict[str, Arm] = field(default_factory=lambda: {name: Arm() for name in _OPERATORS})
    rates: list[Arm] = field(default_factory=lambda: [Arm() for _ in CROSSOVER_RATES])
    swaps: dict[str, Arm] = field(default_factory=dict)
    """One arm per indicator or price column a swap can bring in (created when first offered)."""
    runs: int = 0
    path: Path | None = None
    _pending: dict[int, Ticket] = field(default_factory=dict, repr=False)

    # -- choices -------------------------------------------------------------------------------------
    def crossover_rate(self, rng: random.Random) -> tuple[float, int]:
        """The crossover probability for one pair, and the arm's index."""
        index = max(range(len(self.rates)), key=lambda k: self.rates[k].draw(rng))
        return CROSSOVER_RATES[index], index

    def ticket(self, parent_fitness: float, rate: int | None) -> Ticket:
        return Ticket(parent_fitness, rate)

    def chooser(self, ticket: Ticket) -> Callable[[Chooser], Operator]:
        """The mutation chooser ``variation.mutate`` calls; the last choice made is the child's."""

        def pick(rng: Chooser, sources: list[Source]) -> Source:
            draws = [self.swaps.setdefault(name, Arm()).draw(rng) for _, name, _ in sources]  # type: ignore[arg-type]
            chosen = sources[max(range(len(sources)), key=lambda k: draws[k])]
            ticket.swap = chosen[1]
            return chosen

        def swap(rng: Chooser, data: Json, pool: Pool = ()) -> Json | None:
            return mutate_swap(rng, data, pool, pick)

        def choose(rng: Chooser) -> Operator:
            draws = {name: arm.draw(rng) for name, arm in self.mutations.items()}  # type: ignore[arg-type]
            name = max(draws, key=lambda key: draws[key])
            ticket.mutation = name
            ticket.swap = None
            return swap if name == "swap" else _OPERATORS[name]

        return choose

    # -- rewards -------------------------------------------------------------------------------------
    def track(self, seed: int, ticket: Ticket) -> None:
        """Remember how the child of ``seed`` was made, until it is scored."""
        self._pending[seed] = ticket

    def observe(self, seed: int, fitness: float) -> None:
        """Credit the arms that made the child of ``seed`` with its outcome."""
        ticket = self._pending.pop(seed, None)
        if ticket is None:
            return
        success = math.isfinite(fitness) and fitness > ticket.parent_fitness
        if ticket.mutation is not None:
            self.mutations[ticket.mutation].update(success)
        if ticket.rate is not None:
            self.rates[ticket.rate].update(success)
        if ticket.mutation == "swap" and ticket.swap is not None:
            self.swaps.setdefault(ticket.swap, Arm()).update(success)

    # -- persistence ---------------------------------------------------------------------------------
    def as_dict(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "runs": self.runs,
            "mutations": {name: [arm.successes, arm.failures] for name, arm in self.mutations.items()},
            "swaps": {name: [arm.successes, arm.failures] for name, arm in sorted(self.swaps.items())},
            "crossover_rates": {
                str(rate): [arm.successes, arm.failures]
                for rate, arm in zip(CROSSOVER_RATES, self.rates, strict=True)
            },
        }

    def summary(self) -> dict[str, float]:
        """Each arm's posterior mean success rate (for reports)."""
        out = {f"mutation:{name}": round(arm.mean, 4) for name, arm in self.mutations.items()}
        out.update(
            {
                f"crossover:{rate}": round(arm.mean, 4)
                for rate, arm in zip(CROSSOVER_RATES, self.rates, strict=True)
            }
        )
        return out

    @classmethod
    def load(cls, path: Path | None) -> OperatorBandit:
        """The state stored at ``path`` (a fresh bandit when there is none, or it is from another
        version or unreadable: the state is a learned preference, never something a user stored)."""
        bandit = cls(path=path)
        if path is None or not path.is_file():
            return bandit
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") != STATE_VERSION:
                return bandit
            for name, (successes, failures) in data["mutations"].items():
                if name in bandit.mutations:
                    bandit.mutations[name] = Arm(float(successes), float(failures))
            for index, rate in enumerate(CROSSOVER_RATES):
                successes, failures = data["crossover_rates"][str(rate)]
                bandit.rates[index] = Arm(float(successes), float(failures))
            for name, (successes, failures) in data.get("swaps", {}).items():
                bandit.swaps[str(name)] = Arm(float(successes), float(failures))
            bandit.runs = int(data.get("runs", 0))
        except (OSError, ValueError, KeyError, TypeError):
            return cls(path=path)
        return bandit

    def save(self) -> None:
        """Write the state atomically (after a search; counts one more run)."""
        if self.path is None:
            return
        self.runs += 1
        self._pending.clear()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".operators-", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(self.as_dict(), out, indent=1)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def state_path(data_dir: Path, symbol: str, timeframe: str) -> Path:
    """Where the bandit of a series is stored."""
    safe = "".join(c if c.isalnum() or c in "-." else "_" for c in f"{symbol}_{timeframe}")
    return data_dir / "generator" / "operators" / f"{safe}.json"
