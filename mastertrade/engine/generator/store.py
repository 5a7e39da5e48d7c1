"""The strategy store: stored strategies, their state transitions and the generation runs.

The API other parts call (all async, on one ``Database``)::

    store = StrategyStore(db)
    await store.add_many([NewStrategy(genome, metrics=..., path=((State.GENERATED, "..."), ...))])
    await store.get("3fa2c9d8")                      # an id or a unique prefix of >= 4 hex digits
    await store.list(states=[State.PAPER, State.ACTIVE], symbol="BTC/USDT")
    await store.transition(id, State.PAUSED, "paused by hand")   # IllegalTransition (exit 2) if not allowed
    await store.history(id)                          # every transition, oldest first
    await store.lookup(spec)                         # the genome of a stored id, or None (load_strategy)
    await store.runs(limit=20)                       # the newest generation runs, dead owners' interrupted

A strategy's id is its genome's fingerprint, so storing the same logic twice is impossible: ``add_many``
skips ids already stored and reports what it inserted. Every state change is one transaction that
checks the current state in its ``UPDATE ... WHERE state = ?`` and writes the transition row, so two
processes (the daemon's nightly job and ``mt strategy pause``) cannot both move the same strategy from
the same state.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, func, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from mastertrade.db.models.strategies import GenerationRun, StrategyRecord, StrategyTransition
from mastertrade.db.types import utcnow
from mastertrade.engine.generator.run_owner import RunOwner
from mastertrade.engine.generator.states import ALLOWED, State, parse_state
from mastertrade.errors import AlreadyExists, NotFound, UserInputError
from mastertrade.utc import iso

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection
    from sqlmodel.ext.asyncio.session import AsyncSession

    from mastertrade.db.database import Database
    from mastertrade.engine.signals.genome import Genome
    from mastertrade.engine.signals.loader import StoredLookup
    from mastertrade.engine.signals.strategy import Strategy

Clock = Callable[[], datetime]
PLUGIN_KEY = "plugin"
MODEL_PREFIX = "model:"
"""A stored plugin name with this prefix is a trained policy (``signals.model``), not an entry point."""
"""In a stored plugin strategy's ``genome`` column: the plugin's entry point name (no rules: code)."""

_ID = re.compile(r"[0-9a-f]{4,16}")
MIN_PREFIX = 4


class IllegalTransition(UserInputError):
    """A state change the life cycle does not allow; the message names the allowed ones."""


def looks_like_id(spec: str) -> bool:
    """Whether ``spec`` could be a stored strategy id or id prefix (4 to 16 hex digits)."""
    return _ID.fullmatch(spec.lower()) is not None


@dataclass(frozen=True)
class NewStrategy:
    """A strategy to store. ``genome`` must name its symbol and timeframe. ``path`` is the sequence of
    states it went through before being stored, each with its reason (the first is its creation); it
    must follow the allowed transitions, and its last state is the stored state."""

    genome: Genome
    exchange: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    in_sample: dict[str, Any] = field(default_factory=dict)
    out_of_sample: dict[str, Any] = field(default_factory=dict)
    folds: list[Any] = field(default_factory=list)
    search: dict[str, Any] = field(default_factory=dict)
    selection: dict[str, Any] = field(default_factory=dict)
    deflated_sharpe: float | None = None
    reference_agrees: bool | None = None
    reference: dict[str, Any] | None = None
    complexity: int = 0
    generation_run_id: int | None = None
    seed: int | None = None
    path: tuple[tuple[State, str], ...] = ((State.GENERATED, "added"),)

    @cached_property
    def id(self) -> str:
        """The genome's fingerprint, computed once (the store and the pipeline both ask for it)."""
        from mastertrade.engine.signals.canonical import fingerprint

        return fingerprint(self.genome)


@dataclass(frozen=True)
class Transition:
    strategy_id: str
    from_state: State | None
    to_state: State
    reason: str
    at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "strategy_id": self.strategy_id,
            "from": None if self.from_state is None else self.from_state.value,
            "to": self.to_state.value,
            "reason": self.reason,
            "at": _iso(self.at),
        }


_STRATEGY_COLUMNS = (
    "id", "name", "fingerprint", "symbol", "timeframe", "exchange", "state", "genome", "metrics",
    "in_sample", "out_of_sample", "folds", "search", "selection", "deflated_sharpe", "reference_agrees",
    "reference", "complexity", "generation_run_id", "seed", "created_at", "updated_at", "state_since",
)  # fmt: skip
"""The columns of ``strategies`` a :class:`StoredStrategy` reads."""


