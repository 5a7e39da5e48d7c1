"""``mt report [--since DATE] [--send] [--json]``: the morning report (``report_text.py``), printed, or
sent through the alert targets with ``--send`` (what the crontab of ``mt examples`` runs each morning).

The period it covers (the fills and alerts it counts) starts at the last report sent, else 24 hours
ago, or at ``--since``; the equity's change is measured from the last report sent. A report sent is
remembered (``report_mark.py``) only once it reached every target: a failed delivery exits 1 and the
next report still covers the whole period since the last one the trader read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from mastertrade.cli.daemon import with_client
from mastertrade.cli.output import JsonOption, info, print_json, stdout

if TYPE_CHECKING:
    from mastertrade.cli.report_text import ReportInputs
    from mastertrade.client import DaemonClient
    from mastertrade.engine.api.schemas import AlertInfo

TITLE = "MasterTrade daily report"
FILLS_LIMIT = 1000
ALERTS_LIMIT = 1000


def report(
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Count fills and alerts from this moment (ISO-8601, UTC); default: the last report sent, "
            "else 24 h ago.",
        ),
    ] = None,
    send: Annotated[
        bool,
        typer.Option("--send", help="Send it through the alert targets ([alerts] urls) and remember it."),
    ] = False,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """The morning report: equity and its change, P&L, positions, fills, risk and prices; --send sends it.

    Equity's change is since the last report sent; the fills and alerts counted are those since --since,
    else since the last report sent, else of the last 24 h. Prices are rounded to the market's tick when
    the exchange says it, else to six significant digits."""
    from datetime import UTC, datetime, timedelta

    from mastertrade.cli.report_mark import read_mark, write_mark
    from mastertrade.cli.report_text import LastReport, report_text
    from mastertrade.errors import OperationFailed, UserInputError
    from mastertrade.utc import iso, parse_iso

    now = datetime.now(UTC)
    last = read_mark()
    if since is not None:
        try:
            start = parse_iso(since)
        except ValueError:
            raise UserInputError(
                f"invalid --since {since!r}: expected ISO-8601, like 2026-12-04T06:30:00Z"
            ) from None
        if start > now:
            raise UserInputError(f"invalid --since {since!r}: it is in the future")
    else:
        start = last.sent_at if last is not None else now - timedelta(hours=24)

    async def gather(client: DaemonClient) -> tuple[ReportInputs, str, AlertInfo | None]:
        from mastertrade.cli.config_drift import warn_if_changed
        from mastertrade.cli.report_text import ReportInputs

        status = await client.status()
        # The daemon read the files at its start: the limits printed and the targets sent to are those.
        # Said before sending, so "no alert targets" after a target was just added explains itself.
        warn_if_changed(status.config_digest)
        inputs = ReportInputs(
            now=now,
            since=start,
            last=last,
            status=status,
            balance=await client.balance(),
            positions=await client.positions(),
            risk=await client.risk_status(),
            fills=await client.fills(since=start, limit=FILLS_LIMIT),
            fills_limit=FILLS_LIMIT,
            alerts=await client.alert_history(limit=ALERTS_LIMIT),
            alerts_limit=ALERTS_LIMIT,
        )
        text = report_text(inputs)
        return inputs, text, await client.send_report(TITLE, text) if send else None

    inputs, text, sent = with_client(gather, timeout_s=70.0)
    if json_out:
        document = {
            "text": text,
            "since": iso(start),
            "last_report": iso(last.sent_at) if last is not None else None,
            "sent": sent.model_dump(mode="json") if sent is not None else None,
        }
        print_json(document)
    elif not send:
        stdout().print(text, markup=False, highlight=False, end="", soft_wrap=True)
    if sent is None:
        return
    if sent.status != "delivered":
        raise OperationFailed(f"the report did not reach every alert target: {sent.error}")
    balance = inputs.balance
    write_mark(LastReport(sent_at=now, equity=balance.equity, book=balance.book, quote=balance.quote))
    if not json_out:
        info(f"report sent to every alert target ({len(sent.targets)})")
