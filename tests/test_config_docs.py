"""Each setting's documentation is the docstring under its attribute, read when a config file is rendered
(not at every start-up, see ``mastertrade/config_docs.py``)."""

from __future__ import annotations

import subprocess
import sys

from mastertrade.config_docs import attribute_docs


class Base:
    inherited: int = 1
    """From the base,
        over two lines."""


class Child(Base):
    plain: int = 2
    documented: str = "x"
    """Said here."""

    not_a_field = 3
    """Not annotated: not a setting."""


def test_docstrings_under_annotated_attributes_are_read_with_the_bases() -> None:
    found = attribute_docs(Child)
    assert found == {"inherited": "From the base,\nover two lines.", "documented": "Said here."}


def test_loading_the_settings_reads_no_source() -> None:
    script = (
        "import inspect, sys\n"
        "calls = []\n"
        "real = inspect.findsource\n"
        "inspect.findsource = lambda *a, **k: calls.append(a) or real(*a, **k)\n"
        "from mastertrade.config import Settings\n"
        "Settings()\n"
        "print(len(calls))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True)
    assert out.stdout.split() == ["0"]
