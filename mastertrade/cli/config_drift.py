"""Whether the config files changed since the running daemon read them.

The daemon reads ``config.toml`` and ``secrets.toml`` once, at its start. A trader who edits a risk limit
and then looks at ``mt status`` would otherwise see nothing to say the daemon still runs with the old one.
The daemon reports a digest of the files' values as it read them (``StatusReport.config_digest``); this
compares it with the files now. Only the files: a shell's environment differs from the daemon's by
design (cron, systemd), so it is left out of both digests.
"""

from __future__ import annotations

from mastertrade.cli.output import info


def warn_if_changed(daemon_digest: str | None) -> bool | None:
    """True when the files' values differ from what the daemon read (said on stderr, with how to apply
    them), False when they agree, None when it cannot be told: a daemon older than the digest, settings
    not read from files, or files that no longer load (said on stderr too)."""
    if daemon_digest is None:
        return None
    from mastertrade.config import load_settings
    from mastertrade.errors import ConfigError

    try:
        now = load_settings().files_digest
    except ConfigError as exc:
        info(
            f"mt: warning: the config no longer loads ({str(exc).splitlines()[0]}); the daemon still "
            "runs with the settings it read at its start",
            style="yellow",
        )
        return None
    if now is None:
        return None
    if now == daemon_digest:
        return False
    from mastertrade.locations import locations

    where = locations()
    info(
        f"mt: warning: {where.config_file} or {where.secrets_file} changed since the daemon started; it "
        "still runs with the settings it read then: `mt daemon restart` applies the change",
        style="yellow",
    )
    return True
