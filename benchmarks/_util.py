"""Small helpers the benchmarks share."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def timed(fn: Callable[[], object], repeat: int = 5) -> tuple[float, float]:
    """(best, median) wall time in seconds of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def command_time(args: list[str], repeat: int = 7, env: dict[str, str] | None = None) -> tuple[float, float]:
    """(best, median) wall time of running a command in a fresh process."""
    return timed(
        lambda: subprocess.run(args, check=True, capture_output=True, env=env or os.environ.copy()), repeat
    )


def installed_bytecode() -> None:
    """Compile MasterTrade's bytecode and let the commands the benchmarks run read it, as an installed
    MasterTrade does.

    ``pip``/``pipx install`` compiles every module's bytecode at install time, so a user's ``mt`` never
    compiles its own source. A source checkout's editable install has none until Python writes it on the
    first import, and an environment with ``PYTHONDONTWRITEBYTECODE`` set (as this sandbox and some CI
    images are) never writes it: every command would then compile some 100 of MasterTrade's modules
    again (0.1-0.15 s of each command's start-up, measured 2026-12-04), a cost no user pays. Compiled
    here as pip compiles it (``compileall``, into the ``__pycache__`` folders git ignores); the libraries
    in the environment were compiled when they were installed."""
    import compileall

    import mastertrade

    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.dont_write_bytecode = False
    compileall.compile_dir(str(Path(mastertrade.__file__).parent), quiet=1)


def mt_executable() -> str:
    return str(Path(sys.executable).with_name("mt"))


@contextmanager
def scratch_home() -> Iterator[Path]:
    """A throw-away MT_HOME, so benchmarks never touch the user's database."""
    with tempfile.TemporaryDirectory(prefix="mt-bench-") as home:
        old = os.environ.get("MT_HOME")
        os.environ["MT_HOME"] = home
        try:
            yield Path(home)
        finally:
            if old is None:
                os.environ.pop("MT_HOME")
            else:
                os.environ["MT_HOME"] = old


def report(name: str, value: float, unit: str, *, target: str = "", baseline: float | None = None) -> None:
    ratio = ""
    if baseline:
        speed = baseline / value
        if unit in ("s", "ms", "us"):
            ratio = (
                f"  ({speed:.1f}x faster than baseline)"
                if speed >= 1
                else f"  ({1 / speed:.1f}x the baseline's time)"
            )
        else:  # memory, a share of a core: less is better, but not "faster"
            ratio = (
                f"  ({speed:.1f}x less than the baseline)"
                if speed >= 1
                else f"  ({1 / speed:.1f}x the baseline's)"
            )
    goal = f"  [target {target}]" if target else ""
    print(f"{name:<52} {value:>10.4g} {unit}{ratio}{goal}", flush=True)
