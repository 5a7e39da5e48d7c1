"""`mt --help` cold start (target < 0.3 s), against a bare interpreter and an eager `import pandas`."""

from __future__ import annotations

import sys

from benchmarks._util import command_time, mt_executable, report


def main() -> None:
    bare, _ = command_time([sys.executable, "-c", "pass"])
    pandas, _ = command_time([sys.executable, "-c", "import pandas, ccxt"])
    best, median = command_time([mt_executable(), "--help"])
    report("python -c pass (floor)", bare, "s")
    report("python -c 'import pandas, ccxt' (eager CLI baseline)", pandas, "s")
    report("mt --help (best)", best, "s", target="< 0.3 s", baseline=pandas)
    report("mt --help (median)", median, "s")


if __name__ == "__main__":
    main()
