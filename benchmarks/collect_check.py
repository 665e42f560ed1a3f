"""What checking collected items against a dict buffer's keys costs per collect().

Run from the repository root:

    .venv/bin/python benchmarks/collect_check.py          # full run
    .venv/bin/python benchmarks/collect_check.py --quick  # a second, for CI

``DataCollector.collect`` runs on the inference thread at every step. Since items
are checked against the buffer's keys there (so a wrong item fails in the agent
that collected it), this measures three collectors, taking turns in each round:

- ``unchecked``: the collect() of before the check (lock, append), as a subclass;
- ``no keys``: today's collect() for a buffer that declares no keys;
- ``4 keys``: today's collect() for a dict buffer, with a 4-key dict item.

Each case keeps its fastest repeat; the ratios compare cases of the same run. The
script never fails on a number; it only reports.
"""

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from _machine import describe_machine
from pamiq_core.data import DataCollector, DataUser
from pamiq_core.data.impls import DictSequentialBuffer, SequentialBuffer

KEYS = ("obs", "action", "reward", "done")
QUEUE = 1000


class UncheckedCollector(DataCollector[Any]):
    """collect() as it was before items were checked."""

    def collect(self, data: Any) -> None:
        with self._lock:
            self._queue.append(data)


def collects(collector: DataCollector[Any], item: object, n: int) -> Callable[[], None]:
    def run() -> None:
        collect = collector.collect
        for _ in range(n):
            collect(item)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run, for CI")
    args = parser.parse_args()
    repeats, n = (3, 20_000) if args.quick else (30, 200_000)

    item = dict.fromkeys(KEYS, 0.0)
    keyed = DataUser(DictSequentialBuffer[float](KEYS, QUEUE))._collector  # pyright: ignore[reportPrivateUsage]
    plain = DataUser(SequentialBuffer[object](QUEUE))._collector  # pyright: ignore[reportPrivateUsage]
    runs = {
        "unchecked": collects(UncheckedCollector(QUEUE), item, n),
        "no keys": collects(plain, item, n),
        "4 keys": collects(keyed, item, n),
    }
    best = dict.fromkeys(runs, float("inf"))
    worst = dict.fromkeys(runs, 0.0)
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            elapsed = time.perf_counter() - start
            best[name] = min(best[name], elapsed)
            worst[name] = max(worst[name], elapsed)

    print(describe_machine())
    print(f"{n} collects per repeat, {repeats} repeats, the cases taking turns\n")
    print("| collector | ns per collect (best) | (worst) | best vs unchecked |")
    print("| --- | --- | --- | --- |")
    base = best["unchecked"]
    for name in runs:
        print(
            f"| {name} | {best[name] / n * 1e9:.0f} | {worst[name] / n * 1e9:.0f} "
            f"| {best[name] / base:.2f}x |"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
