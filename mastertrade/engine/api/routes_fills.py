"""``GET /v1/fills?since=``: the account's fills booked since a moment (the morning report's "fills
since the last report"), each with its order's role and strategy."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from mastertrade.engine.api.deps import AccountDep
from mastertrade.engine.api.schemas_trading import FillInfo

router = APIRouter(tags=["trading"])

FILLS_MAX = 10_000


@router.get(
    "/v1/fills",
    response_model=list[FillInfo],
    summary="The account's fills booked since a moment (wall clock), the newest `limit`, oldest first",
)
async def fills(
    account: AccountDep,
    since: Annotated[datetime, Query(description="ISO-8601; without an offset, UTC")],
    limit: Annotated[int, Query(ge=1, le=FILLS_MAX)] = 1000,
) -> list[FillInfo]:
    moment = since if since.tzinfo is not None else since.replace(tzinfo=UTC)
    rows = await account.journal.fills_since(account.book, moment, limit=limit)
    return [
        FillInfo.model_validate(
            {
                "order_id": fill.order_id,
                "symbol": fill.symbol,
                "side": fill.side,
                "amount": fill.amount,
                "price": fill.price,
                "fee": fill.fee,
                "fee_asset": fill.fee_asset,
                "role": role,
                "strategy_id": strategy_id,
                "ts": fill.ts,
                "recorded_at": fill.created_at,
            }
        )
        for fill, role, strategy_id in rows
    ]
