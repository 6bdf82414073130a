#!/usr/bin/env python3
"""How close `-j2` comes to what two cores of this machine give at all.

    scripts/thread-ceiling.py ROUNDS BINARY FILE

Interleaved rounds of: one `-j1` count alone, two `-j1` counts at once (no
shared state, no serial part: the machine's own ceiling for two threads on
this work), and one `-j2` count. Prints the medians and, as medians of
per-round ratios, the ceiling (2 x alone / pair) and `-j2` against `-j1`.
"""
import statistics
import subprocess
import sys
import time

rounds, binary, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]


def count(threads):
    return [binary, "--backend", "cpu", "-j", str(threads), path]


def wall(commands):
    start = time.perf_counter()
    for p in [subprocess.Popen(c, stdout=subprocess.DEVNULL) for c in commands]:
        p.wait()
    return time.perf_counter() - start


for _ in range(3):
    wall([count(1)]), wall([count(2)])
alone, pair, two = [], [], []
for _ in range(rounds):
    alone.append(wall([count(1)]))
    pair.append(wall([count(1), count(1)]))
    two.append(wall([count(2)]))
median = statistics.median
print(f"-j1 alone {median(alone) * 1e3:.1f} ms, two -j1 at once {median(pair) * 1e3:.1f} ms, -j2 {median(two) * 1e3:.1f} ms")
print(
    f"ceiling {median([2 * a / p for a, p in zip(alone, pair)]):.3f}x, "
    f"-j2 against -j1 {median([a / t for a, t in zip(alone, two)]):.3f}x"
)
