"""A daemon that stops answering (hung, not gone: its socket still accepts) is not shown as connected.
The event stream notices only after its read timeout (60 s); meanwhile the dashboard said "connected",
its prices "live" and its account figures as of the last answer. Now a poll the daemon does not answer
in time marks the connection lost (the banner says since when, and that the figures are not live), and
the next event it sends reloads everything and marks it connected again."""

from __future__ import annotations

import asyncio

from mastertrade.client import DaemonTimeout
from mastertrade.engine.api.schemas_trading import BalanceInfo
from tests.tui.fakes import FakeBackend, tick
from tests.tui.test_feed import feed_on, until


class HangingBackend(FakeBackend):
    def __init__(self) -> None:
        super().__init__()
        self.hung = False

    async def balance(self) -> BalanceInfo:
        if self.hung:
            raise DaemonTimeout("the daemon did not answer GET /v1/balance within 10 s")
        return await super().balance()


async def test_a_poll_the_daemon_does_not_answer_marks_the_connection_lost_until_it_answers() -> None:
    backend = HangingBackend()
    feed, state, _ = feed_on(backend)
    task = asyncio.create_task(feed.run())
    try:
        await until(lambda: state.connected)
        backend.hung = True
        feed.dirty.add("account")  # the next poll asks for the account
        await until(lambda: state.connection.state == "reconnecting")
        assert state.connection.reason == "the daemon did not answer GET /v1/balance within 10 s"

        backend.hung = False
        backend.push(tick("BTC/USDT", 64_900.0))  # the daemon speaks again
        await until(lambda: state.connected)
        assert state.balance.error is None and state.balance.value is not None
    finally:
        task.cancel()
