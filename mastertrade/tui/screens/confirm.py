"""Confirmation dialogs. ``ConfirmScreen`` answers a yes/no question (``ModalScreen[bool]``); the
focus starts on the safe answer, so a stray Enter never confirms. ``QuitDemoScreen`` asks, when the
dashboard leaves a demo, whether the demo's daemon should stop too."""

from __future__ import annotations

from typing import Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

QuitChoice = Literal["stop", "leave", "stay"]


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [Binding("escape", "answer(False)", "Cancel"), Binding("y", "answer(True)", "Confirm")]

    def __init__(
        self,
        title: str,
        message: str,
        *,
        confirm: str = "Confirm",
        keep: str = "Cancel",
        danger: bool = False,
    ) -> None:
        """``keep`` names the safe answer where "Cancel" would be ambiguous (asked whether to cancel an
        order, "Cancel" reads as the way to do it)."""
        super().__init__(classes="dialog" + (" -danger" if danger else ""))
        self.title_text = title
        self.message = message
        self.confirm_label = confirm
        self.keep_label = keep
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box") as box:
            box.border_title = self.title_text
            yield Static(self.message, classes="dialog-message", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.keep_label} (esc)", id="cancel", variant="default")
                yield Button(
                    f"{self.confirm_label} (y)", id="confirm", variant="error" if self.danger else "primary"
                )

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class QuitDemoScreen(ModalScreen[QuitChoice]):
    BINDINGS = [
        Binding("escape", "choose('stay')", "Stay"),
        Binding("k", "choose('leave')", "Quit, keep it running"),
        Binding("s", "choose('stop')", "Stop it and quit"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box") as box:
            box.border_title = "Leave the demo"
            yield Static(
                "The demo's daemon keeps paper-trading in the background until it is stopped.\n"
                "Stop it as well?",
                classes="dialog-message",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Stay (esc)", id="stay")
                yield Button("Quit, keep it running (k)", id="leave", variant="primary")
                yield Button("Stop it and quit (s)", id="stop", variant="warning")

    def on_mount(self) -> None:
        self.add_class("dialog")
        self.query_one("#leave", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        choice: QuitChoice = (
            "stop" if event.button.id == "stop" else "leave" if event.button.id == "leave" else "stay"
        )
        self.dismiss(choice)

    def action_choose(self, choice: QuitChoice) -> None:
        self.dismiss(choice)
