"""Run the benchmarks: `python -m benchmarks` runs them all, `python -m benchmarks NAME ...` only those.

Each module in this folder with a `main()` is a benchmark; it prints its own figures, each next to the
baseline measured in the same run.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path


def available() -> list[str]:
    """The benchmark modules here, by name."""
    folder = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(folder)]) if not m.name.startswith("_"))


def main(names: list[str]) -> int:
    """Run the named benchmarks (all when none are named)."""
    known = available()
    unknown = sorted(set(names) - set(known))
    if unknown:
        print(f"unknown benchmark(s) {', '.join(unknown)}; available: {', '.join(known)}", file=sys.stderr)
        return 2
    for name in names or known:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"\n=== {name}: {(module.__doc__ or '').strip().splitlines()[0]}")
        started = time.perf_counter()
        module.main()
        print(f"--- {name} took {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
