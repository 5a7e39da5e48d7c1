"""``/v1/orders``, ``/v1/positions``, ``/v1/balance``, ``/v1/equity``, ``/v1/risk``, ``/v1/goals``: the
trading core's API.

Everything goes through the ``Account`` and the ``GoalsDesk`` the trading service provides
(``deps.AccountDep``, ``deps.GoalsDep``); when trading is off (live mode configured without ``--live``)
the routes answer with the reason. ``POST /v1/orders/check`` is a dry run
of ``POST /v1/orders`` (``order_check.py``): the same risk decision, nothing journaled or sent.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from mastertrade import errors
from mastertrade.engine.api.deps import AccountDep, Ctx, GoalsDep, RowId, TraderDep, provided
from mastertrade.engine.api.openapi_errors import raises
from mastertrade.engine.api.schemas_trading import (
    AuditInfo,
    BalanceInfo,
    CancelRequest,
    EquityPointInfo,
    GoalCreate,
    GoalInfo,
    GoalsReport,
    HaltRequest,
    OrderCheck,
    OrderCreate,
    OrderInfo,
    ParityReport,
    PlaceResult,
    PositionInfo,
    ResumeRequest,
    RiskStatus,
)
from mastertrade.engine.execution.account import Account

router = APIRouter(tags=["trading"])


@router.post(
    "/v1/orders",
    response_model=PlaceResult,
    status_code=201,
    responses=raises(404, 502, 503),
    summary="Place an order (risk-checked)",
)
async def place(ctx: Ctx, account: AccountDep, body: OrderCreate) -> PlaceResult:
    async with ctx.work("manual order"):
        result = await account.place(
            body.symbol,
            body.side,
            body.amount,
            type_=body.type,
            price=body.price,
            live=body.live,
            client_order_id=body.client_order_id,
            allow_resize=body.allow_resize,
            stop_loss=body.stop_loss,
            take_profit=body.take_profit,
        )
    return PlaceResult.model_validate(result)


@router.post(
    "/v1/orders/check",
    response_model=OrderCheck,
    responses=raises(404, 503),
    summary="Dry run of an order: the risk decision placing it would get now (nothing journaled or sent)",
)
async def check(account: AccountDep, body: OrderCreate) -> OrderCheck:
    from mastertrade.engine.api.order_check import dry_run

    return OrderCheck.model_validate(await dry_run(account, body))


@router.get("/v1/orders", response_model=list[OrderInfo], summary="Orders of the account, newest first")
async def orders(
    account: AccountDep,
    open_only: Annotated[bool, Query(alias="open")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    book: Annotated[
        str | None, Query(description='"account" (the default) or a strategy\'s paper book, strategy:<id>')
    ] = None,
) -> list[OrderInfo]:
    rows = await account.orders(open_only=open_only, limit=limit, book=book)
    return [OrderInfo.model_validate(row) for row in rows]


@router.get("/v1/orders/{order_id:int}", response_model=OrderInfo, summary="One order, by id")
async def order(account: AccountDep, order_id: RowId) -> OrderInfo:
    row = await account.journal.get(order_id)
    return OrderInfo.model_validate(account.shown(row))


@router.get(
    "/v1/orders/by-client-id/{client_order_id}",
    response_model=OrderInfo,
    summary="One order, by its client order id",
)
async def order_by_client_id(
    account: AccountDep, client_order_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9._:/-]{1,40}$")]
) -> OrderInfo:
    row = await account.journal.get(client_order_id=client_order_id)
    return OrderInfo.model_validate(account.shown(row))


@router.post(
    "/v1/orders/{order_id}/cancel",
    response_model=OrderInfo,
    responses=raises(502, 503),
    summary="Cancel an open order",
    description="The stop-loss or trailing stop protecting an open position is refused (409 "
    'stop_protects_position, naming the position) unless the body says `{"unprotect": true}`. An order '
    "that has ended (filled, cancelled, rejected) answers 409 operation_failed, saying how it ended. A live "
    "take-profit in one OCO list with such a stop is cancelled keeping the stop: the exchange cancels the "
    "list as one, and the stop is placed again alone (its `reason` names the new stop); with `unprotect` the "
    "list goes as one.",
)
async def cancel(
    ctx: Ctx, account: AccountDep, order_id: RowId, body: CancelRequest | None = None
) -> OrderInfo:
    async with ctx.work("cancel order"):
        return OrderInfo.model_validate(
            await account.cancel(order_id, unprotect=body is not None and body.unprotect)
        )


@router.get("/v1/positions", response_model=list[PositionInfo], summary="Open positions of the account")
async def positions(
    account: AccountDep,
    book: Annotated[
        str | None, Query(description='"account" (the default) or a strategy\'s paper book, strategy:<id>')
    ] = None,
) -> list[PositionInfo]:
    return [PositionInfo.model_validate(item) for item in await account.positions(book)]


@router.get("/v1/balance", response_model=BalanceInfo, summary="Balances, equity and P&L of the account")
async def balance(account: AccountDep) -> BalanceInfo:
    return BalanceInfo.model_validate(await account.balance())


@router.get(
    "/v1/equity",
    response_model=list[EquityPointInfo],
    responses=raises(409),
    summary="A book's equity history (the account's by default), the newest points, oldest first",
)
async def equity(
    ctx: Ctx,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 500,
    book: Annotated[
        str | None, Query(description="a trading book, e.g. strategy:<id>; the account's by default")
    ] = None,
) -> list[EquityPointInfo]:
    from mastertrade.engine.api.equity import recent_equity
    from mastertrade.engine.execution.journal import Journal

    if book is None:
        book = provided(ctx, Account).book
    else:
        known = [item.id for item in await Journal(ctx.db).books()]
        if book not in known:
            raise errors.NotFound(f"no trading book {book!r} (books: {', '.join(known) or 'none yet'})")
    points = await recent_equity(ctx.db, book, limit)
    return [EquityPointInfo(ts=ts, equity=value) for ts, value in points]


@router.get("/v1/risk", response_model=RiskStatus, summary="Exposure, drawdown, breakers, VaR/CVaR")
async def risk_status(account: AccountDep) -> RiskStatus:
    return RiskStatus.model_validate(await account.risk_status())


@router.post("/v1/risk/halt", response_model=RiskStatus, summary="The kill switch: stop all entries")
async def halt(account: AccountDep, body: HaltRequest | None = None) -> RiskStatus:
    return RiskStatus.model_validate(await account.halt(body.reason if body else ""))


@router.post("/v1/risk/resume", response_model=RiskStatus, summary="Reset the kill switch and breakers")
async def resume(account: AccountDep, body: ResumeRequest | None = None) -> RiskStatus:
    return RiskStatus.model_validate(await account.resume(body.breaker if body else None))


@router.get("/v1/risk/audit", response_model=list[AuditInfo], summary="The risk audit log, newest first")
async def audit(account: AccountDep, limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> list[AuditInfo]:
    return [AuditInfo.model_validate(item) for item in await account.audit(limit)]


@router.get("/v1/goals", response_model=GoalsReport, summary="Goals, their progress and the risk factor")
async def goals(desk: GoalsDep) -> GoalsReport:
    return GoalsReport.model_validate(await desk.report())


@router.post("/v1/goals", response_model=GoalInfo, status_code=201, summary="Add a goal")
async def add_goal(ctx: Ctx, desk: GoalsDep, body: GoalCreate) -> GoalInfo:
    from mastertrade.engine.sizing.goals import Goal, GoalKind, Period
    from mastertrade.engine.sizing.store import parse_deadline

    # what a goal of its kind cannot keep is refused by name, never silently dropped
    if body.kind == "value" and "period" in body.model_fields_set and body.period != "none":
        raise errors.UserInputError(
            f"invalid period {body.period!r}: a value goal has no period (give it a deadline instead)"
        )
    if body.kind != "value" and body.deadline is not None:
        raise errors.UserInputError(
            f"invalid deadline {body.deadline!r}: a {body.kind} goal has a period, not a deadline"
        )
    period = Period.NONE if body.kind == "value" else Period(body.period)
    deadline = parse_deadline(body.deadline)
    # Goals age in market time (the simulated market runs faster than the clock).
    history = await desk.account.history()
    now = history[-1].at if history else ctx.clock.now()
    if deadline is not None and deadline <= now:
        raise errors.UserInputError(
            f"invalid deadline {body.deadline!r}: it has passed (the account's clock is at "
            f"{now:%Y-%m-%dT%H:%M}Z)"
        )
    goal = Goal(body.name, GoalKind(body.kind), body.target, period, deadline=deadline, created_at=now)
    stored = await desk.store.add(goal)
    await desk.snapshot()  # where it starts: milestones count from here, not from nothing
    progress = await desk.progress([stored])  # where it stands at once (a target already met, say)
    if progress:
        return GoalInfo.model_validate(progress[0].as_dict())
    return GoalInfo(
        id=stored.id,
        name=stored.name,
        kind=stored.kind.value,
        target=stored.target,
        period=stored.period.value,
        deadline=stored.deadline,
        description=stored.describe(),
    )


@router.delete("/v1/goals/{goal_id}", response_model=GoalInfo, summary="Remove a goal")
async def remove_goal(desk: GoalsDep, goal_id: RowId) -> GoalInfo:
    goal = await desk.store.remove(goal_id)
    return GoalInfo(
        id=goal.id,
        name=goal.name,
        kind=goal.kind.value,
        target=goal.target,
        period=goal.period.value,
        deadline=goal.deadline,
        description=goal.describe(),
    )


@router.get(
    "/v1/strategies/{strategy_id}/parity",
    response_model=ParityReport,
    summary="A paper-stage strategy's paper trades against its backtest over the same bars",
)
async def strategy_parity(trader: TraderDep, strategy_id: str) -> ParityReport:
    from mastertrade.engine.execution.parity_report import book_parity

    return ParityReport.model_validate(await book_parity(trader, strategy_id))
