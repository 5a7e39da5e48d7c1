"""Alerts across a restart with another config. Targets have identities (a keyed hash of the whole URL):
two targets of one scheme mask alike but are shown and tracked apart, and a retry goes to every target
that has not had the alert, even one that masks like a target that had it; no secret shows. An alert
left to send when every target was removed is recorded as such, never as delivered; alerts held for
quiet hours go out when the quiet hours are switched off."""

from __future__ import annotations

import asyncio
import json
import stat
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from mastertrade.config import AlertsSettings
from mastertrade.db.database import Database
from mastertrade.engine.alerts.delivery import TargetResult
from mastertrade.engine.alerts.identity import key_file, load_key, target_id
from mastertrade.engine.alerts.manager import AlertManager
from mastertrade.engine.alerts.masking import mask_target
from mastertrade.engine.alerts.rules import AlertCandidate, Severity
from mastertrade.engine.bus import EventBus
from mastertrade.engine.kernel.clock import FakeClock
from tests.daemon.fakes import eventually

T0 = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
BOT_A = "tgram://111111:AAH_first_bot_token/-1001"
BOT_B = "tgram://222222:AAH_other_bot_token/-1002"
HOOK = "json://127.0.0.1:9/private-hook"


class ByUrlNotifier:
    """Delivers to every URL except those in ``down``; records what it was asked to send."""

    def __init__(self, down: Sequence[str] = ()) -> None:
        self.down = set(down)
        self.sent: list[str] = []

    async def send(
        self, urls: Sequence[tuple[int, str]], title: str, body: str, severity: str
    ) -> list[TargetResult]:
        self.sent += [url for _, url in urls]
        return [
            TargetResult(index, mask_target(url), url not in self.down, "down" if url in self.down else None)
            for index, url in urls
        ]

    def close(self) -> None:
        pass


async def _run(manager: AlertManager) -> asyncio.Task[None]:
    await manager.load()
    return asyncio.create_task(manager.run_delivery())


