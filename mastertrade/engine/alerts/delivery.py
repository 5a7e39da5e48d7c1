"""Sending an alert to its targets through Apprise, off the event loop.

Apprise's ``notify`` blocks (it makes HTTP requests, talks SMTP ...), so each target is sent from a
small thread pool of its own: a slow or dead target never stalls the engine, and the daemon's stop does
not wait for it. Each target gets its own result, so a retry goes only to the targets that failed.
Error text is scrubbed of the URLs' secrets before anyone sees it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from mastertrade.engine.alerts.masking import mask_target, scrub

log = logging.getLogger(__name__)

_NOTIFY_TYPES = {"info": "info", "warning": "warning", "critical": "failure"}


@dataclass(frozen=True)
class TargetResult:
    """The outcome of one delivery attempt to one target (``target`` is the masked URL)."""

    index: int
    target: str
    ok: bool
    error: str | None = None


class Notifier(Protocol):
    async def send(
        self, urls: Sequence[tuple[int, str]], title: str, body: str, severity: str
    ) -> list[TargetResult]:
        """Send to each (index, url); one result per target, in order."""
        ...

    def close(self) -> None: ...


class AppriseNotifier:
    """Delivers through Apprise, one thread-pool call per target."""

    def __init__(self, *, timeout_s: float = 20.0, workers: int = 4) -> None:
        self.timeout_s = timeout_s
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mt-alerts")

    async def send(
        self, urls: Sequence[tuple[int, str]], title: str, body: str, severity: str
    ) -> list[TargetResult]:
        loop = asyncio.get_running_loop()
        calls = [
            loop.run_in_executor(self._pool, self._send_one, url, title, body, severity) for _, url in urls
        ]
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
        results = []
        all_urls = [url for _, url in urls]
        for (index, url), outcome in zip(urls, outcomes, strict=True):
            error: str | None
            if isinstance(outcome, BaseException):
                ok, error = False, f"{type(outcome).__name__}: {outcome}"
            else:
                ok, error = outcome
            results.append(
                TargetResult(
                    index, mask_target(url), ok, scrub(error, all_urls) if error is not None else None
                )
            )
        return results

    def _send_one(self, url: str, title: str, body: str, severity: str) -> tuple[bool, str | None]:
        import apprise

        client = apprise.Apprise()
        if not client.add(url):
            return False, "not a valid Apprise URL (unknown scheme or missing parts)"
        result = client.notify(
            body=body,
            title=title,
            notify_type=_NOTIFY_TYPES.get(severity, "info"),
            timeout=self.timeout_s,
        )
        if result:
            return True, None
        messages = [
            entry.message for entry in result.logs() if entry.level in ("WARNING", "ERROR", "CRITICAL")
        ]
        return False, (messages[-1] if messages else "delivery failed")[:500]

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
