"""The kill switch's reason is bounded like a strategy move's: `mt risk halt --reason` took a reason of any
length (20,000 characters were kept whole in the audit log) and with a newline or an escape sequence
(written back to the terminal by `mt risk status` and `mt risk audit`). Now the command refuses it, exit
2 naming it, before asking the daemon, and the daemon refuses it too (422), nothing halted or logged."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mastertrade.config import Settings
from tests.conftest import MT
from tests.trading.conftest import trading_settings

BAD = [
    ("r" * 501, "at most 500 characters (got 501)"),
    ("two\nlines", "no tab, newline or other control character"),
    ("red\x1b[31m", "no tab, newline or other control character"),
    ("tab\there", "no tab, newline or other control character"),
]


@pytest.mark.parametrize(("reason", "said"), BAD, ids=["long", "newline", "escape", "tab"])
def test_mt_risk_halt_refuses_a_bad_reason(mt: MT, reason: str, said: str) -> None:
    # No daemon runs: the reason is refused before it is asked (which would be exit 1, not running).
    result = mt("risk", "halt", "--reason", reason)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("mt: error: invalid --reason ") and result.stderr.count("\n") == 1
    assert said in result.stderr
    assert len(result.stderr) < 200  # a long reason is named by its start, not echoed whole


@pytest.fixture
def settings(mt_home: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    # What the API refuses does not depend on the database: SQLite only.
    monkeypatch.setenv("MT_DB__URL", f"sqlite+aiosqlite:///{mt_home}/data/test.db")
    return trading_settings()


async def test_the_daemon_refuses_it_too_and_keeps_a_plain_one(raw: httpx.AsyncClient) -> None:
    audit = (await raw.get("/v1/risk/audit")).json()
    for reason, _ in BAD:
        refused = await raw.post("/v1/risk/halt", json={"reason": reason})
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["message"].startswith("body field 'reason': ")
    assert (await raw.get("/v1/risk")).json()["halted"] is False
    assert (await raw.get("/v1/risk/audit")).json() == audit

    longest = "für den Test, " + "x" * 486
    assert len(longest) == 500
    halted = await raw.post("/v1/risk/halt", json={"reason": longest})
    assert halted.status_code == 200, halted.text
    assert halted.json()["halted"] is True and halted.json()["halt_reason"] == longest
    assert (await raw.get("/v1/risk/audit")).json()[0]["reason"] == f"kill_switch: {longest}"
