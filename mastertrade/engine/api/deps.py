"""What routes get injected: the engine context (``Ctx``).

A route takes ``ctx: Ctx`` and reaches everything through it: ``ctx.candles``, ``ctx.bus``,
``ctx.alerts``, ``ctx.settings``, or ``ctx.get(Broker)`` for what another service provides.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from mastertrade.engine.services.base import EngineContext


def get_ctx(request: Request) -> EngineContext:
    ctx: EngineContext = request.app.state.ctx
    return ctx


Ctx = Annotated[EngineContext, Depends(get_ctx)]
