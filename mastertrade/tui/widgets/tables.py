"""``sync_rows``: bring a DataTable to a list of keyed rows with the fewest changes.

When the keys are the same as before (in order) only the cells that differ are rewritten; otherwise the
rows are rebuilt and the cursor goes back to the row it was on (by key), so a table refreshed every
second does not jump under the user's cursor.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

Row = tuple[str, Sequence[Text]]


def sync_rows(table: DataTable[Text], rows: Sequence[Row], memo: dict[str, tuple[str, ...]]) -> None:
    """``memo`` holds what each row shows now (the caller keeps it with the table)."""
    keys = [key for key, _cells in rows]
    columns = [column.key for column in table.ordered_columns]
    if keys == list(memo):
        for key, cells in rows:
            plain = tuple(cell.plain for cell in cells)
            if plain == memo[key]:
                continue
            for column, cell, old in zip(columns, cells, memo[key], strict=True):
                if cell.plain != old:
                    table.update_cell(key, column, cell, update_width=True)
            memo[key] = plain
        return
    selected: str | None = None
    if table.row_count:
        selected = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
    table.clear()
    memo.clear()
    for key, cells in rows:
        table.add_row(*cells, key=key)
        memo[key] = tuple(cell.plain for cell in cells)
    if selected in memo:
        table.move_cursor(row=keys.index(selected), animate=False)


def selected_key(table: DataTable[Text]) -> str | None:
    if not table.row_count:
        return None
    return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
