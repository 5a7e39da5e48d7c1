"""What routes get injected: the engine context (``Ctx``).

A route takes ``ctx: Ctx`` and reaches everything through it: ``ctx.candles``, ``ctx.bus``,
``ctx.alerts``, ``ctx.settings``, or ``ctx.get(Broker)`` for what another service provides. The trading
routes take what the trading service provides directly: ``AccountDep``, ``GoalsDep``, ``TraderDep``
(when trading is off or still starting, they answer with the reason).

Every dependency is ``async def`` although none awaits: FastAPI runs a plain ``def`` dependency in its
thread pool, and that hop (twice for a trading route) cost more than the whole handler and made the
latency swing with the machine's load.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from mastertrade import errors
from mastertrade.engine.execution.account import Account
from mastertrade.engine.execution.goals_desk import GoalsDesk
from mastertrade.engine.execution.trader import Trader
from mastertrade.engine.kernel.context import EngineContext


async def get_ctx(request: Request) -> EngineContext:
    ctx: EngineContext = request.app.state.ctx
    return ctx


Ctx = Annotated[EngineContext, Depends(get_ctx)]


def provided[T](ctx: EngineContext, kind: type[T]) -> T:
    """What the trading service provides under ``kind``, or the reason trading is off."""
    from mastertrade.engine.services.trading import TradingOff

    found = ctx.find(kind)
    if found is None:
        off = ctx.find(TradingOff)
        raise errors.OperationFailed(
            off.reason if off is not None else "trading is starting; try again in a moment"
        )
    return found


async def get_account(ctx: Ctx) -> Account:
    return provided(ctx, Account)


async def get_goals(ctx: Ctx) -> GoalsDesk:
    return provided(ctx, GoalsDesk)


async def get_trader(ctx: Ctx) -> Trader:
    return provided(ctx, Trader)


AccountDep = Annotated[Account, Depends(get_account)]
GoalsDep = Annotated[GoalsDesk, Depends(get_goals)]
TraderDep = Annotated[Trader, Depends(get_trader)]

MAX_ROW_ID = 2**31 - 1
"""Row ids are INTEGER columns: 32 bits on PostgreSQL. A larger id in a path names no row (404/422),
never a database error."""
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
