"""Alerts: real Apprise delivery to a receiver on 127.0.0.1, the dedupe window, quiet hours (held,
then released as one digest), retries with backoff on delivery failure, resumption after a restart,
secrets kept out of every output, and rules fed by bus events inside the engine."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mastertrade.config import AlertsSettings, Settings
from mastertrade.db.database import Database
from mastertrade.engine.alerts.delivery import AppriseNotifier, Notifier, TargetResult
from mastertrade.engine.alerts.manager import AlertManager
from mastertrade.engine.alerts.rules import AlertCandidate, Severity
from mastertrade.engine.alerts.store import AlertStore
from mastertrade.engine.bus import EventBus
from mastertrade.engine.events import AlertRaised, OrderFilled
from mastertrade.engine.kernel.clock import FakeClock
from mastertrade.errors import UserInputError
from tests.daemon.conftest import Engine, core_daemon
from tests.daemon.fakes import T0, Receiver, RecordingNotifier, eventually, wait_for

NIGHT = datetime(2026, 2, 1, 23, 0, tzinfo=UTC)


def candidate(
    key: str = "k", severity: Severity = Severity.WARNING, title: str = "BTC crossed 100"
) -> AlertCandidate:
    return AlertCandidate(rule="test", severity=severity, dedupe_key=key, title=title, body="details")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


class Alerts:
    def __init__(self, manager: AlertManager, clock: FakeClock, bus: EventBus) -> None:
        self.manager, self.clock, self.bus = manager, clock, bus

    async def status_of(self, alert_id: int) -> str:
        record = await self.manager.store.get(alert_id)
        assert record is not None
        return record.status

    async def settle(self, alert_id: int, status: str) -> Any:
        await eventually(lambda: self._is(alert_id, status))
        return await self.manager.store.get(alert_id)

    async def _is(self, alert_id: int, status: str) -> bool:
        return await self.status_of(alert_id) == status


async def open_alerts(
    database: Database, clock: FakeClock, settings: AlertsSettings, notifier: Notifier | None = None
) -> tuple[Alerts, asyncio.Task[None]]:
    bus = EventBus()
    manager = AlertManager(settings, database, bus, clock, notifier=notifier or AppriseNotifier(timeout_s=5))
    await manager.load()
    delivery = asyncio.create_task(manager.run_delivery())
    return Alerts(manager, clock, bus), delivery


@pytest.fixture
async def alerts_for(database: Database) -> AsyncIterator[Any]:
    """``await alerts_for(urls=[...], quiet_hours=...)``: a running alert manager on a fake clock."""
    running: list[tuple[Alerts, asyncio.Task[None]]] = []

    async def make(notifier: Notifier | None = None, start: datetime = NIGHT, **fields: Any) -> Alerts:
        settings = AlertsSettings(retry_backoff_s=30, **fields)
        made = await open_alerts(database, FakeClock(start), settings, notifier)
        running.append(made)
        return made[0]

    yield make
    for alerts, task in running:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await alerts.manager.close()


async def test_an_alert_reaches_an_apprise_json_target(alerts_for: Any, receiver: Receiver) -> None:
    alerts = await alerts_for(urls=[receiver.url("hook")])
    raised = alerts.bus.subscribe({"alert"})
    record = await alerts.manager.raise_alert(candidate(severity=Severity.CRITICAL))
    assert record is not None and record.status == "pending"
    done = await alerts.settle(record.id, "delivered")
    assert done.attempts == 1 and done.delivered_at == NIGHT and done.error is None
    assert '"ok": true' in done.targets and "127.0.0.1" in done.targets
    message = await wait_for(lambda: receiver.received)
    assert message[0]["path"] == "/hook"
    assert message[0]["title"] == "BTC crossed 100" and message[0]["message"] == "details"
    assert message[0]["type"] == "failure"  # critical
    event = await raised.get()
    assert isinstance(event, AlertRaised) and event.alert_id == record.id and event.severity == "critical"


async def test_repeats_inside_the_window_are_counted_not_sent(alerts_for: Any) -> None:
    notifier = RecordingNotifier()
    alerts = await alerts_for(notifier, urls=["json://127.0.0.1:9/x"], repeat_window_s=600)
    first = await alerts.manager.raise_alert(candidate("risk:dd"))
    assert first is not None
    await alerts.settle(first.id, "delivered")
    for _ in range(3):
        await alerts.clock.advance(120)
        assert await alerts.manager.raise_alert(candidate("risk:dd")) is None
    stored = await alerts.manager.store.get(first.id)
    assert (
        stored is not None and stored.repeats == 3 and stored.last_seen_at == NIGHT + timedelta(seconds=360)
    )
    assert await alerts.manager.raise_alert(candidate("other")) is not None  # another key is new
    await alerts.clock.advance(300)  # 660 s after the first
    again = await alerts.manager.raise_alert(candidate("risk:dd"))
    assert again is not None and again.id != first.id
    await alerts.settle(again.id, "delivered")
    assert len(notifier.sent) == 3


async def test_quiet_hours_hold_alerts_and_release_them_as_one_digest(
    alerts_for: Any, receiver: Receiver
) -> None:
    alerts = await alerts_for(urls=[receiver.url()], quiet_hours="22:00-07:00")
    first = await alerts.manager.raise_alert(candidate("a", title="ETH down 6%"))
    second = await alerts.manager.raise_alert(candidate("b", Severity.INFO, title="Goal 50% reached"))
    urgent = await alerts.manager.raise_alert(candidate("c", Severity.CRITICAL, title="Trading halted"))
    assert first is not None and second is not None and urgent is not None
    assert (first.status, second.status, urgent.status) == ("held", "held", "pending")
    await alerts.settle(urgent.id, "delivered")
    assert [m["title"] for m in receiver.received] == ["Trading halted"]
    await alerts.clock.set(datetime(2026, 2, 2, 6, 59, tzinfo=UTC))
    assert await alerts.status_of(first.id) == "held"
    await alerts.clock.set(datetime(2026, 2, 2, 7, 0, tzinfo=UTC))
    await alerts.settle(first.id, "delivered")
    await alerts.settle(second.id, "delivered")
    digest = receiver.received[1]
    assert digest["title"] == "2 alerts held during quiet hours"
    assert "ETH down 6%" in digest["message"] and "Goal 50% reached" in digest["message"]
    assert len(receiver.received) == 2


async def test_failed_deliveries_are_retried_with_backoff_until_they_succeed(
    alerts_for: Any, receiver: Receiver
) -> None:
    receiver.statuses = [500, 503]
    alerts = await alerts_for(urls=[receiver.url("private-hook-path")])
    record = await alerts.manager.raise_alert(candidate())
    assert record is not None
    retrying = await alerts.settle(record.id, "retrying")
    assert retrying.attempts == 1 and "json://127.0.0.1" in retrying.error
    assert "private-hook-path" not in retrying.error and "private-hook-path" not in retrying.targets
    await alerts.clock.advance(29)
    await asyncio.sleep(0.05)
    stored = await alerts.manager.store.get(record.id)
    assert stored is not None and stored.attempts == 1  # not before the backoff
    await alerts.clock.advance(1)  # 30 s: second attempt, fails again
    await eventually(lambda: _attempts(alerts, record.id, 2))
    await alerts.clock.advance(60)  # doubled backoff: third attempt succeeds
    done = await alerts.settle(record.id, "delivered")
    assert done.attempts == 3 and done.error is None
    assert len(receiver.received) == 1


async def _attempts(alerts: Alerts, alert_id: int, count: int) -> bool:
    record = await alerts.manager.store.get(alert_id)
    return record is not None and record.attempts == count


async def test_delivery_gives_up_after_the_last_attempt(alerts_for: Any) -> None:
    notifier = RecordingNotifier(failures=10)
    alerts = await alerts_for(notifier, urls=["tgram://123456:SECRETTOKEN/42"], retry_attempts=2)
    record = await alerts.manager.raise_alert(candidate())
    assert record is not None
    await alerts.settle(record.id, "retrying")
    await alerts.clock.advance(30)
    failed = await alerts.settle(record.id, "failed")
    assert failed.attempts == 2 and failed.error == f"{alerts.manager.targets()[0]}: receiver said no"
    assert alerts.manager.targets()[0].startswith("tgram://*** #") and "SECRETTOKEN" not in failed.targets
    assert len(notifier.sent) == 2


async def test_an_alert_that_failed_does_not_silence_its_repeats(database: Database) -> None:
    # The receiver is down for the first alert's every attempt; a repeat in the window is sent, not
    # counted against an alert the user never got. After a restart too.
    notifier = RecordingNotifier(failures=1)
    settings = AlertsSettings(urls=["json://127.0.0.1:9/x"], retry_attempts=1, repeat_window_s=900)
    alerts, task = await open_alerts(database, FakeClock(NIGHT), settings, notifier)
    try:
        first = await alerts.manager.raise_alert(candidate(severity=Severity.CRITICAL))
        assert first is not None
        await alerts.settle(first.id, "failed")
        second = await alerts.manager.raise_alert(candidate(severity=Severity.CRITICAL))
        assert second is not None and second.id != first.id
        await alerts.settle(second.id, "delivered")
        assert (
            await alerts.manager.raise_alert(candidate(severity=Severity.CRITICAL)) is None
        )  # delivered: counted
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await alerts.manager.close()
    notifier.failures = 1
    again, task = await open_alerts(database, FakeClock(NIGHT + timedelta(seconds=1)), settings, notifier)
    try:
        third = await again.manager.raise_alert(candidate("other", Severity.CRITICAL))
        assert third is not None
        await again.settle(third.id, "failed")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await again.manager.close()
    restarted, task = await open_alerts(database, FakeClock(NIGHT + timedelta(seconds=2)), settings, notifier)
    try:
        fourth = await restarted.manager.raise_alert(candidate("other", Severity.CRITICAL))
        assert fourth is not None  # the failed one, loaded at start, silences nothing either
        assert await restarted.manager.raise_alert(candidate(severity=Severity.CRITICAL)) is None
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await restarted.manager.close()


class BlockingNotifier(RecordingNotifier):
    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def send(self, urls: Any, title: str, body: str, severity: str) -> list[TargetResult]:
        await self.release.wait()
        return await super().send(urls, title, body, severity)


class RaisingNotifier(RecordingNotifier):
    async def send(self, urls: Any, title: str, body: str, severity: str) -> list[TargetResult]:
        raise RuntimeError("a bug in the notifier")


async def test_a_test_alert_never_stays_pending_to_be_sent_again_at_the_next_start(alerts_for: Any) -> None:
    alerts = await alerts_for(RaisingNotifier(), urls=["json://127.0.0.1:9/x"])
    record = await alerts.manager.test()
    assert record.status == "failed" and record.error == f"{alerts.manager.targets()[0]}: RuntimeError"
    assert await alerts.status_of(record.id) == "failed"

    blocking = EnteredNotifier()
    alerts = await alerts_for(blocking, urls=["json://127.0.0.1:9/x"])
    sending = asyncio.create_task(alerts.manager.test())
    await blocking.entered.wait()
    assert await _status_is(alerts, "pending")
    sending.cancel()  # the daemon stops while the target hangs
    with pytest.raises(asyncio.CancelledError):
        await sending
    history = await alerts.manager.history()
    assert history[0].status == "failed" and history[0].error == "the daemon stopped while sending it"


class EnteredNotifier(BlockingNotifier):
    def __init__(self) -> None:
        super().__init__()
        self.entered = asyncio.Event()

    async def send(self, urls: Any, title: str, body: str, severity: str) -> list[TargetResult]:
        self.entered.set()
        return await super().send(urls, title, body, severity)


async def _status_is(alerts: Alerts, status: str) -> bool:
    history = await alerts.manager.history(1)
    return bool(history) and history[0].status == status


async def test_a_hanging_target_never_blocks_raising_alerts(alerts_for: Any) -> None:
    notifier = BlockingNotifier()
    alerts = await alerts_for(notifier, urls=["json://127.0.0.1:9/x"])
    records = [await alerts.manager.raise_alert(candidate(f"k{n}")) for n in range(10)]
    assert all(record is not None and record.status == "pending" for record in records)
    notifier.release.set()
    for record in records:
        assert record is not None
        await alerts.settle(record.id, "delivered")


async def test_a_restart_resumes_unfinished_deliveries(database: Database, receiver: Receiver) -> None:
    settings = AlertsSettings(urls=[receiver.url()], retry_backoff_s=30)
    receiver.statuses = [500]
    alerts, task = await open_alerts(database, FakeClock(NIGHT), settings)
    record = await alerts.manager.raise_alert(candidate())
    assert record is not None
    await alerts.settle(record.id, "retrying")
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await alerts.manager.close()
    # The next daemon: the retry is due again at once, and the dedupe window carries over.
    again, task = await open_alerts(database, FakeClock(NIGHT + timedelta(seconds=5)), settings)
    try:
        await again.settle(record.id, "delivered")
        assert await again.manager.raise_alert(candidate()) is None
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await again.manager.close()


async def test_alerts_without_targets_are_stored_as_such(alerts_for: Any) -> None:
    alerts = await alerts_for()
    record = await alerts.manager.raise_alert(candidate())
    assert record is not None and record.status == "no_targets"
    # the daemon read its targets at its start: one exported in the asking shell, or written in the file
    # since, reaches it only after a restart, so the refusal says where to set them and to restart
    with pytest.raises(
        UserInputError,
        match=r"no alert targets: set \[alerts\] urls in the config \(or MT_ALERTS__URLS in the daemon's "
        r"environment\), then `mt daemon restart`",
    ):
        await alerts.manager.test()


async def test_rule_names_fit_their_column_a_given_one_refused_a_made_one_shortened(
    alerts_for: Any, database: Database
) -> None:
    alerts = await alerts_for()
    with pytest.raises(UserInputError, match="invalid name 'xxxx.*: 300 characters, at most 128"):
        await alerts.manager.add_rule("price_cross", {"symbol": "BTC/USDT", "level": 1}, name="x" * 300)
    terms = [
        {"<": [{"feature": "fear_greed"}, 20]},
        {">": [{"ind": "sma", "length": 50}, {"ind": "sma", "length": 200}]},
    ]
    when = {
        "all": [
            *terms,
            {"crosses_above": [{"ind": "rsi", "length": 14}, 30]},
            {">": [{"feature": "whale_tx_count"}, 3]},
            {"<": [{"feature": "sentiment"}, -0.2]},
        ]
    }
    rule = await alerts.manager.add_rule("signal", {"symbol": "BTC/USDT", "timeframe": "1h", "when": when})
    assert len(rule.name) == 128 and rule.name.startswith("BTC/USDT 1h: Fear & Greed < 20 and ")
    kept = rule.params()["when"]
    assert rule.name.endswith("…") and kept["all"][-1]["<"][0]["feature"] == "sentiment"  # kept whole

    again = AlertManager(AlertsSettings(), database, EventBus(), alerts.clock)
    await again.load()
    assert [(r.name, r.params()["when"]) for r in again.rules.rules if not r.builtin] == [(rule.name, kept)]


async def test_rules_turn_engine_events_into_alerts_and_user_rules_come_and_go(engine: Engine) -> None:
    client = engine.client()
    engine.ctx.bus.publish(
        OrderFilled(
            order_id="o1", client_order_id="c1", symbol="BTC/USDT", side="buy", amount=0.1, price=50_000
        )
    )
    history = await eventually(lambda: client.alert_history())
    assert history[0].title == "[paper account] buy 0.1 BTC/USDT filled at 50000"
    assert history[0].rule == "order_filled"

    rule = await client.add_alert_rule("price_cross", symbol="ETH/USDT", level=3000, direction="above")
    assert rule.id is not None and rule.params == {
        "symbol": "ETH/USDT",
        "level": 3000.0,
        "direction": "above",
    }
    engine.venue.bar("ETH/USDT", T0, 2990.0)
    # Ticks coalesce for a busy subscriber: let the rule see the price below the level first.
    added = next(r for r in engine.ctx.alerts.rules.rules if r.rule_id == rule.id)
    await wait_for(lambda: getattr(added, "_last", None) == 2990.0)
    engine.venue.bar("ETH/USDT", T0, 3010.0)
    history = await eventually(lambda: _titled(client, "ETH/USDT crossed above 3000"))
    assert history.severity == "warning" and history.rule == "ETH/USDT crosses above 3000"
    listed = await client.alert_rules()
    assert [r.kind for r in listed if not r.builtin] == ["price_cross"]
    await client.remove_alert_rule(rule.id)
    assert all(r.builtin for r in await client.alert_rules())
    from mastertrade.errors import NotFound

    with pytest.raises(NotFound, match=f"no alert rule {rule.id}"):
        await client.remove_alert_rule(rule.id)
    with pytest.raises(UserInputError, match="invalid --level"):
        await client.add_alert_rule("price_cross", symbol="ETH/USDT", level=-5)
    await client.aclose()


async def _titled(client: Any, title: str) -> Any:
    return next((alert for alert in await client.alert_history() if alert.title == title), None)


async def test_user_rules_survive_a_restart(settings: Settings) -> None:

    first = core_daemon(settings, serve_api=False)
    ctx = await first.start()
    await ctx.alerts.load()
    await ctx.alerts.add_rule(
        "pct_move", {"symbol": "BTC/USDT", "pct": 3, "window": "15m"}, severity="critical"
    )
    await first.stop()
    second = core_daemon(settings, serve_api=False)
    ctx = await second.start()
    try:
        await ctx.alerts.load()
        user = [rule for rule in ctx.alerts.rule_infos() if not rule["builtin"]]
        assert user == [
            {
                "id": 1,
                "name": "BTC/USDT moves 3% in 15m",
                "kind": "pct_move",
                "params": {"symbol": "BTC/USDT", "pct": 3.0, "window": "15m"},
                "severity": "critical",
                "builtin": False,
            }
        ]
    finally:
        await second.stop()


@pytest.mark.parametrize("name", ["two\nlines", "red \x1b[31mname", "   ", "bell\x07"])
async def test_a_rule_name_with_a_control_character_is_refused_and_nothing_stored(
    alerts_for: Any, database: Database, name: str
) -> None:
    alerts = await alerts_for()
    with pytest.raises(UserInputError, match="no tab, newline or other control character"):
        await alerts.manager.add_rule("price_cross", {"symbol": "BTC/USDT", "level": 5}, name=name)
    assert await AlertStore(database).rules() == []
    rule = await alerts.manager.add_rule("price_cross", {"symbol": "BTC/USDT", "level": 5}, name="Über €")
    assert rule.name == "Über €"
