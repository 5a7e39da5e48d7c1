"""``cli.runtime.run``: a command body's result comes back without being formatted on the way out."""

from __future__ import annotations

from mastertrade.cli.runtime import run


class Counted:
    """A result that counts how often it is written out with ``repr``."""

    def __init__(self) -> None:
        self.reprs = 0

    def __repr__(self) -> str:
        self.reprs += 1
        return "Counted()"


def test_run_hands_back_the_result_without_writing_it_out() -> None:
    # asyncio.run formats its task (and so the task's result) when it puts the SIGINT handler back;
    # a 500-strategy summary took 0.15 s to format
    result = Counted()

    async def body() -> Counted:
        return result

    assert run(body) is result
    assert result.reprs == 0
