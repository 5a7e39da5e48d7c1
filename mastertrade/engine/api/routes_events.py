"""``GET /v1/events``: the live event stream (Server-Sent Events).

Each bus event is one SSE message: ``id`` is its bus sequence number, ``event`` its type, ``data`` its
JSON (with the same ``type``). ``?types=price,order.filled`` selects areas or exact types (default:
all). An idle stream gets a ``heartbeat`` event every ``[api] heartbeat_s`` seconds. A client that
reconnects with ``Last-Event-ID`` (header, or ``?last_event_id=``) first gets the events it missed
from the bus history; if they are no longer there, or if the client fell so far behind that events
could not be kept for it, it gets a ``stream.gap`` event and should reload state through the API.
Price ticks are coalesced for a slow client (it sees the newest price), never orders or fills.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from mastertrade.engine.api.deps import Ctx
from mastertrade.engine.bus import Subscription, SubscriptionClosed, SubscriptionOverflow
from mastertrade.engine.events import EVENT_TYPES, Event, Heartbeat, StreamGap
from mastertrade.engine.kernel.context import EngineContext
from mastertrade.errors import UserInputError

router = APIRouter(tags=["events"])

_BATCH = 64


def sse_message(event: Event, seq: int | None = None) -> bytes:
    head = f"id: {seq}\n" if seq is not None else ""
    data = json.dumps(event.to_dict(), separators=(",", ":"))
    return f"{head}event: {event.type}\ndata: {data}\n\n".encode()


def parse_types(types: str | None) -> frozenset[str] | None:
    if not types:
        return None
    wanted = frozenset(part.strip() for part in types.split(",") if part.strip())
    areas = {name.split(".")[0] for name in EVENT_TYPES}
    for name in wanted:
        if name != "*" and name not in EVENT_TYPES and name not in areas:
            known = ", ".join(sorted(areas))
            raise UserInputError(
                f"unknown event type {name!r} in types: use an area ({known}) or a full type"
            )
    return wanted


async def _stream(
    request: Request, ctx: EngineContext, patterns: frozenset[str] | None, resume: int | None
) -> AsyncIterator[bytes]:
    # Subscribe before replaying, so no event falls between the history and the live queue; the
    # client knows it is subscribed when the first line (retry:) arrives.
    subscription = ctx.bus.subscribe(patterns, name="sse", maxsize=ctx.settings.api.event_queue)
    streams: set[Subscription] = request.app.state.streams
    streams.add(subscription)
    heartbeat_s = ctx.settings.api.heartbeat_s
    try:
        yield b"retry: 1000\n\n"
        last = 0
        backlog = ctx.bus.replay(resume, subscription) if resume is not None else []
        if backlog is None:
            yield sse_message(StreamGap(reason="the events since Last-Event-ID are no longer kept"))
        else:
            for envelope in backlog:
                last = envelope.seq
                yield sse_message(envelope.event, envelope.seq)
        while True:
            try:
                envelope = await subscription.get_envelope(wait_s=heartbeat_s)
            except TimeoutError:
                yield sse_message(Heartbeat(seq=ctx.bus.last_seq))
                continue
            except SubscriptionOverflow:
                yield sse_message(StreamGap(reason="this client fell too far behind; reconnect to resume"))
                return
            except SubscriptionClosed:
                return
            # Whatever else is already queued goes out in the same write: fewer, larger chunks when
            # twenty symbols tick at once.
            batch = [envelope, *subscription.drain(_BATCH - 1)]
            chunk = b"".join(sse_message(item.event, item.seq) for item in batch if item.seq > last)
            if chunk:
                yield chunk
    finally:
        subscription.close()
        streams.discard(subscription)


@router.get(
    "/v1/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}},
    summary="Live events: prices, candles, signals, orders, fills, risk, alerts, jobs, services",
)
async def events(
    request: Request,
    ctx: Ctx,
    types: Annotated[
        str | None, Query(description="comma-separated areas or types, e.g. price,order")
    ] = None,
    last_event_id: Annotated[int | None, Query(ge=0, description="resume after this event id")] = None,
    last_event_id_header: Annotated[int | None, Header(alias="Last-Event-ID", ge=0)] = None,
) -> StreamingResponse:
    patterns = parse_types(types)
    resume = last_event_id if last_event_id is not None else last_event_id_header
    return StreamingResponse(
        _stream(request, ctx, patterns, resume),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
