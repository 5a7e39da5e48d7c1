"""The last morning report sent (``mt report --send``): when, and the account's equity then, so the next
report gives the equity's change since the one the trader read. A JSON file in the data folder, written
whole (a temporary file renamed over it) once the report reached every alert target; a report only
printed does not move it."""

from __future__ import annotations

import json
import os
from pathlib import Path

from mastertrade.cli.report_text import LastReport
from mastertrade.locations import locations
from mastertrade.utc import iso, parse_iso


def mark_file() -> Path:
    return locations().data_dir / "last-report.json"


def read_mark() -> LastReport | None:
    """The last report sent, or None: none yet, or a file that does not read as one (said on stderr by
    the caller as "no earlier report"; never a reason to fail the morning's report)."""
    try:
        data = json.loads(mark_file().read_text(encoding="utf-8"))
        return LastReport(
            sent_at=parse_iso(str(data["sent_at"])),
            equity=float(data["equity"]),
            book=str(data["book"]),
            quote=str(data["quote"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_mark(mark: LastReport) -> None:
    path = mark_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    document = {"sent_at": iso(mark.sent_at), "equity": mark.equity, "book": mark.book, "quote": mark.quote}
    part.write_text(json.dumps(document) + "\n", encoding="utf-8")
    os.replace(part, path)
