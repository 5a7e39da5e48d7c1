"""Every table, imported here so ``SQLModel.metadata`` knows them all (alembic and tests rely on it).

One module per area; a new area adds its module here and a migration under ``db/migrations/versions``.
"""

from sqlmodel import SQLModel

from mastertrade.db.models.daemon import AlertRecord, AlertRule, JobRun
from mastertrade.db.models.daemon_lock import DaemonLockRecord
from mastertrade.db.models.features import Feature, FeatureOrigin, FeatureSource, ForecastRead
from mastertrade.db.models.market import Candle, Series
from mastertrade.db.models.ml import ForecastTrial
from mastertrade.db.models.protection import OwedExitRecord, ProtectionRecord, UnprotectedRecord
from mastertrade.db.models.replay import ReplayPosition
from mastertrade.db.models.strategies import (
    GenerationRun,
    SelectionTrialKey,
    SelectionTrials,
    StrategyRecord,
    StrategyTransition,
)
from mastertrade.db.models.trading import (
    BreakerRecord,
    EquityPointRecord,
    FillRecord,
    GoalRecord,
    LedgerEntry,
    OrderRecord,
    RiskAuditRecord,
    TradingBook,
    TradingSnapshot,
)

# Stable constraint names, so migrations can refer to them on SQLite (batch mode) and Postgres alike.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = SQLModel.metadata

__all__ = [
    "AlertRecord",
    "AlertRule",
    "Candle",
    "DaemonLockRecord",
    "JobRun",
    "Feature",
    "FeatureOrigin",
    "FeatureSource",
    "ForecastRead",
    "ForecastTrial",
    "Series",
    "GenerationRun",
    "SelectionTrialKey",
    "SelectionTrials",
    "StrategyRecord",
    "StrategyTransition",
    "metadata",
    "BreakerRecord",
    "EquityPointRecord",
    "FillRecord",
    "GoalRecord",
    "LedgerEntry",
    "OrderRecord",
    "OwedExitRecord",
    "ProtectionRecord",
    "ReplayPosition",
    "RiskAuditRecord",
    "TradingBook",
    "TradingSnapshot",
    "UnprotectedRecord",
]
