"""The rows of a trading book's tables: its positions and its orders, as the Orders & positions screen
(the account's book) and a strategy's detail (its paper book) show them, with the safety markers the
Overview counts."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.app import App

from mastertrade.engine.api.schemas_trading import OrderInfo, PositionInfo
from mastertrade.tui import format as fmt
from mastertrade.tui.widgets.tables import Row
from mastertrade.tui.widgets.theme import signed_tone, tone

POSITION_COLUMNS = ("Symbol", "Amount", "Avg price", "Mark", "Value", "Unrealised", "Realised")
ORDER_COLUMNS = (
    "Id",
    "Symbol",
    "Side",
    "Type",
    "Amount",
    "Price",
    "State",
    "Filled",
    "Avg fill",
    "Placed",
    "By",
)
""""Price" is the order's own (limit or stop; none for a market order), "Avg fill" the average price of
its fills, as `mt orders` has them. The last, "By" (the strategy or "manual"), only where orders of
several sources are listed."""

OPEN_STATES = frozenset({"open", "partially_filled", "sent", "unknown", "intent"})
"""Order states that may still fill (the journal's ``OrderState``s before an outcome)."""

NO_EXITS = "no exits"
MARKET_GONE = "market gone"


def markers(item: PositionInfo | OrderInfo) -> list[tuple[str, str]]:
    """(marker, full reason) for each safety fact the daemon set on a live position or order: no working
    exits at the exchange (``unprotected``, positions only), its market delisted (``market_gone``). Empty
    for every other row, so they look as they always did."""
    found: list[tuple[str, str]] = []
    unprotected = item.unprotected if isinstance(item, PositionInfo) else None
    if unprotected:
        found.append((NO_EXITS, unprotected))
    if item.market_gone:
        found.append((MARKET_GONE, item.market_gone))
    return found


def marked(items: Iterable[PositionInfo | OrderInfo], marker: str) -> int:
    """How many of ``items`` carry ``marker`` on their row (the Overview counts them)."""
    return sum(any(name == marker for name, _reason in markers(item)) for item in items)


def warning(item: PositionInfo | OrderInfo) -> str:
    """The full reasons of a row's markers, for the line under its table ("" when it has none)."""
    return "; ".join(f"{marker}: {reason}" for marker, reason in markers(item))


def _symbol_cell(app: App[object], item: PositionInfo | OrderInfo) -> Text:
    """The symbol, with "⚠ no exits" / "⚠ market gone" after it in the warning colour when set."""
    cell = Text(item.symbol, tone(app, "text", bold=True))
    found = markers(item)
    if found:
        cell.append(
            " ⚠ " + ", ".join(marker for marker, _reason in found), tone(app, "text-warning", bold=True)
        )
    return cell


def position_row(app: App[object], item: PositionInfo) -> Row:
    return (
        item.symbol,
        [
            _symbol_cell(app, item),
            Text(fmt.amount(item.amount), justify="right"),
            Text(fmt.price(item.average_price), justify="right"),
            Text(fmt.price(item.mark), justify="right"),
            Text(fmt.money(item.value) + (" at cost" if item.value_at_cost else ""), justify="right"),
            Text(
                fmt.signed_money(item.unrealised_pnl), signed_tone(app, item.unrealised_pnl), justify="right"
            ),
            Text(fmt.signed_money(item.realised_pnl), signed_tone(app, item.realised_pnl), justify="right"),
        ],
    )


def order_row(app: App[object], item: OrderInfo, *, by: bool = True) -> Row:
    side_tone = tone(app, "text-success" if item.side == "buy" else "text-error", bold=True)
    live = item.mode == "live"
    price = item.price if item.price is not None else item.stop_price
    return (
        str(item.id),
        [
            Text(str(item.id), justify="right"),
            _symbol_cell(app, item),
            Text(item.side, side_tone),
            Text(item.type + (" LIVE" if live else ""), tone(app, "text-error", bold=True) if live else ""),
            Text(_ordered(item), justify="right"),
            Text(fmt.price(price), justify="right"),
            Text(item.state, tone(app, "text-warning" if item.state in OPEN_STATES else "text-muted")),
            Text(fmt.amount(item.filled), justify="right"),
            Text(fmt.price(item.average_price), justify="right"),
            Text(fmt.ms_short(item.placed_ts), tone(app, "text-muted")),
            *([Text(item.strategy_id or "manual", tone(app, "text-muted"))] if by else []),
        ],
    )


def _ordered(item: OrderInfo) -> str:
    """The amount ordered; a strategy's order sized as a share of equity at the fill says so until then."""
    if item.amount is None and item.equity_fraction is not None:
        return f"{item.equity_fraction * 100:.4g}% of equity"
    return fmt.amount(item.amount)
