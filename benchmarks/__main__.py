"""Run every benchmark module in turn."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time

import benchmarks
from benchmarks._util import installed_bytecode


def main() -> None:
    only = set(sys.argv[1:])
    installed_bytecode()  # the commands run start as an installed `mt` does
    for info in pkgutil.iter_modules(benchmarks.__path__):
        if info.name.startswith("_") or (only and info.name not in only):
            continue
        print(f"\n=== {info.name} ===", flush=True)
        started = time.perf_counter()
        importlib.import_module(f"benchmarks.{info.name}").main()
        print(f"({time.perf_counter() - started:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