_HEADLINE_COLUMNS = (
    "id", "name", "symbol", "timeframe", "exchange", "state", "out_of_sample", "deflated_sharpe",
    "reference_agrees", "complexity", "generation_run_id", "created_at", "updated_at", "state_since",
    "legacy",
)  # fmt: skip
"""The columns a headline reads; ``legacy`` is ``selection.legacy``, read by the database."""


@dataclass(frozen=True)
class StrategyHeadline:
    """A stored strategy as a listing shows it (:meth:`StrategyStore.summaries`): its place in the
    pipeline and its hold-out figures, without its genome and validation detail."""

    id: str
    name: str
    symbol: str
    timeframe: str
    exchange: str | None
    state: State
    holdout: dict[str, Any]
    """As :attr:`StoredStrategy.holdout`: empty for a row stored before the hold-out existed."""
    deflated_sharpe: float | None
    reference_agrees: bool | None
    complexity: int
    generation_run_id: int | None
    created_at: datetime
    updated_at: datetime
    state_since: datetime

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> StrategyHeadline:
        return cls(
            id=row["id"],
            name=row["name"],
            symbol=row["symbol"],
            timeframe=row["timeframe"],
            exchange=row["exchange"],
            state=State(row["state"]),
            holdout={} if row["legacy"] else dict(row["out_of_sample"] or {}),
            deflated_sharpe=row["deflated_sharpe"],
            reference_agrees=row["reference_agrees"],
            complexity=row["complexity"],
            generation_run_id=row["generation_run_id"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            state_since=row["state_since"],
        )


@dataclass(frozen=True)
class StoredStrategy:
    """One stored strategy (a read-only snapshot of its row)."""

    id: str
    name: str
    fingerprint: str
    symbol: str
    timeframe: str
    exchange: str | None
    state: State
    genome_data: dict[str, Any]
    metrics: dict[str, Any]
    in_sample: dict[str, Any]
    out_of_sample: dict[str, Any]
    folds: list[Any]
    deflated_sharpe: float | None
    reference_agrees: bool | None
    reference: dict[str, Any] | None
    complexity: int
    generation_run_id: int | None
    seed: int | None
    created_at: datetime
    updated_at: datetime
    state_since: datetime
    search: dict[str, Any] = field(default_factory=dict)
    """What the search optimised (walk-forward on the search window)."""
    selection: dict[str, Any] = field(default_factory=dict)
    """The hold-out and search windows, the trials the deflated Sharpe counted, the run's PBO."""
    parsed: Genome | None = field(default=None, compare=False, repr=False)
    """The genome of ``genome_data`` when whoever built this snapshot held it already (a strategy just
    stored): :attr:`genome` then skips validating the row's genome again."""

    @classmethod
    def from_record(cls, row: StrategyRecord) -> StoredStrategy:
        return cls.from_columns({name: getattr(row, name) for name in _STRATEGY_COLUMNS})

    @classmethod
    def from_columns(cls, row: Mapping[str, Any], *, genome: Genome | None = None) -> StoredStrategy:
        """From a ``strategies`` row's values by column name; ``genome``: the row's genome, parsed
        already (what ``genome.to_dict()`` wrote into the row)."""
        return cls(
            id=row["id"],
            name=row["name"],
            fingerprint=row["fingerprint"],
            symbol=row["symbol"],
            timeframe=row["timeframe"],
            exchange=row["exchange"],
            state=State(row["state"]),
            genome_data=dict(row["genome"]),
            metrics=dict(row["metrics"]),
            in_sample=dict(row["in_sample"]),
            out_of_sample=dict(row["out_of_sample"]),
            folds=list(row["folds"]),
            search=dict(row["search"] or {}),
            selection=dict(row["selection"] or {}),
            deflated_sharpe=row["deflated_sharpe"],
            reference_agrees=row["reference_agrees"],
            reference=None if row["reference"] is None else dict(row["reference"]),
            complexity=row["complexity"],
            generation_run_id=row["generation_run_id"],
            seed=row["seed"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            state_since=row["state_since"],
            parsed=genome,
        )

    @property
    def holdout(self) -> dict[str, Any]:
        """The hold-out metrics (bars the search never saw); empty for a row stored before the
        hold-out existed, whose ``out_of_sample`` held search-optimised numbers."""
        return {} if self.selection.get("legacy") else self.out_of_sample

    @property
    def plugin(self) -> str | None:
        """The entry point name of a plugin strategy (``add_plugin``), None for a genome."""
        value = self.genome_data.get(PLUGIN_KEY)
        return str(value) if value is not None else None

    @property
    def is_model(self) -> bool:
        """Whether it is a trained policy (stored as ``model:<id>`` where a plugin's name goes)."""
        return self.plugin is not None and self.plugin.startswith(MODEL_PREFIX)

    @property
    def genome(self) -> Genome:
        """The genome, validated (a row is only written from a valid genome)."""
        from mastertrade.engine.signals.genome import parse_genome

        if self.plugin is not None:
            raise UserInputError(
                f"stored strategy {self.id} is the "
                + ("trained model" if self.is_model else "plugin")
                + f" {self.plugin!r}, not rules: it has no genome"
            )
        if self.parsed is not None:
            return self.parsed
        return parse_genome(self.genome_data, source=f"stored strategy {self.id}")

    def strategy(self) -> Strategy:
        """The runnable strategy: the genome's, the stored policy's (``model:<id>``) or the installed
        plugin's, bound to this market."""
        from mastertrade.engine.signals.strategy import Strategy

        if self.plugin is None:
            return Strategy.from_genome(self.genome, "stored")
        if self.is_model:
            from mastertrade.engine.signals.model.source import model_strategy

            model = model_strategy(self.plugin)
            assert model is not None  # a "model:" spec always names one (or raises)
            return model.bind(self.symbol, self.timeframe)
        from mastertrade.engine.signals.plugins import load_plugin

        try:
            plugin = load_plugin(self.plugin)
        except KeyError:
            raise NotFound(
                f"stored strategy {self.id} needs the plugin {self.plugin!r}, which is not installed"
            ) from None
        return Strategy.from_plugin(self.plugin, plugin, self.symbol, self.timeframe)

    def description(self, *, multiline: bool = False) -> str:
        """Its rules in words (a plugin: its own description)."""
        if self.plugin is not None:
            kind = "model" if self.is_model else "plugin"
            return f"{kind} {self.plugin}: {self.strategy().description}"
        from mastertrade.engine.signals.describe import describe

        return describe(self.genome, multiline=multiline)

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe, for ``--json`` output and the API."""
        return {
            "id": self.id,
            "name": self.name,
            "fingerprint": self.fingerprint,
            "symbol": self.symbol,
            "timeframe": self.timeframe,
            "exchange": self.exchange,
            "state": self.state.value,
            "state_since": _iso(self.state_since),
            "metrics": self.metrics,
            "in_sample": self.in_sample,
            "out_of_sample": self.holdout,
            "folds": self.folds,
            "search": self.search,
            "selection": self.selection,
            "deflated_sharpe": self.deflated_sharpe,
            "reference_agrees": self.reference_agrees,
            "reference": self.reference,
            "complexity": self.complexity,
            "generation_run_id": self.generation_run_id,
            "seed": self.seed,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "genome": self.genome_data,
        }


INTERRUPTED = "interrupted"
"""The outcome of a generation run its process never finished (``StrategyStore.mark_interrupted``)."""


@dataclass(frozen=True)
class RunRecord:
    """One generation run."""

    id: int
    trigger: str
    exchange: str
    symbol: str
    timeframe: str
    seed: int
    parameters: dict[str, Any]
    counts: dict[str, Any]
    timings: dict[str, Any]
    outcome: str
    error: str | None
    started_at: datetime
    finished_at: datetime | None
    owner: RunOwner | None = None
    """The process that ran it (None for a run stored before owners were recorded)."""

    @classmethod
    def from_record(cls, row: GenerationRun) -> RunRecord:
        assert row.id is not None
        return cls(
            id=row.id,
            trigger=row.trigger,
            exchange=row.exchange,
            symbol=row.symbol,
            timeframe=row.timeframe,
            seed=row.seed,
            parameters=dict(row.parameters),
            counts=dict(row.counts),
            timings=dict(row.timings),
            outcome=row.outcome,
            error=row.error,
            started_at=row.started_at,
            finished_at=row.finished_at,
            owner=_owner(row),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            **{
                key: value
                for key, value in self.__dict__.items()
                if key not in ("started_at", "finished_at", "owner")
            },
            "started_at": _iso(self.started_at),
            "finished_at": None if self.finished_at is None else _iso(self.finished_at),
            "duration_s": self.duration_s,
            "owner": None if self.owner is None else {"pid": self.owner.pid, "host": self.owner.host},
        }

    @property
    def duration_s(self) -> float | None:
        """How long it ran, start to end (the run's own measure when it has one); None while it runs and
        for a run interrupted (it ended unseen: ``finished_at`` is when that was found)."""
        if self.finished_at is None or self.outcome == INTERRUPTED:
            return None
        total = self.timings.get("total_s")
        if isinstance(total, int | float):
            return float(total)
        return (self.finished_at - self.started_at).total_seconds()


def _owner(row: GenerationRun) -> RunOwner | None:
    if row.owner_pid is None or row.owner_host is None:
        return None
    return RunOwner(row.owner_pid, row.owner_host, row.owner_started)


def _iso(value: datetime) -> str:
    return iso(value)


def _columns(row: StrategyRecord | StrategyTransition, table: Table) -> dict[str, Any]:
    """A model's values by column, for a Core INSERT (the autoincrement id left to the database)."""
    return {
        column.name: getattr(row, column.name)
        for column in table.columns
        if not (column.primary_key and getattr(row, column.name) is None)
    }


def check_path(path: Sequence[tuple[State, str]]) -> None:
    """Raise ``ValueError`` unless ``path`` is a non-empty sequence of allowed moves."""
    if not path:
        raise ValueError("a stored strategy needs at least its creation state")
    for (source, _), (target, _) in zip(path, path[1:], strict=False):
        if target not in ALLOWED[source]:
            raise ValueError(f"{source.value} -> {target.value} is not an allowed transition")


def illegal(strategy_id: str, source: State, target: State) -> IllegalTransition:
    options = ALLOWED[source]
    if options:
        allowed_text = f"from {source.value} it can go to {', '.join(state.value for state in options)}"
    else:
        allowed_text = f"{source.value} is final"
    return IllegalTransition(
        f"strategy {strategy_id} cannot go from {source.value} to {target.value}: {allowed_text}"
    )


class StrategyStore:
    """See the module docstring. ``clock`` gives the transition times (tests pass a fake)."""

    def __init__(self, db: Database, *, clock: Clock = utcnow) -> None:
        self.db = db
        self.clock = clock

    # --- adding -------------------------------------------------------------------------------------

    async def add(self, new: NewStrategy) -> StoredStrategy:
        """Store one strategy; ``AlreadyExists`` if the same logic is already stored."""
        added = await self.add_many([new])
        if not added:
            raise await self._already_stored(new.id, "the same logic on the same market")
        return added[0]

    async def _already_stored(self, strategy_id: str, what: str) -> AlreadyExists:
        """The refusal of a strategy stored before: it names the stored one's state and what can be done
        with it (a failed or retired one cannot trade again: `mt strategy paper` would only say so)."""
        stored = await self.find(strategy_id)
        state = stored.state if stored is not None else None
        if state is None:
            then = ""
        elif state in (State.FAILED, State.RETIRED):
            then = f"; it is {state.value}, which is final: it does not trade on this market again"
        elif state == State.PASSED:
            then = f"; it is {state.value}: `mt strategy paper {strategy_id}` puts it on paper"
        else:
            then = f"; it is {state.value} (see `mt strategy show {strategy_id}`)"
        return AlreadyExists(f"strategy {strategy_id} is already stored ({what}){then}")

    async def add_many(self, items: Iterable[NewStrategy]) -> list[StoredStrategy]:
        """Store every item whose id is not stored yet (nor repeated earlier in ``items``), with the
        transitions of its path, in one transaction. Returns the stored ones, in input order.

        Another process storing one of the same ids at the same moment (a nightly run beside `mt
        generate`) makes the insert fail as a whole; it is then retried once without the ids stored
        meanwhile."""
        batch = list(items)
        try:
            return await self._add_many(batch)
        except IntegrityError:
            return await self._add_many(batch)

    async def _add_many(self, items: list[NewStrategy]) -> list[StoredStrategy]:
        fresh: dict[str, NewStrategy] = {}
        for item in items:
            genome = item.genome
            if not genome.symbol or not genome.timeframe:
                raise UserInputError(
                    f"strategy {genome.name!r}: a stored genome needs a symbol and a timeframe"
                )
            check_path(item.path)
            fresh.setdefault(item.id, item)
        if not fresh:
            return []
        existing = await self.existing_ids(fresh)
        now = self.clock()
        # plain rows by column for one multi-row Core INSERT per table: no ORM object per strategy
        rows: list[dict[str, Any]] = []
        genomes: list[Genome] = []
        transitions: list[dict[str, Any]] = []
        for strategy_id, item in fresh.items():
            if strategy_id in existing:
                continue
            genome = item.genome
            assert genome.symbol is not None and genome.timeframe is not None
            rows.append(
                {
                    "id": strategy_id,
                    "name": genome.name,
                    "fingerprint": strategy_id,
                    "symbol": genome.symbol,
                    "timeframe": genome.timeframe,
                    "exchange": item.exchange,
                    "state": item.path[-1][0].value,
                    "genome": genome.to_dict(),
                    "metrics": item.metrics,
                    "in_sample": item.in_sample,
                    "out_of_sample": item.out_of_sample,
                    "folds": item.folds,
                    "search": item.search,
                    "selection": item.selection,
                    "deflated_sharpe": item.deflated_sharpe,
                    "reference_agrees": item.reference_agrees,
                    "reference": item.reference,
                    "complexity": item.complexity,
                    "generation_run_id": item.generation_run_id,
                    "seed": item.seed,
                    "created_at": now,
                    "updated_at": now,
                    "state_since": now,
                }
            )
            genomes.append(genome)
            previous: State | None = None
            for state, reason in item.path:
                transitions.append(
                    {
                        "strategy_id": strategy_id,
                        "from_state": None if previous is None else previous.value,
                        "to_state": state.value,
                        "reason": reason,
                        "at": now,
                    }
                )
                previous = state
        if not rows:
            return []
        async with self.db.engine.begin() as connection:
            await connection.execute(insert(StrategyRecord.__table__), rows)  # type: ignore[attr-defined]
            await connection.execute(insert(StrategyTransition.__table__), transitions)  # type: ignore[attr-defined]
        return [
            StoredStrategy.from_columns(row, genome=genome) for row, genome in zip(rows, genomes, strict=True)
        ]

    async def add_plugin(
        self,
        strategy: Strategy,
        *,
        exchange: str | None,
        metrics: dict[str, Any],
        path: tuple[tuple[State, str], ...],
        holdout: dict[str, Any] | None = None,
        deflated_sharpe: float | None = None,
        selection: dict[str, Any] | None = None,
    ) -> StoredStrategy:
        """Store a plugin strategy bound to a market: its row holds the plugin's entry point name and its
        order settings instead of a genome (``StoredStrategy.strategy`` loads the plugin back). Its id is
        a hash of the name and the market, so the same plugin on the same market is stored once. A trained
        model (``model:<id>``) is stored the same way, with its hold-out evaluation as ``holdout``
        (its out-of-sample record and Kelly prior, as a generated genome's) and its deflated Sharpe ratio."""
        import hashlib

        if strategy.plugin is None or strategy.symbol is None or strategy.timeframe is None:
            raise UserInputError(
                f"strategy {strategy.name!r}: a stored plugin needs a symbol and a timeframe"
            )
        check_path(path)
        key = f"plugin:{strategy.name}:{strategy.symbol}:{strategy.timeframe}"
        strategy_id = hashlib.sha256(key.encode()).hexdigest()[:16]
        if await self.existing_ids([strategy_id]):
            raise await self._already_stored(strategy_id, "the same plugin on the same market")
        now = self.clock()
        data = {
            PLUGIN_KEY: strategy.name,
            "name": strategy.name,
            "symbol": strategy.symbol,
            "timeframe": strategy.timeframe,
            "stop_loss": strategy.stop_loss,
            "take_profit": strategy.take_profit,
            "trailing_stop": strategy.trailing_stop,
            "size": strategy.size,
        }
        row = StrategyRecord(
            id=strategy_id,
            name=strategy.name,
            fingerprint=strategy_id,
            symbol=strategy.symbol,
            timeframe=strategy.timeframe,
            exchange=exchange,
            state=path[-1][0].value,
            genome=data,
            metrics=metrics,
            out_of_sample=dict(holdout or {}),
            selection=dict(selection or {}),
            deflated_sharpe=deflated_sharpe,
            created_at=now,
            updated_at=now,
            state_since=now,
        )
        moves = []
        previous: State | None = None
        for state, reason in path:
            moves.append(
                StrategyTransition(
                    strategy_id=strategy_id,
                    from_state=None if previous is None else previous.value,
                    to_state=state.value,
                    reason=reason,
                    at=now,
                )
            )
            previous = state
        strategies = StrategyRecord.__table__  # type: ignore[attr-defined]
        history = StrategyTransition.__table__  # type: ignore[attr-defined]
        async with self.db.engine.begin() as connection:
            await connection.execute(insert(strategies), [_columns(row, strategies)])
            await connection.execute(insert(history), [_columns(move, history) for move in moves])
        return StoredStrategy.from_record(row)

    async def existing_ids(self, ids: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(ids))
        found: set[str] = set()
        async with self.db.sessions() as session:
            # in slices: Postgres and SQLite cap the parameters of one statement
            for start in range(0, len(wanted), 500):
                part = wanted[start : start + 500]
                rows = await session.exec(select(StrategyRecord.id).where(col(StrategyRecord.id).in_(part)))
                found.update(rows.all())
        return found

    async def ids(self, symbol: str, timeframe: str) -> set[str]:
        """Every stored id (fingerprint) of one market: what a new search must not produce again."""
        async with self.db.sessions() as session:
            rows = await session.exec(
                select(StrategyRecord.id).where(
                    col(StrategyRecord.symbol) == symbol, col(StrategyRecord.timeframe) == timeframe
                )
            )
            return set(rows.all())

    # --- reading ------------------------------------------------------------------------------------

    async def find(self, strategy_id: str) -> StoredStrategy | None:
        """The strategy with exactly this id, or None."""
        async with self.db.sessions() as session:
            row = await session.get(StrategyRecord, strategy_id)
            return None if row is None else StoredStrategy.from_record(row)

    async def get(self, spec: str) -> StoredStrategy:
        """The strategy whose id is ``spec`` or starts with it (at least 4 hex digits).

        ``NotFound`` (exit 2) when there is none; ``UserInputError`` when a prefix is ambiguous."""
        key = spec.strip().lower()
        if not looks_like_id(key):
            raise NotFound(
                f"no stored strategy {spec!r}: ids are 4 to 16 hex digits (see `mt strategy list`)"
            )
        found = await self.find(key)
        if found is not None:
            return found
        async with self.db.sessions() as session:
            rows = (
                await session.exec(
                    select(StrategyRecord).where(col(StrategyRecord.id).startswith(key)).limit(6)
                )
            ).all()
        if not rows:
            raise NotFound(f"no stored strategy {spec!r} (see `mt strategy list`)")
        if len(rows) > 1:
            shown = ", ".join(row.id for row in rows[:5])
            raise UserInputError(
                f"strategy id prefix {spec!r} is ambiguous: {shown}{' ...' if len(rows) > 5 else ''}"
            )
        return StoredStrategy.from_record(rows[0])

    async def list(
        self,
        *,
        states: Iterable[State | str] | None = None,
        symbol: str | None = None,
        timeframe: str | None = None,
        generation_run_id: int | None = None,
        limit: int | None = None,
    ) -> list[StoredStrategy]:
        """Stored strategies, newest first (then by id), filtered by state, market or run."""
        query = _listing(select(StrategyRecord), states, symbol, timeframe, generation_run_id, limit)
        async with self.db.sessions() as session:
            rows = (await session.exec(query)).all()
        return [StoredStrategy.from_record(row) for row in rows]

    async def locked(self, conn: AsyncConnection, *, timeframe: str) -> builtins.list[StoredStrategy]:
        """The strategies of ``timeframe`` (every state), read inside the caller's transaction ``conn``
        with their rows share-locked until it ends: on Postgres a state change of any of them waits for
        that transaction (and one under way is waited for, then read as it committed); on SQLite the
        caller takes the write lock first, which holds every change back. What the caller decides from
        them therefore still holds when it commits."""
        table = StrategyRecord.__table__  # type: ignore[attr-defined]
        query = table.select().where(table.c.timeframe == timeframe).with_for_update(read=True)
        rows = (await conn.execute(query)).mappings().all()
        return [StoredStrategy.from_columns(dict(row)) for row in rows]

    async def summaries(
        self,
        *,
        states: Iterable[State | str] | None = None,
        symbol: str | None = None,
        timeframe: str | None = None,
        limit: int | None = None,
    ) -> builtins.list[StrategyHeadline]:
        """What a listing shows of the strategies :meth:`list` returns (same filters, same order), read
        as plain columns: no genome, folds or search detail, and no ORM objects. The daemon answers
        the dashboard's listing of a thousand strategies with it on its event loop, where decoding every
        JSON column of every row held trading for most of a second."""
        legacy = col(StrategyRecord.selection)["legacy"].as_boolean()  # one key, not the whole document
        columns = [getattr(StrategyRecord, name) for name in _HEADLINE_COLUMNS[:-1]] + [legacy]
        query = _listing(select(*columns), states, symbol, timeframe, None, limit)
        async with self.db.sessions() as session:
            rows = (await session.exec(query)).all()
        return [StrategyHeadline.of(dict(zip(_HEADLINE_COLUMNS, row, strict=True))) for row in rows]

    async def count(
        self,
        *,
        states: Iterable[State | str] | None = None,
        symbol: str | None = None,
        timeframe: str | None = None,
    ) -> int:
        """How many strategies :meth:`list` would return without a limit (same filters)."""
        query = _filtered(select(func.count()).select_from(StrategyRecord), states, symbol, timeframe, None)
        async with self.db.sessions() as session:
            return int((await session.exec(query)).one())

    async def counts(self) -> dict[str, int]:
        """How many strategies are in each state (every state present, zeros included)."""
        async with self.db.sessions() as session:
            rows = (
                await session.exec(
                    select(StrategyRecord.state, func.count()).group_by(col(StrategyRecord.state))
                )
            ).all()
        found = {state: int(count) for state, count in rows}
        return {state.value: found.get(state.value, 0) for state in State}

    async def history(self, strategy_id: str) -> builtins.list[Transition]:
        """Every transition of a strategy, oldest first (its creation included)."""
        async with self.db.sessions() as session:
            rows = (
                await session.exec(
                    select(StrategyTransition)
                    .where(col(StrategyTransition.strategy_id) == strategy_id)
                    .order_by(col(StrategyTransition.id))
                )
            ).all()
        return [
            Transition(
                row.strategy_id,
                None if row.from_state is None else State(row.from_state),
                State(row.to_state),
                row.reason,
                row.at,
            )
            for row in rows
        ]

    # --- moving -------------------------------------------------------------------------------------

    async def transition(
        self, spec: str, target: State | str, reason: str, *, expect: State | str | None = None
    ) -> StoredStrategy:
        """Move a strategy to ``target``, recording ``reason``. ``IllegalTransition`` (exit 2, naming
        the allowed moves) when the life cycle forbids it, or when ``expect`` is given and the strategy
        is no longer in that state (someone else moved it first)."""
        target = parse_state(str(target))
        current = await self.get(spec)
        source = current.state
        if expect is not None and source != parse_state(str(expect)):
            raise IllegalTransition(
                f"strategy {current.id} is {source.value}, not {parse_state(str(expect)).value} any more"
            )
        if target not in ALLOWED[source]:
            raise illegal(current.id, source, target)
        now = self.clock()
        async with self.db.sessions() as session:
            result = await session.exec(
                update(StrategyRecord)
                .where(col(StrategyRecord.id) == current.id, col(StrategyRecord.state) == source.value)
                .values(state=target.value, updated_at=now, state_since=now)
            )
            if (result.rowcount or 0) != 1:
                await session.rollback()
                fresh = await self.get(current.id)
                raise IllegalTransition(
                    f"strategy {current.id} moved to {fresh.state.value} meanwhile; "
                    f"{source.value} -> {target.value} not applied"
                )
            session.add(
                StrategyTransition(
                    strategy_id=current.id,
                    from_state=source.value,
                    to_state=target.value,
                    reason=reason,
                    at=now,
                )
            )
            await session.commit()
        moved = await self.find(current.id)
        assert moved is not None
        return moved

    # --- load_strategy's hook -----------------------------------------------------------------------

    async def lookup(self, spec: str) -> Genome | None:
        """The genome of the stored strategy ``spec`` (id or unique prefix), or None if there is none."""
        if not looks_like_id(spec):
            return None
        try:
            return (await self.get(spec)).genome
        except NotFound:
            return None

    async def resolver(self, spec: str) -> StoredLookup:
        """A ``stored=`` hook for ``load_strategy(spec, ..., stored=...)``: the lookup is async and the
        hook synchronous, so the strategy is fetched now and the hook answers from it: the genome, or
        for a stored trained model or plugin (no genome) its runnable strategy, bound to its market."""
        found: Genome | Strategy | None = None
        if looks_like_id(spec):
            try:
                stored = await self.get(spec)
            except NotFound:
                stored = None
            if stored is not None:
                found = stored.genome if stored.plugin is None else stored.strategy()
        return lambda asked: found if asked == spec else None

    # --- generation runs ----------------------------------------------------------------------------

    async def start_run(
        self,
        *,
        trigger: str,
        exchange: str,
        symbol: str,
        timeframe: str,
        seed: int,
        parameters: dict[str, Any],
    ) -> int:
        """Record a run of this process as "running"; the runs a dead process left "running" are marked
        interrupted first (``mark_abandoned``)."""
        await self.mark_abandoned()
        owner = RunOwner.current()
        row = GenerationRun(
            trigger=trigger,
            exchange=exchange,
            symbol=symbol,
            timeframe=timeframe,
            seed=seed,
            parameters=parameters,
            outcome="running",
            started_at=self.clock(),
            owner_pid=owner.pid,
            owner_host=owner.host,
            owner_started=owner.started,
        )
        async with self.db.sessions() as session:
            session.add(row)
            await session.commit()
            await session.refresh(row)
        assert row.id is not None
        return row.id

    async def finish_run(
        self,
        run_id: int,
        *,
        outcome: str,
        counts: dict[str, Any],
        timings: dict[str, Any],
        error: str | None = None,
    ) -> None:
        async with self.db.sessions() as session:
            await session.exec(
                update(GenerationRun)
                .where(col(GenerationRun.id) == run_id)
                .values(
                    outcome=outcome, counts=counts, timings=timings, error=error, finished_at=self.clock()
                )
            )
            await session.commit()

    async def mark_interrupted(self, *, trigger: str) -> builtins.list[RunRecord]:
        """Runs of ``trigger`` left "running" by a process that died (a daemon killed mid-run): they are
        over and did not finish, and said so (outcome "interrupted", ended now). Only a process that
        knows no run of ``trigger`` can be going on may call this: the daemon at its start for its nightly
        runs (one daemon per database). Returns them."""
        async with self.db.sessions() as session:
            left = list(
                (
                    await session.exec(
                        select(GenerationRun).where(
                            col(GenerationRun.trigger) == trigger, col(GenerationRun.outcome) == "running"
                        )
                    )
                ).all()
            )
            await self._interrupt(session, [run.id for run in left if run.id is not None])
        return [await self.run(run.id) for run in left if run.id is not None]

    async def mark_abandoned(self) -> builtins.list[RunRecord]:
        """Runs left "running" whose owner, a process on this host, has ended (a ``mt generate`` killed
        mid-search, a daemon killed during its nightly run): marked "interrupted", ended now, like
        ``mark_interrupted``'s. A run whose owner still runs, runs on another host or is not recorded
        (stored before owners were) is left as it is. Returns those marked."""
        owners = select(
            GenerationRun.id, GenerationRun.owner_pid, GenerationRun.owner_host, GenerationRun.owner_started
        ).where(col(GenerationRun.outcome) == "running", col(GenerationRun.owner_pid).is_not(None))
        async with self.db.sessions() as session:
            left = (await session.exec(owners)).all()
            gone = [
                run_id
                for run_id, pid, host, started in left
                if run_id is not None and pid is not None and host and RunOwner(pid, host, started).gone()
            ]
            await self._interrupt(session, gone)
        return [await self.run(run_id) for run_id in gone]

    async def _interrupt(self, session: AsyncSession, run_ids: builtins.list[int]) -> None:
        """Mark ``run_ids`` interrupted, ended now, if they are still "running" (another process may
        have marked them meanwhile)."""
        if not run_ids:
            return
        await session.exec(
            update(GenerationRun)
            .where(col(GenerationRun.id).in_(run_ids), col(GenerationRun.outcome) == "running")
            .values(
                outcome=INTERRUPTED,
                finished_at=self.clock(),
                error="the process running it stopped before it finished",
            )
        )
        await session.commit()

    async def run(self, run_id: int) -> RunRecord:
        async with self.db.sessions() as session:
            row = await session.get(GenerationRun, run_id)
        if row is None:
            raise NotFound(f"no generation run {run_id}")
        return RunRecord.from_record(row)

    async def count_runs(self, *, trigger: str, symbol: str, timeframe: str) -> int:
        """How many generation runs ``trigger`` started on a series (any exchange, any outcome)."""
        async with self.db.sessions() as session:
            found = await session.exec(
                select(func.count())
                .select_from(GenerationRun)
                .where(
                    col(GenerationRun.trigger) == trigger,
                    col(GenerationRun.symbol) == symbol,
                    col(GenerationRun.timeframe) == timeframe,
                )
            )
            return int(found.one())

    async def runs(self, limit: int = 20) -> builtins.list[RunRecord]:
        """The newest generation runs first; those a dead process left "running" are marked interrupted
        first (``mark_abandoned``), so none is shown running for ever."""
        await self.mark_abandoned()
        async with self.db.sessions() as session:
            rows = (
                await session.exec(select(GenerationRun).order_by(col(GenerationRun.id).desc()).limit(limit))
            ).all()
        return [RunRecord.from_record(row) for row in rows]


def _listing(
    query: Any,
    states: Iterable[State | str] | None,
    symbol: str | None,
    timeframe: str | None,
    generation_run_id: int | None,
    limit: int | None,
) -> Any:
    """``query`` over strategies filtered by state, market or run, newest first (then by id): the one
    order and filter of :meth:`StrategyStore.list` and :meth:`StrategyStore.summaries`."""
    query = _filtered(query, states, symbol, timeframe, generation_run_id)
    query = query.order_by(col(StrategyRecord.created_at).desc(), col(StrategyRecord.id))
    return query if limit is None else query.limit(limit)


def _filtered(
    query: Any,
    states: Iterable[State | str] | None,
    symbol: str | None,
    timeframe: str | None,
    generation_run_id: int | None,
) -> Any:
    """``query`` over strategies filtered by state, market or run (:func:`_listing`, :meth:`count`)."""
    if states is not None:
        names = [parse_state(str(state)).value for state in states]
        query = query.where(col(StrategyRecord.state).in_(names))
    if symbol is not None:  # a market in any case (`btc/usdt` is BTC/USDT), as every command reads it
        query = query.where(func.upper(col(StrategyRecord.symbol)) == symbol.strip().upper())
    if timeframe is not None:
        query = query.where(col(StrategyRecord.timeframe) == timeframe)
    if generation_run_id is not None:
        query = query.where(col(StrategyRecord.generation_run_id) == generation_run_id)
    return query
