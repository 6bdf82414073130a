"""Ctrl-C during a long count raises KeyboardInterrupt at once, and the run
stops: its threads end and the next count works."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from pathlib import Path
from typing import List

import pytest

import gpucount


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 16 MB of random words."""
    rng = random.Random(7)
    vocabulary = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz\u00e9\u00df\u03b1", k=rng.randint(1, 9))) for _ in range(5000)]
    path = tmp_path_factory.mktemp("interrupt") / "generated.txt"
    with path.open("w", encoding="utf-8") as f:
        for _ in range(40):
            f.write(" ".join(rng.choices(vocabulary, k=60_000)) + "\n")
    return path


def run_threads() -> List[str]:
    """The names of this process's threads that belong to a gpucount run."""
    names = []
    for comm in Path("/proc/self/task").glob("*/comm"):
        try:
            name = comm.read_text().strip()
        except OSError:  # the thread ended meanwhile
            continue
        if name.startswith("gpucount-"):
            names.append(name)
    return names


@pytest.mark.parametrize("how", ["pthread_kill", "os.kill"])
def test_sigint_interrupts_a_long_count(generated: Path, how: str) -> None:
    # Hundreds of passes over the file: far longer than the test waits.
    inputs = [generated] * 400

    def interrupt() -> None:
        if how == "pthread_kill":
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
        else:
            os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Timer(0.5, interrupt)
    start = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        try:
            gpucount.count(inputs, backend="cpu")
        finally:
            timer.join()
    waited = time.perf_counter() - start
    assert waited < 0.5 + 1.5, f"KeyboardInterrupt came {waited - 0.5:.2f} s after SIGINT"

    # The cancelled run stops: its threads end soon after.
    if Path("/proc/self/task").is_dir():
        deadline = time.monotonic() + 5
        while run_threads() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert run_threads() == []

    # And the next count works.
    assert gpucount.count_text("still counting").to_dict() == {"counting": 1, "still": 1}


def test_sigint_interrupts_a_count_on_the_gpu(gpu_adapter: dict, generated: Path) -> None:
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        try:
            gpucount.count([generated] * 400, backend="gpu")
        finally:
            timer.join()
    assert time.perf_counter() - start < 0.5 + 2.5
