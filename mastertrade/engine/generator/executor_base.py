"""The executor interface (see :mod:`.executor` for the contract every implementation keeps)."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from mastertrade.engine.generator.evaluation import Score, Timings
    from mastertrade.engine.signals.genome import Genome

ExecutorKind = Literal["threads", "processes", "dask"]


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


class Executor(ABC):
    """Maps batches of genomes to their scores (see the module docstring for the contract)."""

    workers: int

    @abstractmethod
    def map(self, genomes: Sequence[Genome], *, detail: bool = False) -> list[Score]:
        """The scores of ``genomes``, in input order."""

    @abstractmethod
    def timings(self) -> Timings:
        """Time the workers spent, summed over workers and calls."""

    def close(self) -> None:  # noqa: B027  (optional for executors that hold nothing)
        """Release the workers."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
