"""Checking alert targets with Apprise before the daemon relies on them.

``[alerts] urls`` are checked for their shape whenever the config loads (``scheme://...``), but only
Apprise knows what each of its schemes needs (a Telegram bot token and chat, an e-mail host): a
``tgram://`` with no token or a ``mailto://`` with no host would otherwise show only when every alert
to it had failed its retries. ``check_targets`` asks Apprise to build each target, as delivery will,
when the daemon starts. Apprise is imported here only (it loads every plugin, about a second), and its
own log lines, which repeat the URL with its token, are kept out of the output.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from mastertrade.engine.alerts.masking import mask_target
from mastertrade.errors import ConfigError


@contextmanager
def _apprise_silenced() -> Iterator[None]:
    logger = logging.getLogger("apprise")
    was = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = was


def check_targets(urls: Sequence[str]) -> None:
    """Raise ``ConfigError`` naming the first target Apprise cannot build, by its place and masked form
    (never its secret parts)."""
    if not urls:
        return
    import apprise

    with _apprise_silenced():
        for index, url in enumerate(urls):
            if not apprise.Apprise().add(url):
                raise ConfigError(
                    f"[alerts] urls: target #{index + 1} of {len(urls)} ({mask_target(url)}) is not a"
                    " valid Apprise URL: its scheme is unknown here or parts it needs are missing (a"
                    " tgram:// needs bot-token/chat-id, a mailto:// a user and host; see the Apprise docs)"
                )


def apprise_knows(scheme: str) -> bool:
    """Whether the installed Apprise has a plugin for ``scheme`` (loading its plugins: about a second)."""
    from apprise.manager_plugins import NotificationManager

    with _apprise_silenced():
        return scheme.lower() in NotificationManager()  # type: ignore[no-untyped-call]
