"""The alert manager: from a rule's candidate to a stored, delivered alert.

``raise_alert`` decides what becomes of a candidate, in this order:

1. **Suppressed** when an alert with the same dedupe key was raised within ``[alerts] repeat_window_s``
   (and has not failed: one that never arrived silences nothing): nothing is sent; the earlier alert's
   ``repeats`` count goes up.
2. **Stored** otherwise, with status ``held`` during quiet hours (unless critical), ``no_targets``
   when no Apprise URL is configured, or ``pending``; an ``AlertRaised`` event goes on the bus.
3. **Delivered** in the background by ``run_delivery``: each target is tried in a worker thread;
   targets that failed are retried with exponential backoff (``retry_attempts``, ``retry_backoff_s``)
   and the record ends ``delivered`` or ``failed``, with the per-target results and the (scrubbed)
   error. When quiet hours end, the held alerts go out as one digest.

Everything is in the database, so a restart resumes: pending and retrying alerts are sent, held ones
wait for the end of quiet hours (or go at once if quiet hours were switched off), and the dedupe window
continues. The targets may have changed meanwhile: each target's result is kept by its identity
(``identity.py``), so a retry goes to every configured target that has not had the alert; with no
target left, the alert is recorded ``no_targets``. Any code may raise an alert directly
with ``await ctx.alerts.raise_alert(AlertCandidate(...))``; most alerts come from bus events through
the rules (``rules.py``), which the alerts service feeds.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timedelta
from typing import Any

from mastertrade.config import AlertsSettings
from mastertrade.db.database import Database
from mastertrade.db.models.daemon import AlertRecord
from mastertrade.engine.alerts.delivery import AppriseNotifier, Notifier, TargetResult
from mastertrade.engine.alerts.identity import load_key, target_id, target_label
from mastertrade.engine.alerts.quiet import QuietHours, parse_quiet_hours
from mastertrade.engine.alerts.rules import (
    RULE_EVENT_TYPES,
    RULE_NAME_MAX,
    AlertCandidate,
    EventRule,
    Rule,
    RuleSet,
    Severity,
    build_rule,
    check_rule_name,
)
from mastertrade.engine.alerts.store import AlertStore
from mastertrade.engine.bus import EventBus, Subscription
from mastertrade.engine.events import AlertRaised, Event
from mastertrade.engine.kernel.backoff import Backoff
from mastertrade.engine.kernel.clock import Clock
from mastertrade.errors import AlreadyExists, NotFound, UserInputError
from mastertrade.utc import iso

log = logging.getLogger(__name__)

_MAX_WAIT_S = 60.0  # re-check at least this often, so a wall-clock jump cannot strand a retry
_CONCURRENT_DELIVERIES = 4


def _fingerprint(rule: Rule) -> tuple[str, str, str | None]:
    """What a rule alerts on: its kind, its parameters as it reads them and its severity."""
    params = json.dumps(rule.params(), sort_keys=True, default=str)
    return rule.kind, params, rule.severity.value if rule.severity else None


def _already_there(rule: Rule) -> str:
    """The refusal of a rule identical to ``rule``, naming it and what to do instead."""
    if rule.builtin:
        return (
            f"the built-in rule {rule.name} ([alerts] events) already alerts on exactly this (a rule of "
            "its kind narrowed by --symbol or --service, or with another --severity, is not the same)"
        )
    return (
        f"alert rule {rule.rule_id} ({rule.name!r}) already alerts on exactly this: remove it first "
        f"(`mt alerts remove {rule.rule_id}`) to add it under another name"
    )


def alert_info(record: AlertRecord) -> dict[str, Any]:
    """An alert as the API shows it (targets masked, times ISO-8601 UTC)."""
    return {
        "id": record.id,
        "created_at": record.created_at,
        "rule": record.rule,
        "severity": record.severity,
        "dedupe_key": record.dedupe_key,
        "title": record.title,
        "body": record.body,
        "status": record.status,
        "attempts": record.attempts,
        "repeats": record.repeats,
        "last_seen_at": record.last_seen_at,
        "delivered_at": record.delivered_at,
        "error": record.error,
        "targets": json.loads(record.targets) if record.targets else [],
    }


class AlertManager:
    def __init__(
        self,
        settings: AlertsSettings,
        db: Database,
        bus: EventBus,
        clock: Clock,
        *,
        notifier: Notifier | None = None,
        target_key: bytes | None = None,
    ) -> None:
        self.settings = settings
        self._key = target_key if target_key is not None else load_key()
        self.store = AlertStore(db)
        self.bus = bus
        self.clock = clock
        self.notifier: Notifier = notifier or AppriseNotifier()
        self.quiet: QuietHours | None = (
            parse_quiet_hours(settings.quiet_hours, settings.timezone) if settings.quiet_hours else None
        )
        self.rules = RuleSet()
        # Created now, not when the service starts, so events published during start-up (a crash
        # recovery notice) and while the service restarts after a crash are kept for it.
        self.subscription: Subscription = bus.subscribe(RULE_EVENT_TYPES, name="alerts", maxsize=10_000)
        self._loaded = False
        self._recent: dict[str, tuple[int, datetime]] = {}
        self._due: dict[int, datetime] = {}
        self._held = 0
        self._wake = asyncio.Event()
        self._deliveries: set[asyncio.Task[None]] = set()
        self._limit = asyncio.Semaphore(_CONCURRENT_DELIVERIES)
        self._adding = asyncio.Lock()

    @property
    def urls(self) -> list[str]:
        return self.settings.urls

    def targets(self) -> list[str]:
        """The targets as shown: masked, each with its identity (``identity.py``)."""
        return [target_label(url, self._key) for url in self.urls]

    # --- start-up --------------------------------------------------------------------------------

    async def load(self) -> None:
        """Load the rules and resume unfinished deliveries (once; later calls do nothing)."""
        if self._loaded:
            return
        rules: list[Rule] = [EventRule(name) for name in self.settings.events]
        for stored in await self.store.rules():
            if not stored.enabled:
                continue
            try:
                rules.append(
                    build_rule(
                        stored.kind,
                        json.loads(stored.params),
                        rule_id=stored.id,
                        name=stored.name,
                        severity=stored.severity or None,
                    )
                )
            except (UserInputError, ValueError) as exc:
                log.error("alert rule %s (%s) is invalid and stays off: %s", stored.id, stored.name, exc)
        self.rules = RuleSet(rules)
        now = self.clock.now()
        for record in await self.store.since(now - timedelta(seconds=self.settings.repeat_window_s)):
            assert record.id is not None
            if record.status == "failed":  # it never arrived: it does not silence what follows
                self._recent.pop(record.dedupe_key, None)
            else:
                self._recent[record.dedupe_key] = (record.id, record.created_at)
        for record in await self.store.with_status(["pending", "retrying"]):
            assert record.id is not None
            self._schedule(record.id, now)
        self._held = len(await self.store.with_status(["held"]))
        self._loaded = True

    # --- raising ---------------------------------------------------------------------------------

    async def handle(self, event: Event) -> list[AlertRecord]:
        """Run an event through the rules; returns the alerts it raised (suppressed ones left out)."""
        raised = []
        for candidate in self.rules.evaluate(event):
            record = await self.raise_alert(candidate)
            if record is not None:
                raised.append(record)
        return raised

    async def raise_alert(self, candidate: AlertCandidate) -> AlertRecord | None:
        """Store (and queue for delivery) a new alert; None when it repeats one inside the window."""
        now = self.clock.now()
        key = candidate.dedupe_key[:255]
        previous = self._recent.get(key)
        if previous is not None and (now - previous[1]).total_seconds() < self.settings.repeat_window_s:
            await self.store.add_repeat(previous[0], now)
            return None
        if not self.urls:
            status = "no_targets"
        elif (
            self.quiet is not None and candidate.severity is not Severity.CRITICAL and self.quiet.active(now)
        ):
            status = "held"
        else:
            status = "pending"
        record = await self.store.insert(
            AlertRecord(
                created_at=now,
                rule=candidate.rule[:128],
                severity=candidate.severity.value,
                dedupe_key=key,
                title=candidate.title[:255],
                body=candidate.body,
                status=status,
                last_seen_at=now,
                targets=json.dumps(self._fresh_targets()),
            )
        )
        assert record.id is not None
        self._remember(key, record.id, now)
        log.info("alert #%s [%s] %s (%s)", record.id, record.severity, record.title, status)
        self.bus.publish(
            AlertRaised(
                alert_id=record.id,
                severity=record.severity,
                title=record.title,
                body=record.body,
                dedupe_key=key,
                rule=record.rule,
                status=status,
            )
        )
        if status == "pending":
            self._schedule(record.id, now)
        elif status == "held":
            self._held += 1
            self._wake.set()
        return record

    def _remember(self, key: str, alert_id: int, now: datetime) -> None:
        self._recent[key] = (alert_id, now)
        if len(self._recent) > 1024:
            horizon = now - timedelta(seconds=self.settings.repeat_window_s)
            self._recent = {k: v for k, v in self._recent.items() if v[1] >= horizon}

    def _fresh_targets(self) -> list[dict[str, Any]]:
        return [
            {
                "index": index,
                "id": target_id(url, self._key),
                "target": target_label(url, self._key),
                "ok": False,
                "error": None,
            }
            for index, url in enumerate(self.urls)
        ]

    # --- delivery --------------------------------------------------------------------------------

    def _schedule(self, alert_id: int, when: datetime) -> None:
        self._due[alert_id] = when
        self._wake.set()

    def backoff(self, attempts: int) -> float:
        """Seconds before redelivering an alert that failed ``attempts`` times."""
        return Backoff(self.settings.retry_backoff_s, self.settings.retry_backoff_max_s).delay(attempts)

    async def run_delivery(self) -> None:
        """Deliver due alerts, retry failed ones and release held ones, until cancelled."""
        while True:
            now = self.clock.now()
            self._wake.clear()
            # Held alerts go out when the quiet hours end, or at once when the quiet hours were
            # switched off (a restart with another config): else they would wait for ever.
            if self._held and (self.quiet is None or not self.quiet.active(now)):
                await self._release_held()
            for alert_id, when in list(self._due.items()):
                if when <= now:
                    del self._due[alert_id]
                    task = asyncio.create_task(self._deliver(alert_id), name=f"alert-{alert_id}")
                    self._deliveries.add(task)
                    task.add_done_callback(self._deliveries.discard)
            moments = list(self._due.values())
            if self._held and self.quiet is not None:
                moments.append(self.quiet.ends_after(now))
            wait = min(((moment - now).total_seconds() for moment in moments), default=_MAX_WAIT_S)
            await self._sleep(min(max(wait, 0.0), _MAX_WAIT_S))

    async def _sleep(self, seconds: float) -> None:
        wake = asyncio.ensure_future(self._wake.wait())
        sleep = asyncio.ensure_future(self.clock.sleep(seconds))
        try:
            await asyncio.wait({wake, sleep}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            wake.cancel()
            sleep.cancel()

    async def _deliver(self, alert_id: int) -> None:
        async with self._limit:
            record = await self.store.get(alert_id)
            if record is None or record.status not in ("pending", "retrying"):
                return
            if not self.urls:  # every target was taken out of the config since it was raised
                await self._no_targets([record])
                return
            targets = self._merge_targets(record)
            todo = [(item["index"], self.urls[item["index"]]) for item in targets if not item["ok"]]
            try:
                results = await self.notifier.send(todo, record.title, record.body, record.severity)
            except Exception as exc:  # a bug in a notifier must not lose the alert: retry it
                log.exception("alert #%s: delivery raised", alert_id)
                results = [
                    TargetResult(index, target_label(url, self._key), False, type(exc).__name__)
                    for index, url in todo
                ]
            await self._record_attempt(record, targets, results)

    def _merge_targets(self, record: AlertRecord) -> list[dict[str, Any]]:
        """The configured targets, each with its stored result matched by identity, never by place
        or masked form: the URLs may have changed since the alert was raised (a restart with another
        config), and a new target that masks like one that had the alert (two ``tgram://***``) has
        not had it. A target without a stored result (new, or stored before targets had identities)
        is tried: a repeat rather than a loss."""
        stored = json.loads(record.targets) if record.targets else []
        results = {item["id"]: item for item in stored if item.get("id")}
        targets = self._fresh_targets()
        for item in targets:
            before = results.get(item["id"])
            if before is not None:
                item.update(ok=bool(before.get("ok")), error=before.get("error"))
        return targets

    async def _record_attempt(
        self, record: AlertRecord, targets: list[dict[str, Any]], results: list[TargetResult]
    ) -> None:
        assert record.id is not None
        for result in results:
            targets[result.index].update(ok=result.ok, error=result.error)
        attempts = record.attempts + 1
        failed = [item for item in targets if not item["ok"]]
        now = self.clock.now()
        values: dict[str, Any] = {"attempts": attempts, "targets": json.dumps(targets)}
        if not failed:
            values.update(status="delivered", delivered_at=now, error=None)
            log.info("alert #%s delivered to %d target(s)", record.id, len(targets))
        else:
            error = "; ".join(f"{item['target']}: {item['error'] or 'failed'}" for item in failed)
            if attempts >= self.settings.retry_attempts:
                values.update(status="failed", error=error)
                # Its repeats were counted as sent; the next one is sent, so that it may get through.
                self._recent = {key: seen for key, seen in self._recent.items() if seen[0] != record.id}
                log.error("alert #%s failed after %d attempts: %s", record.id, attempts, error)
            else:
                delay = self.backoff(attempts)
                values.update(status="retrying", error=error)
                self._schedule(record.id, now + timedelta(seconds=delay))
                log.warning(
                    "alert #%s attempt %d failed (%s); retry in %g s", record.id, attempts, error, delay
                )
        await self.store.update(record.id, **values)

    async def _release_held(self) -> None:
        """Quiet hours are over: send what was held as one digest (each alert keeps its own record)."""
        held = await self.store.with_status(["held"])
        self._held = 0
        if not held:
            return
        if not self.urls:
            await self._no_targets(held)
            return
        if len(held) == 1:
            record = held[0]
            assert record.id is not None
            await self.store.update(record.id, status="pending")
            self._schedule(record.id, self.clock.now())
            return
        title = f"{len(held)} alerts held during quiet hours"
        body = "\n".join(f"[{record.severity}] {record.title}: {record.body}" for record in held)
        targets = self._fresh_targets()
        results = await self.notifier.send(list(enumerate(self.urls)), title, body, "warning")
        for record in held:
            await self._record_attempt(record, [dict(item) for item in targets], results)

    async def _no_targets(self, records: list[AlertRecord]) -> None:
        """Alerts left to send when no target is configured any more: recorded as such, never as
        delivered (to nobody)."""
        for record in records:
            assert record.id is not None
            await self.store.update(record.id, status="no_targets", targets="[]")
            log.warning("alert #%s not sent: no alert targets are configured any more", record.id)

    # --- tests, rules, history -------------------------------------------------------------------

    async def test(self, message: str | None = None) -> AlertRecord:
        """Send a test alert to every target now (no dedupe, no quiet hours, no retry)."""
        return await self._send_now(
            "test", "MasterTrade test alert", message or "If you can read this, MasterTrade alerts reach you."
        )

    async def report(self, title: str, body: str) -> AlertRecord:
        """Send a report the trader asked for (``mt report --send``) to every target now, as a test
        alert goes: no dedupe, no quiet hours (it was asked for), recorded in the history."""
        return await self._send_now("report", title, body)

    async def _send_now(self, rule: str, title: str, body: str) -> AlertRecord:
        if not self.urls:
            # The targets are those the daemon read at its start: a trader who just set them in the
            # file, or exported MT_ALERTS__URLS in the shell that asks, must restart it to reach them.
            raise UserInputError(
                "the daemon has no alert targets: set [alerts] urls in the config (or MT_ALERTS__URLS in"
                " the daemon's environment), then `mt daemon restart` to apply them"
            )
        now = self.clock.now()
        record = await self.store.insert(
            AlertRecord(
                created_at=now,
                rule=rule,
                severity=Severity.INFO.value,
                dedupe_key=f"{rule}:{iso(now)}",
                title=title,
                body=body,
                status="pending",
                last_seen_at=now,
                targets=json.dumps(self._fresh_targets()),
            )
        )
        assert record.id is not None
        # It must end delivered or failed here: left pending, the next start would send it again.
        try:
            results = await self.notifier.send(list(enumerate(self.urls)), record.title, record.body, "info")
        except asyncio.CancelledError:  # the daemon stops meanwhile
            await self.store.update(
                record.id, attempts=1, status="failed", error="the daemon stopped while sending it"
            )
            raise
        except Exception as exc:
            log.exception("%s alert #%s: delivery raised", rule, record.id)
            results = [
                TargetResult(index, target_label(url, self._key), False, type(exc).__name__)
                for index, url in enumerate(self.urls)
            ]
        targets = self._fresh_targets()
        for result in results:
            targets[result.index].update(ok=result.ok, error=result.error)
        failed = [item for item in targets if not item["ok"]]
        record.attempts = 1
        record.targets = json.dumps(targets)
        record.status = "failed" if failed else "delivered"
        record.delivered_at = None if failed else self.clock.now()
        record.error = "; ".join(f"{item['target']}: {item['error'] or 'failed'}" for item in failed) or None
        await self.store.update(
            record.id,
            attempts=1,
            targets=record.targets,
            status=record.status,
            delivered_at=record.delivered_at,
            error=record.error,
        )
        return record

    def rule_infos(self) -> list[dict[str, Any]]:
        return [rule.info() for rule in self.rules.rules]

    async def add_rule(
        self, kind: str, params: dict[str, Any], *, severity: str | None = None, name: str | None = None
    ) -> Rule:
        """Validate, store and switch on a user rule.

        A name the user gives must fit the stored column (Postgres refuses a longer one; SQLite would
        keep it but every alert's ``rule`` is cut); a name made from the rule (a long ``--when``
        condition) is shortened with an ellipsis instead, as the rule's parameters keep it whole.

        A rule that alerts on exactly what a rule in force alerts on is refused (``AlreadyExists``
        naming that rule): stored, it was a second rule listed for the same alerts."""
        if name:  # an empty name is none: the rule's own
            check_rule_name(name)
        clean = {key: value for key, value in params.items() if value is not None}
        draft = build_rule(kind, clean, rule_id=0, name=name, severity=severity)
        label = draft.name if len(draft.name) <= RULE_NAME_MAX else draft.name[: RULE_NAME_MAX - 1] + "…"
        async with self._adding:  # two identical requests at once: the second sees the first stored
            if (same := self._same_as(draft)) is not None:
                raise AlreadyExists(_already_there(same))
            stored = await self.store.add_rule(
                name=label, kind=kind, params=draft.params(), severity=severity
            )
            rule = build_rule(kind, draft.params(), rule_id=stored.id, name=stored.name, severity=severity)
            self.rules.rules.append(rule)
        log.info("alert rule %s added: %s", stored.id, stored.name)
        return rule

    def _same_as(self, draft: Rule) -> Rule | None:
        """The rule in force that alerts on exactly what ``draft`` would: the same kind, the same
        parameters as the rules read them (``1h`` and ``60m`` are one window, a symbol as the feed spells
        it) and the same severity. A name alone changes nothing that is sent, so it is not compared."""
        wanted = _fingerprint(draft)
        return next((rule for rule in self.rules.rules if _fingerprint(rule) == wanted), None)

    async def remove_rule(self, rule_id: int) -> None:
        if not await self.store.remove_rule(rule_id):
            raise NotFound(f"no alert rule {rule_id} (see `mt alerts list`)")
        self.rules.rules = [rule for rule in self.rules.rules if rule.rule_id != rule_id]
        log.info("alert rule %s removed", rule_id)

    async def history(self, limit: int = 50) -> list[AlertRecord]:
        return await self.store.history(limit)

    async def close(self) -> None:
        """Stop delivering (unfinished deliveries are resumed by the next start) and let go of the pool."""
        for task in list(self._deliveries):
            task.cancel()
        if self._deliveries:
            await asyncio.wait(self._deliveries, timeout=1.0)
        self.subscription.close()
        self.notifier.close()
