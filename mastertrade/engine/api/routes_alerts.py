"""``/v1/alerts``: targets (masked), rules, history; adding and removing rules; a test alert."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from mastertrade.engine.alerts.manager import alert_info
from mastertrade.engine.api.deps import Ctx, RowId
from mastertrade.engine.api.openapi_errors import raises
from mastertrade.engine.api.schemas import (
    AlertInfo,
    AlertReportRequest,
    AlertRuleCreate,
    AlertRuleInfo,
    AlertsOverview,
    AlertTestRequest,
    RemovedResponse,
)
from mastertrade.errors import NotFound, UserInputError

router = APIRouter(tags=["alerts"])


@router.get("/v1/alerts", response_model=AlertsOverview, summary="Targets, rules and recent alerts")
async def overview(ctx: Ctx, limit: Annotated[int, Query(ge=1, le=1000)] = 20) -> AlertsOverview:
    manager = ctx.alerts
    await manager.load()
    return AlertsOverview(
        targets=manager.targets(),
        quiet_hours=ctx.settings.alerts.quiet_hours,
        quiet_now=manager.quiet.active(ctx.clock.now()) if manager.quiet else False,
        repeat_window_s=ctx.settings.alerts.repeat_window_s,
        rules=[AlertRuleInfo.model_validate(rule) for rule in manager.rule_infos()],
        history=[AlertInfo.model_validate(alert_info(record)) for record in await manager.history(limit)],
    )


@router.get("/v1/alerts/rules", response_model=list[AlertRuleInfo], summary="The rules in force")
async def rules(ctx: Ctx) -> list[AlertRuleInfo]:
    await ctx.alerts.load()
    return [AlertRuleInfo.model_validate(rule) for rule in ctx.alerts.rule_infos()]


PRICED_KINDS = ("price_cross", "pct_move", "signal")
"""Rule kinds that watch a symbol's prices or closing bars, which only the streamed symbols have."""


@router.post(
    "/v1/alerts/rules",
    response_model=AlertRuleInfo,
    status_code=201,
    responses=raises(400, 404, 409),
    summary="Add a rule (404 for a symbol or service the daemon does not know, 400 for a signal rule on a"
    " timeframe it does not stream, 409 for a rule that alerts on exactly what one in force does)",
)
async def add_rule(ctx: Ctx, body: AlertRuleCreate) -> AlertRuleInfo:
    await ctx.alerts.load()
    params = body.model_dump(exclude={"kind", "name", "severity"}, exclude_none=True)
    symbols = ctx.settings.market.symbols
    if body.kind in PRICED_KINDS and body.symbol is not None:
        # a market in any case (`btc/usdt` is BTC/USDT), stored as the feed spells it
        streamed = {symbol.upper(): symbol for symbol in symbols}
        if body.symbol.strip().upper() not in streamed:
            # Its prices or bars never arrive: the rule would be stored and never fire.
            raise NotFound(
                f"unknown symbol {body.symbol!r}: the daemon streams {', '.join(symbols)} ([market] symbols)"
            )
        params["symbol"] = streamed[body.symbol.strip().upper()]
    if body.kind == "service_failure" and body.service is not None:
        known = sorted({*ctx.state.services, "daemon"})
        if body.service not in known:  # its failures never happen here: stored, it would never fire
            raise NotFound(f"unknown service {body.service!r}: this daemon runs {', '.join(known)}")
    if body.kind == "signal":
        streams = ctx.settings.market.timeframe
        params.setdefault("timeframe", streams)
        if params["timeframe"] != streams:  # its bars never close here: stored, it would never fire
            raise UserInputError(
                f"timeframe {params['timeframe']!r}: the daemon streams {streams} bars ([market] timeframe),"
                f" so a {params['timeframe']} signal rule would never fire"
            )
    rule = await ctx.alerts.add_rule(body.kind, params, severity=body.severity, name=body.name)
    return AlertRuleInfo.model_validate(rule.info())


@router.delete("/v1/alerts/rules/{rule_id}", response_model=RemovedResponse, summary="Remove a rule")
async def remove_rule(ctx: Ctx, rule_id: RowId) -> RemovedResponse:
    await ctx.alerts.load()
    await ctx.alerts.remove_rule(rule_id)
    return RemovedResponse(removed=rule_id)


@router.get("/v1/alerts/history", response_model=list[AlertInfo], summary="Recent alerts, newest first")
async def history(ctx: Ctx, limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> list[AlertInfo]:
    return [AlertInfo.model_validate(alert_info(record)) for record in await ctx.alerts.history(limit)]


@router.post("/v1/alerts/test", response_model=AlertInfo, summary="Send a test alert to every target now")
async def test(ctx: Ctx, body: AlertTestRequest | None = None) -> AlertInfo:
    record = await ctx.alerts.test(body.message if body else None)
    return AlertInfo.model_validate(alert_info(record))


@router.post(
    "/v1/alerts/report",
    response_model=AlertInfo,
    summary="Send a report (`mt report --send`) to every target now",
)
async def report(ctx: Ctx, body: AlertReportRequest) -> AlertInfo:
    record = await ctx.alerts.report(body.title, body.message)
    return AlertInfo.model_validate(alert_info(record))
