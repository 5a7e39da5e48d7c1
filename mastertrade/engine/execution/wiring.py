"""The trading core assembled for a daemon: the ``Account`` on its broker, journal and risk gate, the
``GoalsDesk``, the live ``Protector`` and the ``Trader`` that decides with them.

This is the one place that knows which concrete collaborators a daemon's trading uses (the database's
journal, risk and goal stores, the stored series and their features); the classes themselves take what they
are given, so a test can build a ``Trader`` from fakes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mastertrade.config import Settings
from mastertrade.db.database import Database
from mastertrade.db.types import utcnow
from mastertrade.engine.execution.account import Account, paper_broker
from mastertrade.engine.execution.broker import Broker, Publish
from mastertrade.engine.execution.goals_desk import GoalsDesk
from mastertrade.engine.execution.journal import Journal
from mastertrade.engine.execution.owed_exits import OwedExits
from mastertrade.engine.execution.protector import Protector
from mastertrade.engine.execution.strategies import StrategySource
from mastertrade.engine.execution.trader import Trader
from mastertrade.engine.research.series import SeriesLoader
from mastertrade.engine.risk.manager import RiskManager
from mastertrade.engine.risk.store import RiskStore
from mastertrade.engine.sizing.store import GoalStore

if TYPE_CHECKING:
    from mastertrade.engine.market.store import CandleStore


def build_account(
    settings: Settings,
    db: Database,
    *,
    broker: Broker | None = None,
    publish: Publish | None = None,
    clock: Any = utcnow,
    wall: Any = None,
) -> Account:
    """The account on ``broker`` (the paper broker of ``[paper]`` when None) with the risk gate of
    ``[risk]``; a live account also gets its ``Protector`` (``account.protection``). ``clock`` is market
    time (cool-downs, the trading day); ``wall`` the clock prices' freshness is judged on (``clock`` when
    None: they differ only in a simulation)."""
    journal = Journal(db)
    risk = RiskManager(
        RiskStore(db),
        settings.risk,
        publish=publish,
        clock=clock,
    )
    account = Account(
        settings,
        journal,
        broker or paper_broker(settings, journal, publish=publish),
        risk,
        publish=publish,
        clock=clock,
        wall=wall,
    )
    return account


def build_trader(
    settings: Settings,
    db: Database,
    candles: CandleStore,
    *,
    venue_id: str,
    broker: Broker | None = None,
    strategies: StrategySource | None = None,
    publish: Publish | None = None,
    clock: Any = utcnow,
    wall: Any = None,
) -> Trader:
    """A daemon's trading core (see the module docstring); live (``broker.mode == "live"``) with the
    daemon-side protections of the strategies' positions."""
    account = build_account(settings, db, broker=broker, publish=publish, clock=clock, wall=wall)
    protection: Protector | None = None
    owed: OwedExits | None = None
    if account.mode == "live":
        protection = Protector(account, db)
        account.protection = protection
        owed = OwedExits(db, account.book, clock)
    return Trader(
        settings,
        account,
        GoalsDesk(settings, account, GoalStore(db, settings.goals)),
        SeriesLoader(db, candles),
        venue_id=venue_id,
        strategies=strategies,
        protection=protection,
        owed=owed,
        clock=clock,
    )
