"""``GET /v1/logs``: the newest records of the daemon's log file, parsed as ``mt daemon logs`` parses it
(tracebacks joined to their record), filtered by least level, read from the end of a long file."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mastertrade.config import Settings
from mastertrade.engine.api.app import create_app
from mastertrade.engine.api.routes_logs import tail_records
from mastertrade.engine.services.logs import parse_log_lines
from mastertrade.errors import UserInputError
from mastertrade.locations import locations
from tests.daemon.conftest import Engine

LEVELS = ("INFO", "WARNING", "INFO", "ERROR", "DEBUG")


@pytest.fixture
def settings(sqlite_settings: Settings) -> Settings:
    return sqlite_settings


def line(n: int, level: str | None = None) -> str:
    level = level or LEVELS[n % len(LEVELS)]
    stamp = f"2026-11-24T12:{n // 60 % 60:02d}:{n % 60:02d}.{n % 1000:03d}Z"
    return f"{stamp} {level} mastertrade.test: record {n}\n"


def write_log(path: Path, count: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line(n) for n in range(count)), encoding="utf-8")


async def test_the_newest_records_come_parsed_oldest_first(engine: Engine) -> None:
    path = locations().log_file
    write_log(path, 10)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line(10, "ERROR").replace("record 10", "job failed"))
        handle.write("Traceback (most recent call last):\n  File 'x.py', line 1\nValueError: bad\n")
        handle.write(line(11, "INFO"))
    async with engine.client() as client:
        records = await client.logs(limit=3)
        assert [r.message for r in records] == [
            "record 9",
            "job failed\nTraceback (most recent call last):\n  File 'x.py', line 1\nValueError: bad",
            "record 11",
        ]
        assert records[1].level == "ERROR" and records[1].logger == "mastertrade.test"
        assert records[0].time == "2026-11-24T12:00:09.009Z"
        every = await client.logs(limit=1000)
        expected = list(parse_log_lines(path.read_text(encoding="utf-8").splitlines()))
        assert [r.model_dump() for r in every] == expected and len(expected) == 12

        errors_only = await client.logs(limit=10, level="error")
        assert [r.message.splitlines()[0] for r in errors_only] == ["record 3", "record 8", "job failed"]
        warnings = await client.logs(limit=2, level="WARNING")
        assert [(r.level, r.message.splitlines()[0]) for r in warnings] == [
            ("ERROR", "record 8"),
            ("ERROR", "job failed"),
        ]
        with pytest.raises(UserInputError, match="invalid log level 'loud'"):
            await client.logs(level="loud")


async def test_no_log_file_is_an_empty_list_and_errors_are_json(engine: Engine) -> None:
    assert not locations().log_file.exists()
    async with engine.client() as client:
        assert await client.logs() == []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(engine.ctx)), base_url="http://mt"
    ) as http:
        response = await http.get("/v1/logs", params={"limit": 0})
        assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"
        bad = await http.get("/v1/logs", params={"level": "loud"})
        assert (
            bad.status_code == 400
            and "DEBUG, INFO, WARNING, ERROR, CRITICAL" in bad.json()["error"]["message"]
        )


def test_a_long_file_is_read_from_its_end(tmp_path: Path) -> None:
    path = tmp_path / "daemon.log"
    write_log(path, 30_000)  # about 2 MB: several blocks
    records = tail_records(path, 5)
    assert [r["message"] for r in records] == [f"record {n}" for n in range(29_995, 30_000)]
    # a rare level makes the reader go back block after block, and stop at the start of the file
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line(30_000, "CRITICAL"))
    rare = tail_records(path, 3, min_rank=4)
    assert [r["message"] for r in rare] == ["record 30000"]
    assert [r["message"] for r in tail_records(path, 2, min_rank=3)] == ["record 29998", "record 30000"]
    # a record whose traceback straddles a block boundary is never cut
    big = "x" * 70_000
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line(30_001, "ERROR") + big + "\n" + line(30_002, "INFO"))
    last_two = tail_records(path, 2)
    assert last_two[0]["message"] == f"record 30001\n{big}" and last_two[1]["message"] == "record 30002"