async def _stop(manager: AlertManager, task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await manager.close()


async def _status(manager: AlertManager, alert_id: int, status: str) -> bool:
    record = await manager.store.get(alert_id)
    return record is not None and record.status == status


async def test_a_target_swapped_for_one_of_the_same_scheme_during_a_retry_gets_the_alert(
    database: Database,
) -> None:
    first = ByUrlNotifier(down=[HOOK])
    manager = AlertManager(
        AlertsSettings(urls=[BOT_A, HOOK]), database, EventBus(), FakeClock(T0), notifier=first
    )
    task = await _run(manager)
    record = await manager.raise_alert(
        AlertCandidate(rule="test", severity=Severity.WARNING, dedupe_key="k", title="BTC down 8%", body="b")
    )
    assert record is not None and record.id is not None
    await eventually(lambda: _status(manager, record.id, "retrying"))
    assert first.sent == [BOT_A, HOOK]
    await _stop(manager, task)

    # The user swaps bot A for bot B (same scheme, same masked form) and restarts the daemon.
    second = ByUrlNotifier()
    manager = AlertManager(
        AlertsSettings(urls=[BOT_B, HOOK]),
        database,
        EventBus(),
        FakeClock(T0 + timedelta(seconds=5)),
        notifier=second,
    )
    task = await _run(manager)
    try:
        await eventually(lambda: _status(manager, record.id, "delivered"))
    finally:
        await _stop(manager, task)
    assert sorted(second.sent) == sorted([BOT_B, HOOK])  # bot B never had it; the hook failed before
    done = await manager.store.get(record.id)
    assert done is not None
    targets = json.loads(done.targets)
    assert [item["ok"] for item in targets] == [True, True]
    assert targets[0]["target"] == f"tgram://*** #{target_id(BOT_B, load_key())}"


async def test_a_target_that_had_the_alert_is_not_sent_it_again_when_others_move(
    database: Database,
) -> None:
    first = ByUrlNotifier(down=[HOOK])
    manager = AlertManager(
        AlertsSettings(urls=[BOT_A, HOOK]), database, EventBus(), FakeClock(T0), notifier=first
    )
    task = await _run(manager)
    record = await manager.raise_alert(
        AlertCandidate(rule="test", severity=Severity.WARNING, dedupe_key="k", title="t", body="b")
    )
    assert record is not None and record.id is not None
    await eventually(lambda: _status(manager, record.id, "retrying"))
    await _stop(manager, task)

    # Reordered, with a target added: bot A had the alert wherever it now stands.
    second = ByUrlNotifier()
    manager = AlertManager(
        AlertsSettings(urls=[HOOK, BOT_B, BOT_A]),
        database,
        EventBus(),
        FakeClock(T0 + timedelta(seconds=5)),
        notifier=second,
    )
    task = await _run(manager)
    try:
        await eventually(lambda: _status(manager, record.id, "delivered"))
    finally:
        await _stop(manager, task)
    assert sorted(second.sent) == sorted([HOOK, BOT_B])


async def test_targets_of_one_scheme_are_shown_apart_without_their_secrets(database: Database) -> None:
    manager = AlertManager(
        AlertsSettings(urls=[BOT_A, BOT_B, HOOK]),
        database,
        EventBus(),
        FakeClock(T0),
        notifier=ByUrlNotifier(),
    )
    shown = manager.targets()
    assert len(set(shown)) == 3
    assert [label.split(" #")[0] for label in shown] == [
        "tgram://***",
        "tgram://***",
        "json://127.0.0.1:9/***",
    ]
    for label in shown:
        assert "111111" not in label and "first_bot" not in label and "private-hook" not in label
    # The same workspace shows the same identities after a restart; its key is private and never shown.
    again = AlertManager(
        AlertsSettings(urls=[BOT_A]), database, EventBus(), FakeClock(T0), notifier=ByUrlNotifier()
    )
    assert again.targets() == shown[:1]
    assert stat.S_IMODE(key_file().stat().st_mode) == 0o600
    key = load_key()
    assert key.hex() not in " ".join(shown)
    # Another workspace (another key) gives the same URL another identity: the hash is keyed.
    assert target_id(BOT_A, b"\x01" * 32) != target_id(BOT_A, key)
    await manager.close()
    await again.close()


def test_a_damaged_key_file_is_replaced(tmp_path: object) -> None:
    path = key_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("not a key\n")
    key = load_key()
    assert len(key) == 32 and load_key() == key and stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_an_unfinished_alert_is_not_recorded_delivered_when_every_target_was_removed(
    database: Database,
) -> None:
    first = ByUrlNotifier(down=[HOOK])
    manager = AlertManager(AlertsSettings(urls=[HOOK]), database, EventBus(), FakeClock(T0), notifier=first)
    task = await _run(manager)
    record = await manager.raise_alert(
        AlertCandidate(rule="test", severity=Severity.WARNING, dedupe_key="k", title="t", body="b")
    )
    assert record is not None and record.id is not None
    await eventually(lambda: _status(manager, record.id, "retrying"))
    await _stop(manager, task)

    # The user takes the target out of the config and restarts: nobody can get the alert now.
    manager = AlertManager(
        AlertsSettings(urls=[]), database, EventBus(), FakeClock(T0 + timedelta(seconds=5)), notifier=first
    )
    task = await _run(manager)
    try:
        await eventually(lambda: _status(manager, record.id, "no_targets"))
    finally:
        await _stop(manager, task)
    done = await manager.store.get(record.id)
    assert done is not None and done.delivered_at is None and done.attempts == 1


async def _held_alert(database: Database, start: datetime) -> int:
    manager = AlertManager(
        AlertsSettings(urls=[HOOK], quiet_hours="22:00-07:00"),
        database,
        EventBus(),
        FakeClock(start),
        notifier=ByUrlNotifier(),
    )
    task = await _run(manager)
    record = await manager.raise_alert(
        AlertCandidate(rule="test", severity=Severity.INFO, dedupe_key="k", title="t", body="b")
    )
    await _stop(manager, task)
    assert record is not None and record.id is not None and record.status == "held"
    return record.id


async def test_held_alerts_go_out_when_quiet_hours_are_switched_off(database: Database) -> None:
    night = datetime(2026, 2, 1, 23, 0, tzinfo=UTC)
    alert_id = await _held_alert(database, night)
    notifier = ByUrlNotifier()
    manager = AlertManager(
        AlertsSettings(urls=[HOOK]),
        database,
        EventBus(),
        FakeClock(night + timedelta(minutes=1)),
        notifier=notifier,
    )
    task = await _run(manager)
    try:
        await eventually(lambda: _status(manager, alert_id, "delivered"))
    finally:
        await _stop(manager, task)
    assert notifier.sent == [HOOK]


async def test_held_alerts_are_not_recorded_delivered_when_every_target_was_removed(
    database: Database,
) -> None:
    night = datetime(2026, 2, 1, 23, 0, tzinfo=UTC)
    alert_id = await _held_alert(database, night)
    notifier = ByUrlNotifier()
    manager = AlertManager(
        AlertsSettings(urls=[], quiet_hours="22:00-07:00"),
        database,
        EventBus(),
        FakeClock(night + timedelta(hours=8)),  # 07:00: the quiet hours are over
        notifier=notifier,
    )
    task = await _run(manager)
    try:
        await eventually(lambda: _status(manager, alert_id, "no_targets"))
    finally:
        await _stop(manager, task)
    assert notifier.sent == []
