"""Forecasts keyed by exchange: ``forecast:<model>:h<horizon>:<timeframe>@<exchange>``.

Before this revision a forecast series was named ``forecast:<model>:h<horizon>:<timeframe>`` in the
feature store (source ``ml``, ``ml_sim`` for simulated candles), so training one model on BTC/USDT 1h of
exchange B replaced the forecasts trained on exchange A, and a strategy trading on A read B's.

``features.name`` grows to 128 characters (the exchange id may be 64). Every stored forecast row is
kept and renamed to carry the exchange it belongs to:

1. the exchange of the models trained on that series, as their artifacts record it (the manifests of
   ``<data dir>/models/forecast/<model>/``: key exchange, symbol, timeframe, horizon); else
2. the exchange(s) holding that symbol and timeframe in the candle store; simulated forecasts
   (``ml_sim``) only from the simulated exchanges, the others only from the rest.

When several exchanges qualify, the rows cannot tell which one made them (the old key held none), so each
of those exchanges gets a copy: every strategy reads after the upgrade exactly the values it read before,
and the next ``mt ml train`` on an exchange replaces that exchange's copy with its own forecasts. When
none does (no artifact and no candles of the market any more), the rows keep their old name: listed by
``mt data sources``, read by nothing, as before for a market with no candles. Nothing is deleted.

Revision ID: ml_0001
Revises: 0005
Create Date: 2026-12-20
"""

import json
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "ml_0001"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = ("forecasts",)
depends_on: str | Sequence[str] | None = None

SIMULATED = ("sim", "sim-live")
SOURCES = {"ml": False, "ml_sim": True}
"""Forecast sources, and whether their candles were simulated."""


def _features_table(name: str, width: int) -> sa.Table:
    return sa.Table(
        name,
        sa.MetaData(),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=width), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("published_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("source", "name", "symbol", "ts", name="pk_features"),
        sqlite_with_rowid=False,
    )


def _widen_name(width: int) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.alter_column("features", "name", type_=sa.String(length=width), existing_nullable=False)
        return
    # SQLite cannot change a column's type in place: copy into a table of the new shape (WITHOUT ROWID,
    # like the original; alembic's batch mode would not keep that), then swap the names.
    _features_table("features_widened", width).create(bind)
    op.execute(
        "INSERT INTO features_widened (source, name, symbol, ts, value, published_at)"
        " SELECT source, name, symbol, ts, value, published_at FROM features"
    )
    op.drop_table("features")
    op.rename_table("features_widened", "features")


def _artifact_exchanges() -> dict[tuple[str, str, str, int], set[str]]:
    """(model, symbol, timeframe, horizon) -> the exchanges forecast artifacts record for it."""
    from mastertrade.locations import locations

    root = locations().data_dir / "models" / "forecast"
    found: dict[tuple[str, str, str, int], set[str]] = {}
    for manifest in sorted(root.glob("*/*/*/manifest.json")) if root.is_dir() else ():
        try:
            data = json.loads(Path(manifest).read_text(encoding="utf-8"))
            key = data["key"]
            wanted = (str(data["name"]), str(key["symbol"]), str(key["timeframe"]), int(key["horizon"]))
            exchange = str(key["exchange"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # an unreadable manifest records nothing; the candles decide
        found.setdefault(wanted, set()).add(exchange)
    return found


def _parse(name: str) -> tuple[str, int, str] | None:
    """(model, horizon, timeframe) of an old forecast series name, None for anything else."""
    parts = name.split(":")
    if len(parts) != 4 or parts[0] != "forecast" or "@" in name or not parts[2].startswith("h"):
        return None
    try:
        return parts[1], int(parts[2][1:]), parts[3]
    except ValueError:
        return None


def _rename_forecasts() -> None:
    bind = op.get_bind()
    series = bind.execute(
        sa.text(
            "SELECT DISTINCT source, name, symbol FROM features"
            " WHERE source IN ('ml', 'ml_sim') AND name LIKE 'forecast:%'"
        )
    ).all()
    if not series:
        return
    recorded = _artifact_exchanges()
    for source, name, symbol in series:
        parsed = _parse(str(name))
        if parsed is None:
            continue
        model, horizon, timeframe = parsed
        simulated = SOURCES[str(source)]
        exchanges = {
            exchange
            for exchange in recorded.get((model, str(symbol), timeframe, horizon), set())
            if (exchange in SIMULATED) == simulated
        }
        if not exchanges:
            held = bind.execute(
                sa.text("SELECT DISTINCT exchange FROM series WHERE symbol = :symbol AND timeframe = :tf"),
                {"symbol": symbol, "tf": timeframe},
            ).scalars()
            exchanges = {str(exchange) for exchange in held if (exchange in SIMULATED) == simulated}
        if not exchanges:
            continue
        for exchange in sorted(exchanges):
            bind.execute(
                sa.text(
                    "INSERT INTO features (source, name, symbol, ts, value, published_at)"
                    " SELECT source, :new, symbol, ts, value, published_at FROM features"
                    " WHERE source = :source AND name = :name AND symbol = :symbol"
                ),
                {"new": f"{name}@{exchange}", "source": source, "name": name, "symbol": symbol},
            )
        bind.execute(
            sa.text("DELETE FROM features WHERE source = :source AND name = :name AND symbol = :symbol"),
            {"source": source, "name": name, "symbol": symbol},
        )


def upgrade() -> None:
    _widen_name(128)
    _rename_forecasts()


def downgrade() -> None:
    # Back to one forecast series per market would have to merge (and so drop) the forecasts of every
    # exchange but one: refused rather than losing stored rows.
    raise RuntimeError("ml_0001 cannot be downgraded: it would merge the exchanges' forecasts")
