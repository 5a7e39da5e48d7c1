"""``SymbolPanel``: beside the watchlist on a wide screen, the selected symbol's position, the
strategies that trade it and its latest entries and exits."""

from __future__ import annotations

from rich.text import Text

from mastertrade.tui import format as fmt
from mastertrade.tui.state import LiveState
from mastertrade.tui.widgets.panel import StatePanel
from mastertrade.tui.widgets.theme import signed_tone, tone
from mastertrade.utc import from_ms

TRADING_STAGES = ("active", "paper")


class SymbolPanel(StatePanel):
    symbol: str | None = None

    def draw(self, state: LiveState, width: int) -> Text:
        app = self.app
        text = Text(no_wrap=True, overflow="ellipsis")
        symbol = self.symbol
        if symbol is None:
            return text
        text.append(f"{symbol}\n", tone(app, "text", bold=True))
        position = next((p for p in state.positions.value or [] if p.symbol == symbol), None)
        text.append("position  ", tone(app, "text-muted"))
        if position is None or not position.amount:
            text.append("none\n")
        else:
            text.append(f"{fmt.amount(position.amount)} at {fmt.price(position.average_price)}  ")
            text.append(fmt.signed_money(position.unrealised_pnl), signed_tone(app, position.unrealised_pnl))
            text.append("\n")
        trading = [
            s for s in state.strategies.value or [] if s.symbol == symbol and s.state in TRADING_STAGES
        ]
        text.append("trading   ", tone(app, "text-muted"))
        text.append(", ".join(f"{s.name} ({s.state})" for s in trading) or "no strategy")
        text.append("\n\n")
        text.append("Entries ▲ and exits ▼ (hollow: signal only)\n", tone(app, "text-muted"))
        ticker = state.tickers.get(symbol)
        markers = list(ticker.markers)[-8:][::-1] if ticker else []
        if not markers:
            text.append("none yet", tone(app, "text-muted"))
        for marker in markers:
            glyph = (
                ("▲" if marker.side == "buy" else "▼")
                if marker.kind == "fill"
                else ("△" if marker.side == "buy" else "▽")
            )
            when = from_ms(marker.ts).strftime("%m-%d %H:%M")
            text.append(
                f"{glyph} ", tone(app, "text-success" if marker.side == "buy" else "text-error", bold=True)
            )
            text.append(f"{when}  {fmt.price(marker.price)}  ")
            text.append(f"{marker.strategy_id or 'manual'}\n", tone(app, "text-muted"))
        return text
