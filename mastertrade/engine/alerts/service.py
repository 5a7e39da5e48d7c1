"""The alerts service: feeds bus events through the rules and runs background delivery."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mastertrade.engine.kernel.context import EngineContext


class AlertService:
    """Raises alerts from events (``ctx.alerts.handle``) and delivers them (``run_delivery``)."""

    name = "alerts"

    async def run(self, ctx: EngineContext) -> None:
        manager = ctx.alerts
        await manager.load()
        async with asyncio.TaskGroup() as group:
            group.create_task(manager.run_delivery(), name="alert-delivery")
            async for event in manager.subscription:
                await manager.handle(event)
