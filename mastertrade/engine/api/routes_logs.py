"""``GET /v1/logs``: the newest records of the daemon's log file, parsed like ``mt daemon logs``.

The file is read backwards from its end, in growing blocks, until enough records are found, so asking
for the last hundred records of a 10 MB log reads kilobytes. Only the current file is read: right after
a rotation there are fewer records to show. ``level`` keeps records at that level and above.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query

from mastertrade import errors
from mastertrade.engine.api.schemas_logs import LogRecord

router = APIRouter(tags=["daemon"])

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
FIRST_BLOCK = 64 * 1024


def parse_level(value: str | None) -> int:
    """The rank of a level name in ``LEVELS`` (0 when None); a bad name is a ``UserInputError``."""
    if value is None:
        return 0
    name = value.strip().upper()
    if name == "WARN":
        name = "WARNING"
    if name not in LEVELS:
        raise errors.UserInputError(f"invalid log level {value!r}: choose one of {', '.join(LEVELS)}")
    return LEVELS.index(name)


def tail_records(path: Path, limit: int, min_rank: int = 0) -> list[dict[str, str]]:
    """The last ``limit`` records of the log at ``path`` at level rank ``min_rank`` or above, oldest
    first; none when the file does not exist."""
    from mastertrade.engine.services.logs import parse_log_lines

    def wanted(record: dict[str, str]) -> bool:
        level = record["level"]
        return LEVELS.index(level) >= min_rank if level in LEVELS else min_rank == 0

    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return []
    with handle:
        end = handle.seek(0, 2)
        start, block = end, FIRST_BLOCK
        while True:
            start = max(0, end - block)
            handle.seek(start)
            lines = handle.read(end - start).decode("utf-8", errors="replace").splitlines()
            if start > 0:
                lines = lines[1:]  # the block may begin inside a line
            records = list(parse_log_lines(lines))
            if start > 0 and records:
                records = records[1:]  # and inside a record (its traceback lines without their head)
            records = [record for record in records if wanted(record)]
            if start == 0 or len(records) >= limit:
                return records[-limit:]
            block *= 4


@router.get("/v1/logs", response_model=list[LogRecord], summary="The newest records of the daemon's log")
async def logs(
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    level: Annotated[
        str | None, Query(description="only records at this level or above: DEBUG INFO WARNING ERROR")
    ] = None,
) -> list[LogRecord]:
    from mastertrade.locations import locations

    rank = parse_level(level)
    records = await asyncio.to_thread(tail_records, locations().log_file, limit, rank)
    return [LogRecord.model_validate(record) for record in records]
