"""The point of a per-interpreter GIL, measured: one CPU-bound pure-Python
job run K times, (a) one after another, (b) in K threads of one interpreter,
(c) in K own-GIL subinterpreters on K threads; side by side in one run, the
best of --repeat.  Run by the CPython under test (3.13+):

    ./python tests/isolation/speed.py --interpreters 2 [--repeat 3] [--size N]
"""
from __future__ import annotations

import argparse
import sys
import threading
import time

JOB = """
def job(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total
job(SIZE)
"""


def _timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def _in_threads(targets) -> None:
    barrier = threading.Barrier(len(targets))

    def call(target):
        barrier.wait()
        target()
    threads = [threading.Thread(target=call, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--interpreters", type=int, default=2, metavar="K")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--size", type=int, default=20_000_000)
    args = parser.parse_args(argv)
    import _interpreters
    code = JOB.replace("SIZE", str(args.size))
    k = args.interpreters
    ids = [_interpreters.create(_interpreters.new_config("isolated")) for _ in range(k)]
    runs = {
        "sequential": lambda: [exec(code, {}) for _ in range(k)],
        "threads": lambda: _in_threads([lambda: exec(code, {}) for _ in range(k)]),
        "interpreters": lambda: _in_threads([lambda i=i: _interpreters.exec(i, code) for i in ids]),
    }
    best = {name: min(_timed(run) for _ in range(args.repeat)) for name, run in runs.items()}
    for interp in ids:
        _interpreters.destroy(interp)
    print(f"speed: K={k}, job of {args.size:,} iterations, best of {args.repeat}")
    for name, seconds in best.items():
        print(f"speed: {name:>12}: {seconds:6.2f} s  speedup {best['sequential'] / seconds:4.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
